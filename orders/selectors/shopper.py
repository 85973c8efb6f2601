"""What a shopper reads about their own orders: the state table's words for an order plus
what only a read can know (whether the checkout is still open, what was refunded), the
shopper's timeline, the shipping address as they read it, their orders.

Internal detail (the feed order's state and errors, payment intent ids) never reaches a
shopper: a paid order is "Processing" whatever the supplier order did.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from accounts.selectors import customer_name
from core.money import money_display
from gateway.base import checkout_lifetime
from orders.models import FulfilmentStatus, Order, OrderEvent, Status
from orders.states import SHOPPER_WORDS, ShopperStatus, shopper_status

# The timeline kind `order_note_awaiting_payment` writes: Checkout completed by a delayed
# payment method (e.g. a bank debit) that settles later.
PAYMENT_PROCESSING_EVENT = "payment_processing"


def order_payment_processing(*, order: Order) -> bool:
    """Checkout was completed with a delayed payment method that has not settled yet."""
    if order.status != Status.PENDING_PAYMENT:
        return False
    annotated = getattr(order, "payment_processing", None)
    if annotated is not None:
        return bool(annotated)
    return order.events.filter(kind=PAYMENT_PROCESSING_EVENT).exists()


def order_checkout_expires_at(*, order: Order) -> datetime:
    """When the order's Checkout Session closes: its `expires_at` at Stripe."""
    return order.created_at + checkout_lifetime()


def order_checkout_closed(*, order: Order, now: datetime | None = None) -> bool:
    """An order still waiting for payment whose checkout is past its `expires_at` (and no
    delayed payment was submitted): it is expired, whether or not Stripe's event or
    reconciliation has reached the order yet."""
    if order.status != Status.PENDING_PAYMENT:
        return False
    now = now or timezone.now()
    return now >= order_checkout_expires_at(order=order) and not order_payment_processing(
        order=order
    )


def time_zone_label() -> str:
    """How shopper pages name the zone their times are in."""
    return {"Pacific/Auckland": "New Zealand time", "UTC": "UTC"}.get(
        settings.TIME_ZONE, f"{settings.TIME_ZONE} time"
    )


def order_shopper_status(*, order: Order, now: datetime | None = None) -> ShopperStatus:
    """The shopper's words for `order` at `now`: the one place every shopper page, template
    tag and email takes them from. The state table's words, plus what only the clock and a
    read know (a checkout past its `expires_at` is expired, what was refunded)."""
    if order_checkout_closed(order=order, now=now):
        return SHOPPER_WORDS[Status.EXPIRED]
    words = shopper_status(order, payment_processing=order_payment_processing(order=order))
    if order.status == Status.CANCELLED and order.fulfilment_status == FulfilmentStatus.RETURNED:
        refunded = money_display(order.refunded_cents, order.currency)
        return replace(
            words,
            label="Returned",
            detail=f"We received your diamond back and refunded {refunded} to your payment "
            "method. Refunds usually show within 5 to 10 business days.",
        )
    if order.status == Status.CANCELLED:
        refunded = order.refunded_cents
        detail = (
            f"This order was cancelled and {money_display(refunded, order.currency)} was "
            "refunded to your payment method. Refunds usually show within 5 to 10 business "
            "days."
            if refunded
            else "This order was cancelled and nothing was charged."
        )
        return replace(words, detail=detail)
    return words


def shipping_address_lines(*, order: Order) -> list[str]:
    """The order's shipping address as a shopper reads it, one line each (empty parts left
    out); `[]` until the order keeps one."""
    address = getattr(order, "shipping_address", None)
    address = address if isinstance(address, dict) else {}

    def part(name: str) -> str:
        value = address.get(name)
        return value.strip() if isinstance(value, str) else ""

    city = " ".join(p for p in (part("city"), part("postal_code")) if p)
    country = COUNTRY_NAMES.get(part("country"), part("country"))
    lines = [part("line1"), part("line2"), city, part("state"), country]
    if not any(lines[:4]):
        return []
    return [line for line in [order_shipping_name(order=order), *lines] if line]


