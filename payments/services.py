"""Stripe Checkout: starting a checkout for one diamond, and refunding a paid order.

Order state changes belong to `orders.services`; this module decides whether a checkout
may start, talks to Stripe (never inside a transaction) and hands the outcome over.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils import timezone

from catalog.models import Availability, Diamond
from core.rates import rate_parse
from feeds.base import FeedError
from feeds.registry import get_adapter
from orders.models import Order
from orders.services import (
    DiamondUnavailable,
    order_attach_checkout_session,
    order_attach_hold,
    order_create,
    order_fail_checkout,
    order_mark_captured,
    order_mark_refunded,
    order_mark_voided,
    order_note_capture_failed,
    order_note_payment_error,
)
from orders.states import may, refusal
from payments import selectors
from payments.gateway import GatewayError, payment_gateway, success_path

logger = logging.getLogger(__name__)

STRIPE_MAX_EXPIRY = timedelta(hours=24)
EXPIRY_MARGIN = timedelta(minutes=1)


class CheckoutError(Exception):
    """Why a checkout could not start: a stable code and a shopper-facing message."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class PaymentActionError(Exception):
    """An ops action on the payment (refund, capture, cancel) was refused by us or by Stripe;
    the message is written for ops."""


class RefundError(PaymentActionError):
    pass


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
    lifetime = timedelta(minutes=settings.CHECKOUT_EXPIRY_MINUTES) + EXPIRY_MARGIN
    return int((now + min(lifetime, STRIPE_MAX_EXPIRY)).timestamp())


def _checkout_still_open(order: Order) -> bool:
    deadline = order.created_at + timedelta(minutes=settings.CHECKOUT_EXPIRY_MINUTES)
    return timezone.now() < deadline


def _resume_or_refuse(*, user, diamond: Diamond) -> Order:
    """The diamond is not available: return the shopper's own open checkout, or refuse."""
    open_order = selectors.order_open_checkout(diamond_id=diamond.pk)
    if open_order is None:
        raise checkout_error("diamond_unavailable")
    if open_order.user_id != user.pk:
        raise checkout_error("diamond_reserved")
    if not _checkout_still_open(open_order):
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
        Diamond.objects.filter(pk=diamond.pk, availability=Availability.AVAILABLE).update(
            availability=live, updated_at=timezone.now()
        )
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
        "expires_at": checkout_expires_at(now),
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
        session_id, url = payment_gateway().checkout_session_create(order=order, params=params)
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
    return order_attach_checkout_session(order=order, session_id=session_id, url=url)


# ---------------------------------------------------------------- refunds, capture, cancel


def order_refund(
    *,
    order: Order,
    actor,
    release_diamond: bool = True,
    reason: str = "",
    amount_cents: int | None = None,
) -> str:
    """Refund `amount_cents` (None: all that is left) through the gateway, then record it.

    Returns the refund id. Raises RefundError (nothing changed) when the order cannot be
    refunded or Stripe refuses.
    """
    order.refresh_from_db()
    remaining = order.amount_cents - order.amount_refunded_cents
    amount = remaining if amount_cents is None else amount_cents
    full = amount >= remaining
    why_not = refusal(order, "refunded" if full else "partially_refunded", timezone.now())
    if why_not:
        raise RefundError(f"Order {order.display_number} cannot be refunded: {why_not}.")
    if not 0 < amount <= remaining:
        raise RefundError(
            f"Refund {amount / 100:,.2f}: it must be more than 0 and at most the "
            f"{remaining / 100:,.2f} {order.currency.upper()} not yet refunded."
        )
    _require_payment_intent(order)
    metadata = {"order_id": str(order.pk), "order_number": order.order_number or ""}
    if reason:
        metadata["reason"] = reason[:500]
    if actor is not None:
        metadata["refunded_by"] = str(actor)
    try:
        refund_id = payment_gateway().refund_create(
            order=order, amount_cents=amount, metadata=metadata
        )
    except GatewayError as exc:
        logger.error("Refund of order %s failed: %s", order.display_number, exc.detail)
        raise RefundError(
            f"Stripe did not refund order {order.display_number} (payment intent "
            f"{order.stripe_payment_intent_id}): {exc.detail}. Nothing was changed."
        ) from exc
    changed = order_mark_refunded(
        order=order,
        amount_refunded_cents=order.amount_refunded_cents + amount,
        actor=actor,
        refund_id=refund_id,
        release_diamond=release_diamond,
    )
    if not changed:
        logger.info("Order %s already shows refund %s", order, refund_id)
    return refund_id


def order_capture(*, order: Order, actor=None) -> str:
    """Capture the held payment once the supplier has confirmed. Safe to repeat: the request
    carries one idempotency key per order. Raises PaymentActionError."""
    order.refresh_from_db()
    why_not = refusal(order, "captured", timezone.now())
    if why_not:
        raise PaymentActionError(f"Order {order.display_number} cannot be captured: {why_not}.")
    _require_payment_intent(order)
    try:
        intent = payment_gateway().payment_intent_capture(order=order)
    except GatewayError as exc:
        error = f"Capture failed: {exc.detail}"
        if exc.outcome_unknown:
            error = (
                f"Capture outcome unknown: {exc.detail}. The same capture is repeated with the "
                "same idempotency key, so it cannot charge twice; reconciliation asks Stripe."
            )
        order_note_capture_failed(order=order, error=error)
        raise PaymentActionError(f"{order.display_number}: {error}") from exc
    return _apply_intent(order, intent, actor=actor)


def order_cancel(*, order: Order, actor, reason: str = "") -> str:
    """Cancel the order: release the authorisation (nothing charged), or refund the payment
    when it was already captured. Raises PaymentActionError."""
    order.refresh_from_db()
    now = timezone.now()
    if may(order, "refunded", now):
        return order_refund(order=order, actor=actor, reason=reason)
    why_not = refusal(order, "voided", now)
    if why_not:
        raise PaymentActionError(f"Order {order.display_number} cannot be cancelled: {why_not}.")
    _require_payment_intent(order)
    try:
        intent = payment_gateway().payment_intent_cancel(order=order)
    except GatewayError as exc:
        order_note_payment_error(order=order, error=f"Void failed: {exc.detail}", actor=actor)
        raise PaymentActionError(
            f"Stripe did not release the authorisation of {order.display_number}: {exc.detail}."
        ) from exc
    if intent.get("status") != "canceled":
        raise PaymentActionError(
            f"Stripe answered {intent.get('status')!r} to the void of {order.display_number}."
        )
    order_mark_voided(order=order, actor=actor, reason=reason or "Cancelled by ops.")
    return intent.get("id", "")


def payment_intent_reconcile(*, order: Order, intent: dict) -> str:
    """Apply what Stripe says the PaymentIntent is now (a capture or void we did not see)."""
    return _apply_intent(order, intent, actor=None)


def _apply_intent(order: Order, intent: dict, *, actor) -> str:
    status = intent.get("status")
    if status == "succeeded":
        order_mark_captured(order=order, actor=actor)
        return "captured"
    if status == "canceled":
        order_mark_voided(
            order=order, reason="Stripe reports the authorisation cancelled or expired."
        )
        return "voided"
    if status == "requires_capture":
        return "still authorised"
    raise PaymentActionError(f"Stripe reports the payment of {order.display_number} as {status}.")


def _require_payment_intent(order: Order) -> None:
    if not order.stripe_payment_intent_id:
        raise RefundError(
            f"Order {order.display_number} has no Stripe payment intent recorded, so there is "
            "nothing to act on through Stripe. Check the payment in the Stripe Dashboard."
        )
