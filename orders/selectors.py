"""Reads of orders for shoppers: their own orders, described in customer words.

`order_shopper_status` is the one place that turns an order's state into what a shopper reads
(SPEC Part 2, "Shopper words"): the orders list, the order page, the success page and the
emails all use it. Internal detail (the feed order's state and errors, payment intent ids)
never reaches a shopper: a paid order is "Processing" whatever the supplier order did.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from orders.models import Order, OrderEvent, PaymentStatus, Status

# The timeline kind `order_note_awaiting_payment` writes: Checkout completed by a delayed
# payment method (e.g. a bank debit) that settles later.
PAYMENT_PROCESSING_EVENT = "payment_processing"


@dataclass(frozen=True)
class ShopperStatus:
    label: str  # the words in the badge
    detail: str  # one or two calm sentences under it
    can_complete_payment: bool  # offer *Complete payment* (the checkout is still open)
    tone: str = "neutral"  # badge colour: ok, pending, bad, neutral


def order_payment_processing(*, order: Order) -> bool:
    """Checkout was completed with a delayed payment method that has not settled yet."""
    annotated = getattr(order, "payment_processing", None)
    if annotated is not None:
        return bool(annotated)
    return order.events.filter(kind=PAYMENT_PROCESSING_EVENT).exists()


def order_checkout_open_until(*, order: Order) -> datetime:
    return order.created_at + timedelta(minutes=settings.CHECKOUT_EXPIRY_MINUTES)


def order_refunded_cents(*, order: Order) -> int:
    """What was refunded: the order's own record once it keeps one, else all of it when the
    payment is marked refunded."""
    recorded = getattr(order, "amount_refunded_cents", None)
    if recorded:
        return int(recorded)
    return order.amount_cents if order.payment_status == PaymentStatus.REFUNDED else 0


def time_zone_label() -> str:
    """How shopper pages name the zone their times are in."""
    return {"Pacific/Auckland": "New Zealand time", "UTC": "UTC"}.get(
        settings.TIME_ZONE, f"{settings.TIME_ZONE} time"
    )


def money_display(cents: int, currency: str = "nzd") -> str:
    return f"${cents / 100:,.2f} {currency.upper()}"


def order_shopper_status(*, order: Order) -> ShopperStatus:
    status = order.status
    if status == Status.PENDING_PAYMENT:
        if order_payment_processing(order=order):
            return ShopperStatus(
                "Payment processing",
                "Your payment method takes a little while to settle. We'll email you as soon "
                "as it has; there is nothing more you need to do.",
                can_complete_payment=False,
                tone="pending",
            )
        is_open = timezone.now() < order_checkout_open_until(order=order)
        return ShopperStatus(
            "Awaiting payment",
            "We're holding this diamond for you while your checkout is open."
            if is_open
            else "Your checkout has closed without a payment. You have not been charged.",
            can_complete_payment=is_open,
            tone="pending",
        )
    if status == Status.PAID:
        return ShopperStatus(
            "Processing",
            "Thank you — we've received your payment and are preparing your diamond. "
            "We'll email you when your order is confirmed.",
            can_complete_payment=False,
            tone="ok",
        )
    if status == Status.CONFIRMED:
        return ShopperStatus(
            "Confirmed",
            "Your order is confirmed and your diamond is being prepared for insured shipping.",
            can_complete_payment=False,
            tone="ok",
        )
    if status == Status.FAILED:
        return ShopperStatus(
            "Payment failed",
            "Your payment didn't go through, so you have not been charged.",
            can_complete_payment=False,
            tone="bad",
        )
    if status == Status.EXPIRED:
        return ShopperStatus(
            "Checkout expired",
            "The checkout closed before a payment was made. You have not been charged.",
            can_complete_payment=False,
            tone="bad",
        )
    if status == Status.CANCELLED:
        refunded = order_refunded_cents(order=order)
        detail = (
            f"This order was cancelled and {money_display(refunded, order.currency)} was "
            "refunded to your payment method. Refunds usually show within 5 to 10 business days."
            if refunded
            else "This order was cancelled and nothing was charged."
        )
        return ShopperStatus("Cancelled", detail, can_complete_payment=False, tone="neutral")
    return ShopperStatus(
        "Processing",
        "We're looking after your order. We'll email you about any change.",
        can_complete_payment=False,
        tone="pending",
    )


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
    name = getattr(order, "shipping_name", "") or ""
    return [line for line in [name.strip(), *lines] if line]


COUNTRY_NAMES = {"NZ": "New Zealand", "AU": "Australia"}
ORDER_NUMBER_SHAPE = re.compile(r"[A-Za-z0-9-]{1,20}")

# The timeline entries a shopper may see, in their words. Everything else (feed orders,
# retries, resolutions, mismatches) is for ops only.
SHOPPER_TIMELINE = {
    "checkout_created": "Order placed",
    "payment_processing": "Payment submitted — waiting for it to settle",
    "paid": "Payment received",
    "feed_order_succeeded": "Order confirmed",
    "payment_failed": "Payment failed",
    "checkout_expired": "Checkout expired",
    "refunded": "Refund issued",
    "partially_refunded": "Partial refund issued",
    "voided": "Order cancelled — nothing charged",
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
    """Stripe's receipt for the payment (the charge's `receipt_url`), when there is one.

    Hook: the order does not keep it yet. Once fulfilment records the charge's receipt URL on
    the order (as `stripe_receipt_url`), it is shown; until then this answers "".
    """
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


def order_for_customer(*, user, order_number) -> Order | None:
    """The shopper's own order by number; None for anyone else's (no hint it exists)."""
    if not isinstance(order_number, str) or not ORDER_NUMBER_SHAPE.fullmatch(order_number):
        return None
    return order_list_for_customer(user=user).filter(order_number=order_number).first()
