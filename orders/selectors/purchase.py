"""The diamond page's purchase box: whether this shopper can buy the stone now and, if not,
why, in their words — their own purchase or open checkout of it, "reserved by another
customer" only to others."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from catalog.models import Availability, Diamond
from orders.models import Order, Status
from orders.selectors.shopper import order_checkout_closed, order_payment_processing

RESERVED_BY_OTHER = (
    "Another customer is checking out this diamond. It may become available again shortly."
)
# A checkout past its `expires_at` whose stone the scheduled reconciliation has yet to release.
RETURNING = "The diamond will be available to buy again in a few minutes."
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
    if own is not None and order_checkout_closed(order=own):
        reason = (
            f"Your checkout expired — order {own.order_number}. Nothing was charged. {RETURNING}"
        )
        return PurchaseState(purchasable=False, reason=reason, order=own)
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
    holder = live.filter(status=Status.PENDING_PAYMENT).first()
    if diamond.availability == Availability.RESERVED and holder is not None:
        if order_checkout_closed(order=holder):
            return PurchaseState(purchasable=False, reason=RETURNING)
        return PurchaseState(purchasable=False, reason=RESERVED_BY_OTHER)
    return PurchaseState(
        purchasable=False,
        reason=UNAVAILABLE_REASONS.get(
            diamond.availability, UNAVAILABLE_REASONS[Availability.UNAVAILABLE]
        ),
    )


# An order that holds or has bought its diamond.
LIVE_STATUSES = (Status.PENDING_PAYMENT, Status.PAID, Status.CONFIRMED)
