from django.urls import path

from payments import views

app_name = "payments"

urlpatterns = [
    path("checkout/create/", views.checkout_create_view, name="checkout-create"),
    path("checkout/success/", views.checkout_success_view, name="checkout-success"),
    path(
        "checkout/simulator/<str:session_id>/",
        views.checkout_simulator_view,
        name="checkout-simulator",
    ),
    path("api/v2/checkout/create", views.api_checkout_create_view, name="api-checkout-create"),
    path("api/v2/webhooks/stripe", views.stripe_webhook, name="stripe-webhook"),
]
