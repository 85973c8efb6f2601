"""Reads of orders for shoppers: their own orders, described in customer words."""

from django.db.models import QuerySet

from orders.models import Order, Status

# What a shopper sees for each order status. Internal detail (feed order state, feed
# errors, payment intent ids) never reaches the storefront: a paid order is "Processing"
# whether or not the supplier order has gone through yet.
CUSTOMER_STATUS_LABELS = {
    Status.PENDING_PAYMENT: "Awaiting payment",
    Status.PAID: "Processing",
    Status.CONFIRMED: "Confirmed",
    Status.FAILED: "Payment failed",
    Status.EXPIRED: "Checkout expired",
    Status.CANCELLED: "Refunded",
}
UNKNOWN_STATUS_LABEL = "Processing"


def order_customer_status_label(*, order: Order) -> str:
    return CUSTOMER_STATUS_LABELS.get(order.status, UNKNOWN_STATUS_LABEL)


def order_list_for_customer(*, user) -> QuerySet[Order]:
    """The shopper's own orders, newest first, with their diamonds."""
    return (
        Order.objects.filter(user=user)
        .select_related("diamond")
        .order_by("-created_at", "-order_number")
    )
