"""Stripe Checkout: starting (or resuming) a checkout for one diamond.

Order state changes belong to `orders.services`; this module decides whether a checkout
may start, asks the payment gateway for a Checkout Session (never inside a transaction) and
hands the outcome over.
"""

from __future__ import annotations

import logging
import uuid
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from catalog.models import Availability, Diamond
from catalog.services import diamond_move
from core.rates import rate_parse
from feeds.base import FeedError
from feeds.registry import get_adapter
from gateway.base import GatewayError, checkout_lifetime
from gateway.registry import payment_gateway
from orders.models import Order
from orders.selectors.shopper import order_checkout_closed
from orders.services import (
    DiamondUnavailable,
    order_attach_checkout_session,
    order_attach_hold,
    order_create,
    order_fail_checkout,
)
from payments import selectors

logger = logging.getLogger(__name__)


class CheckoutError(Exception):
    """Why a checkout could not start: a stable code and a shopper-facing message."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


MESSAGES = {
    "invalid_diamond_id": "That doesn't look like a diamond from our catalog.",
    "diamond_not_found": (
        "We couldn't find that diamond. It may have been removed from our catalog."
    ),
    "diamond_reserved": (
        "Another shopper is checking out this diamond right now. If they don't complete "
        "their purchase, it will become available again shortly."
    ),
    "diamond_unavailable": "Sorry, this diamond is no longer available.",
    "checkout_in_progress": (
        "Your checkout for this diamond is still being set up. Please try again in a moment."
    ),
    "checkout_expiring": (
        "Your previous checkout for this diamond has just expired. It will be available "
        "again in a few minutes."
    ),
    "availability_unknown": (
        "We couldn't confirm this diamond's availability with our supplier just now. "
        "Please try again in a moment."
    ),
    "price_unavailable": (
        "This diamond can't be purchased online right now because it has no price. "
        "Please contact us about it."
    ),
    "rate_limited": (
        "You've started several checkouts in a short time. Please wait a few minutes and try again."
    ),
    "payment_provider_unavailable": (
        "We couldn't start the payment just now. You have not been charged. "
        "Please try again in a moment."
    ),
}


def checkout_error(code: str) -> CheckoutError:
    return CheckoutError(code, MESSAGES[code])


# ---------------------------------------------------------------- checkout


def checkout_amount_cents(diamond: Diamond) -> int | None:
    price = diamond.price
    if price is None:
        return None
    cents = int((Decimal(price) * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    return cents if cents > 0 else None


def checkout_expires_at(now) -> int:
    """The Checkout Session's `expires_at` for an order created at `now` (see
    `gateway.base.checkout_lifetime`)."""
    return int((now + checkout_lifetime()).timestamp())


def _resume_or_refuse(*, user, diamond: Diamond) -> Order:
    """The diamond is not available: return the shopper's own open checkout, or refuse."""
    open_order = selectors.order_open_checkout(diamond_id=diamond.pk)
    if open_order is None:
        raise checkout_error("diamond_unavailable")
    if open_order.user_id != user.pk:
        raise checkout_error("diamond_reserved")
    if order_checkout_closed(order=open_order, now=timezone.now()):
        raise checkout_error("checkout_expiring")
    if not open_order.stripe_checkout_url:
        raise checkout_error("checkout_in_progress")
    return open_order


def _check_live_availability(diamond: Diamond) -> None:
    try:
        live = get_adapter(diamond.feed).check_availability(diamond)
    except FeedError as exc:
        logger.warning(
            "Availability check for diamond %s (%s %s) failed: %s",
            diamond.pk,
            diamond.feed,
            diamond.supplier_stone_id,
            exc,
        )
        raise checkout_error("availability_unknown") from exc
    if live != Availability.AVAILABLE:
        diamond_move(diamonds=[diamond.pk], move="feed_check", to=live)
        logger.info("Diamond %s is %s at the %s feed", diamond.pk, live, diamond.feed)
        raise checkout_error("diamond_unavailable")


def _check_rate_limit(user) -> None:
    rate = rate_parse(settings.CHECKOUT_RATE_LIMIT)
    started = selectors.checkouts_started_count(user=user, since=timezone.now() - rate.window)
    if started >= rate.count:
        raise checkout_error("rate_limited")


