from django.urls import path

from payments import views

app_name = "payments"

urlpatterns = [
    path("api/v2/webhooks/stripe", views.stripe_webhook, name="stripe-webhook"),
]
