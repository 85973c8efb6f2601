"""The order's Slack alerts, built here and handed to the outbox (which knows no orders)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.urls import reverse

from notifications.models import Category
from notifications.outbox import slack_message_create
from orders.advice import order_advice
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


def _alert(order: Order, *, category: str, title: str, text: str, extra=(), dedupe_key=None):
    return slack_message_create(
        category=category,
        title=title,
        text=text,
        fields=[*_order_fields(order), *extra],
        reference=order.order_number or "",
        link=order_admin_url(order),
        dedupe_key=dedupe_key,
    )


def alert_feed_failure(*, order: Order):
    return _alert(
        order,
        category=Category.ORDER_FEED_FAILURE,
        title=f"Feed order failed for {order.order_number}",
        text=order.feed_order_error,
        extra=[("Error", order.feed_order_error), ("What to do", order_advice(order=order))],
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


def alert_capture_failed(*, order: Order):
    return _alert(
        order,
        category=Category.ORDER_PAYMENT_FAILURE,
        title=f"Capture failed for {order.order_number}: the money is still only held",
        text=order.payment_error,
        extra=[("Feed order ID", order.feed_order_id), ("Error", order.payment_error)],
    )


def alert_dispute(*, order: Order, dispute_id: str):
    due = order.dispute_evidence_due_by
    return _alert(
        order,
        category=Category.ORDER_DISPUTE,
        title=f"Dispute opened on {order.order_number}",
        text=f"The customer disputed the payment ({order.dispute_status.replace('_', ' ')}).",
        extra=[("Evidence due by", f"{due:%Y-%m-%d %H:%M} UTC" if due else "—")],
        dedupe_key=f"dispute-opened-{dispute_id}",
    )


def alert_stripe_mismatch(*, order: Order, problem: str):
    digest = hashlib.sha256(problem.encode()).hexdigest()[:16]
    return _alert(
        order,
        category=Category.ORDER_PAYMENT_FAILURE,
        title=f"Stripe reported what {order.order_number} cannot book",
        text=f"{problem} Check the payment in Stripe, then resolve.",
        dedupe_key=f"stripe-mismatch-{order.pk}-{digest}",
    )


def alert_fraud_warning(*, order: Order, stopped: bool):
    return _alert(
        order,
        dedupe_key=f"fraud-warning-{order.pk}",
        category=Category.ORDER_DISPUTE,
        title=f"Early fraud warning on {order.order_number}",
        text=(
            "The supplier order was stopped before it was placed: retry to place it anyway, "
            "or cancel the order."
            if stopped
            else "The supplier order was already placed or on its way: review the order."
        ),
    )


def alert_authorization_expiring(*, order: Order):
    """Once per order."""
    return _alert(
        order,
        category=Category.ORDER_PAYMENT_FAILURE,
        title=f"Authorisation for {order.order_number} expires soon: capture or cancel",
        text=(
            "The payment is only authorised. Card authorisations lapse after about 7 days; "
            "then the money is released and the order cannot be charged."
        ),
        dedupe_key=f"authorization-expiring-{order.pk}",
    )


def alert_stone_shipped(*, order: Order, tracking_url: str):
    """Once per order."""
    return _alert(
        order,
        category=Category.ORDER_FULFILMENT,
        title=f"Order {order.order_number} shipped",
        text=f"Shipped with {order.carrier}, tracking number {order.tracking_number}.",
        extra=[("Tracking", tracking_url or order.tracking_number)],
        dedupe_key=f"shipped-{order.pk}",
    )


def alert_return_requested(*, order: Order):
    """Once per order."""
    return _alert(
        order,
        category=Category.ORDER_FULFILMENT,
        title=f"Return requested for {order.order_number}: approve it",
        text=order.return_reason,
        extra=[("Reason", order.return_reason)],
        dedupe_key=f"return-requested-{order.pk}",
    )