def checkout_session_params(*, order: Order, diamond: Diamond, user, now) -> dict:
    metadata = {
        "diamond_id": str(diamond.pk),
        "order_id": str(order.pk),
        "order_number": order.order_number,
    }
    params = {
        "mode": "payment",
        "currency": "nzd",
        "line_items": [
            {
                "price_data": {
                    "currency": "nzd",
                    "unit_amount": order.amount_cents,
                    "product_data": {"name": diamond.title},
                },
                "quantity": 1,
            }
        ],
        "client_reference_id": order.order_number,
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "expires_at": checkout_expires_at(order.created_at),
        "success_url": f"{settings.STOREFRONT_URL}{success_path(order)}",
        "cancel_url": f"{settings.STOREFRONT_URL}{diamond.get_absolute_url()}",
        "shipping_address_collection": {"allowed_countries": list(settings.SHIPPING_COUNTRIES)},
        "phone_number_collection": {"enabled": True},
    }
    if settings.CHECKOUT_CAPTURE == "manual":
        # Authorise now, capture when the supplier confirms (Checkout then offers only the
        # payment methods that can be captured later, such as cards).
        params["payment_intent_data"]["capture_method"] = "manual"
    if user.email:
        params["customer_email"] = user.email
    return params


def _hold_with_supplier(*, order: Order, diamond: Diamond) -> None:
    """Where the feed supports holds, it keeps the stone for this shopper while they pay; a
    denied hold means someone else has it: the checkout fails and the stone is released."""
    adapter = get_adapter(diamond.feed)
    if not adapter.supports_holds:
        return
    try:
        hold_id = adapter.create_hold(diamond)
    except FeedError as exc:
        logger.warning("Hold on %s for %s refused: %s", diamond.pk, order.order_number, exc)
        order_fail_checkout(order=order, error=f"The supplier did not hold the stone: {exc}")
        raise checkout_error("diamond_unavailable") from exc
    order_attach_hold(order=order, hold_id=hold_id)


def checkout_create(*, user, diamond_id, reference: str = "", comments: str = "") -> Order:
    """Start (or resume) the shopper's checkout of one diamond. Raises CheckoutError.

    Returns the order whose `stripe_checkout_url` the shopper should be sent to.
    """
    try:
        diamond_pk = uuid.UUID(str(diamond_id))
    except (TypeError, ValueError, AttributeError):
        raise checkout_error("invalid_diamond_id") from None

    diamond = Diamond.objects.filter(pk=diamond_pk).first()
    if diamond is None:
        raise checkout_error("diamond_not_found")
    if diamond.availability != Availability.AVAILABLE:
        return _resume_or_refuse(user=user, diamond=diamond)

    _check_live_availability(diamond)
    amount_cents = checkout_amount_cents(diamond)
    if amount_cents is None:
        raise checkout_error("price_unavailable")
    _check_rate_limit(user)

    try:
        order = order_create(
            user=user,
            diamond=diamond,
            amount_cents=amount_cents,
            reference=reference,
            comments=comments,
        )
    except DiamondUnavailable:
        return _resume_or_refuse(user=user, diamond=diamond)

    _hold_with_supplier(order=order, diamond=diamond)
    params = checkout_session_params(order=order, diamond=diamond, user=user, now=timezone.now())
    try:
        session = payment_gateway().checkout_session_create(
            params=params, idempotency_key=order.idempotency_key
        )
    except GatewayError as exc:
        detail = exc.detail
        logger.error(
            "Stripe Checkout Session for order %s (diamond %s, %s) could not be created: %s",
            order.order_number,
            diamond.pk,
            order.amount_display,
            detail,
        )
        order_fail_checkout(order=order, error=detail)
        raise checkout_error("payment_provider_unavailable") from exc
    return order_attach_checkout_session(order=order, session_id=session.id, url=session.url)


def success_path(order: Order, session_id: str = "{CHECKOUT_SESSION_ID}") -> str:
    """Where Stripe sends the shopper back to (Stripe fills in the session id)."""
    return (
        f"{reverse('payments:checkout-success')}?order={order.order_number}&session_id={session_id}"
    )
