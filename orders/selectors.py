"""Reads of orders: for shoppers (their own orders, in customer words) and for ops."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import BooleanField, Case, Q, QuerySet, Value, When
from django.urls import reverse
from django.utils import timezone

from catalog.models import Availability, Diamond, Feed
from orders.models import Order, Status
from orders.states import attention_q

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


# ---------------------------------------------------------------- the diamond page

RESERVED_BY_OTHER = (
    "Another customer is checking out this diamond. It may become available again shortly."
)
UNAVAILABLE_REASONS = {
    Availability.RESERVED: "This diamond has been reserved by another customer.",
    Availability.SOLD: "This diamond has been sold.",
    Availability.ON_HOLD: (
        "This diamond is on hold with our supplier and can't be purchased right now. "
        "Please check back later."
    ),
    Availability.UNAVAILABLE: "This diamond is no longer available.",
}
NO_PRICE_REASON = "This diamond can't be purchased online right now."


@dataclass(frozen=True)
class PurchaseState:
    """Whether the shopper can buy the stone now and, if not, why (in customer words);
    `order` is the shopper's own order of it, when there is one."""

    purchasable: bool
    reason: str = ""
    own_checkout_open: bool = False
    order: Order | None = None


def diamond_purchase_state(*, diamond: Diamond, user) -> PurchaseState:
    """What the diamond page tells this shopper: their own purchase or open checkout of it,
    "reserved by another customer" only to others."""
    if diamond.availability == Availability.AVAILABLE:
        price = diamond.price
        if price is None or price <= Decimal("0"):
            return PurchaseState(purchasable=False, reason=NO_PRICE_REASON)
        return PurchaseState(purchasable=True)
    live = Order.objects.filter(diamond=diamond, status__in=LIVE_STATUSES).order_by("-created_at")
    own = live.filter(user=user).first() if user.is_authenticated else None
    if own is not None and own.status == Status.PENDING_PAYMENT:
        if order_payment_processing(order=own):
            reason = (
                f"Your payment for this diamond is being processed — order {own.order_number}. "
                "We'll email you as soon as it clears."
            )
            return PurchaseState(purchasable=False, reason=reason, order=own)
        reason = (
            f"Your checkout is open — order {own.order_number}. The diamond is held for you "
            "while you complete the payment."
        )
        return PurchaseState(purchasable=False, reason=reason, own_checkout_open=True, order=own)
    if own is not None:
        return PurchaseState(
            purchasable=False,
            reason=f"You bought this diamond — order {own.order_number}.",
            order=own,
        )
    if (
        diamond.availability == Availability.RESERVED
        and live.filter(status=Status.PENDING_PAYMENT).exists()
    ):
        return PurchaseState(purchasable=False, reason=RESERVED_BY_OTHER)
    return PurchaseState(
        purchasable=False,
        reason=UNAVAILABLE_REASONS.get(
            diamond.availability, UNAVAILABLE_REASONS[Availability.UNAVAILABLE]
        ),
    )


# An order that holds or has bought its diamond.
LIVE_STATUSES = (Status.PENDING_PAYMENT, Status.PAID, Status.CONFIRMED)


def order_payment_processing(*, order: Order) -> bool:
    """The checkout was completed with a delayed payment method that has not settled."""
    return (
        order.status == Status.PENDING_PAYMENT
        and order.events.filter(kind="payment_processing").exists()
    )


# ---------------------------------------------------------------- ops


def order_list_for_ops() -> QuerySet[Order]:
    """Every order with what the dashboard shows, and `attention` for sorting those first."""
    return Order.objects.select_related("user", "diamond", "resolved_by").annotate(
        attention_first=Case(
            When(attention_q(timezone.now()), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def orders_needing_attention_count() -> int:
    return Order.objects.needs_attention().count()


def attention_filter_url() -> str:
    return reverse("admin:orders_order_changelist") + "?needs_attention=yes"


def order_search_q(term: str) -> Q:
    """Orders whose identifiers equal `term`, each compared on its indexed column: order
    number (any case), Checkout Session id, payment intent, diamond id, the supplier's stone
    id, or the customer's email (any case). Stones and customers are looked up first, so the
    orders are found through their indexes, never by scanning every order."""
    q = (
        Q(order_number__in={term, term.upper()})
        | Q(stripe_checkout_session_id=term)
        | Q(stripe_payment_intent_id=term)
    )
    with contextlib.suppress(ValueError):
        q |= Q(diamond_id=uuid.UUID(term))
    stones = Diamond.objects.filter(feed__in=Feed.values, supplier_stone_id=term)
    q |= Q(diamond_id__in=list(stones.values_list("pk", flat=True)))
    if "@" in term:
        customers = get_user_model().objects.filter(email__iexact=term)
        q |= Q(user_id__in=list(customers.values_list("pk", flat=True)))
    return q
