from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [
    path("account/orders/", views.order_list_view, name="list"),
    path("account/orders/<str:order_number>/", views.order_detail_view, name="detail"),
    path(
        "account/orders/<str:order_number>/invoice/",
        views.order_invoice_view,
        name="invoice",
    ),
    path(
        "account/orders/<str:order_number>/return/",
        views.order_return_request_view,
        name="return",
    ),
]
