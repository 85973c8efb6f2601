"""The order's Slack alerts, built here and handed to the outbox (which knows no orders)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from notifications.models import Category
from notifications.outbox import slack_message_create
from orders.models import Order


def order_admin_url(order: Order) -> str:
    return settings.STOREFRONT_URL + reverse("admin:orders_order_change", args=[order.pk])


def _order_fields(order: Order) -> list[tuple[str, object]]:
    diamond = order.diamond
    return [
        ("Order", order.order_number),
        ("Diamond", f"{diamond} ({diamond.id})"),
        ("Feed", order.feed),
        ("Offer ID", order.offer_id or "—"),
        ("Amount", order.amount_display),
        ("Payment intent", order.stripe_payment_intent_id or "—"),
        ("Admin", order_admin_url(order)),
    ]


def _alert(order: Order, *, category: str, title: str, text: str, extra=()):
    return slack_message_create(
        category=category,
        title=title,
        text=text,
        fields=[*_order_fields(order), *extra],
        reference=order.order_number or "",
        link=order_admin_url(order),
    )


def alert_feed_failure(*, order: Order):
    return _alert(
        order,
        category=Category.ORDER_FEED_FAILURE,
        title=f"Feed order failed for {order.order_number}",
        text=order.feed_order_error,
        extra=[("Error", order.feed_order_error)],
    )


def alert_placed_after_refund(*, order: Order):
    return _alert(
        order,
        category=Category.ORDER_FEED_FAILURE,
        title=f"Supplier order placed for refunded order {order.order_number}",
        text=(
            f"Feed order {order.feed_order_id} went through with {order.feed} after the "
            "payment was refunded: the store has bought this stone. Cancel it with the "
            "supplier or sell it again."
        ),
        extra=[("Feed order ID", order.feed_order_id)],
    )


def alert_order_completed(*, order: Order):
    return _alert(
        order,
        category=Category.ORDER_COMPLETED,
        title=f"Order {order.order_number} confirmed",
        text=f"Feed order {order.feed_order_id} placed with {order.feed}.",
        extra=[("Feed order ID", order.feed_order_id)],
    )