def order_shipping_name(*, order: Order) -> str:
    """Who the stone ships to: the name given at Checkout, else the customer's own."""
    return (order.shipping_name or "").strip() or customer_name(order.user)


COUNTRY_NAMES = {"NZ": "New Zealand", "AU": "Australia"}
ORDER_NUMBER_SHAPE = re.compile(r"[A-Za-z0-9-]{1,20}")

# The timeline entries a shopper may see, in their words. Everything else (feed orders,
# retries, resolutions, mismatches) is for ops only.
SHOPPER_TIMELINE = {
    "checkout_created": "Order placed",
    "payment_processing": "Payment submitted — waiting for it to settle",
    "paid": "Payment received",
    "authorized": "Payment authorised — charged once your diamond is confirmed",
    "captured": "Order confirmed — payment taken",
    "feed_order_succeeded": "Order confirmed",
    "payment_failed": "Payment failed",
    "checkout_expired": "Checkout expired",
    "refunded": "Refund issued",
    "partially_refunded": "Partial refund issued",
    "voided": "Order cancelled — nothing charged",
    # The stone's way (orders/fulfilment.py).
    "stone_received": "Your diamond reached us and matched its grading report",
    "shipped": "Shipped",
    "delivered": "Delivered",
    "return_requested": "Return requested",
    "return_approved": "Return approved",
    "returned": "Return received",
}


def order_shopper_timeline(*, order: Order) -> list[tuple[datetime, str]]:
    """When each shopper-visible step happened, oldest first, each step once."""
    seen, steps = set(), []
    for event in order.events.filter(kind__in=SHOPPER_TIMELINE).order_by("created_at", "id"):
        if event.kind not in seen:
            seen.add(event.kind)
            steps.append((event.created_at, SHOPPER_TIMELINE[event.kind]))
    return steps


def order_receipt_url(*, order: Order) -> str:
    """Stripe's receipt for the payment (the charge's `receipt_url`, recorded from the
    `charge.succeeded` / `charge.captured` events), when there is one."""
    url = getattr(order, "stripe_receipt_url", "") or ""
    return url if url.startswith("https://") else ""


def order_list_for_customer(*, user) -> QuerySet[Order]:
    """The shopper's own orders, newest first, with their diamonds."""
    return (
        Order.objects.filter(user=user)
        .select_related("diamond")
        .annotate(
            payment_processing=Exists(
                OrderEvent.objects.filter(order=OuterRef("pk"), kind=PAYMENT_PROCESSING_EVENT)
            )
        )
        .order_by("-created_at", "-order_number")
    )


@dataclass(frozen=True)
class OrderRow:
    """One purchase in *My orders*: the latest order of a stone, and the earlier attempts at
    it that came to nothing (failed or expired checkouts), folded beneath it."""

    order: Order
    status: ShopperStatus
    earlier: list[tuple[Order, ShopperStatus]] = field(default_factory=list)


# Attempts that came to nothing: folded under the shopper's later order of the same stone.
NOTHING_CAME_OF_IT = ("Payment failed", "Checkout expired")


def order_rows_for_customer(*, user, now: datetime | None = None) -> list[OrderRow]:
    """The shopper's purchases, newest first: one row per stone bought or being bought, each
    with the earlier failed or expired attempts at that stone folded under it."""
    now = now or timezone.now()
    rows: list[OrderRow] = []
    latest: dict = {}  # diamond id → the row of its newest order
    for order in order_list_for_customer(user=user):
        status = order_shopper_status(order=order, now=now)
        row = latest.get(order.diamond_id)
        if row is not None and status.label in NOTHING_CAME_OF_IT:
            row.earlier.append((order, status))
            continue
        row = OrderRow(order=order, status=status)
        latest[order.diamond_id] = row
        rows.append(row)
    return rows


def order_for_customer(*, user, order_number) -> Order | None:
    """The shopper's own order by number; None for anyone else's (no hint it exists)."""
    if not isinstance(order_number, str) or not ORDER_NUMBER_SHAPE.fullmatch(order_number):
        return None
    return order_list_for_customer(user=user).filter(order_number=order_number).first()
