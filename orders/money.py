"""The order's money: capturing the held payment, releasing it (void) and refunding it, from
start to end. The actions (`order_capture`, `order_cancel`, `order_refund`) ask the state table
whether the order may, call the payment gateway outside any transaction with one idempotency
key per request, then record the outcome with the `order_mark_*` moves below — which also
record what Stripe reports by itself (a webhook, reconciliation). The gateway takes payment
ids and amounts; it knows no order.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.money import money_display
from gateway.base import GatewayError, IntentState, intent_state
from gateway.registry import payment_gateway
from orders.alerts import alert_capture_failed, alert_order_completed
from orders.holds import feed_hold_release_enqueue
from orders.models import FeedOrderStatus, Order
from orders.states import DiamondEffect, may, refusal, supplier_order_never_placed
from orders.transitions import order_event_record, order_transition

logger = logging.getLogger(__name__)


class PaymentActionError(Exception):
    """An action on the payment (refund, capture, cancel) was refused by us or by Stripe;
    the message is written for ops."""


class RefundError(PaymentActionError):
    pass


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
        metadata["refunded_by"] = str(actor)[:500]
    try:
        # The key names the refund by what was already refunded: a repeated request is the
        # same refund, a later one a new one.
        refund = payment_gateway().refund_create(
            payment_intent=order.stripe_payment_intent_id,
            amount_cents=amount,
            metadata=metadata,
            idempotency_key=f"refund-{order.pk}-{order.amount_refunded_cents}-{amount}",
        )
    except GatewayError as exc:
        logger.error("Refund of order %s failed: %s", order.display_number, exc.detail)
        raise RefundError(
            f"Stripe did not refund order {order.display_number} (payment intent "
            f"{order.stripe_payment_intent_id}): {exc.detail}. Nothing was changed."
        ) from exc
    refund_id = str(refund.get("id") or "")
    changed = order_mark_refunded(
        order=order,
        refund_id=refund_id,
        refund_cents=amount,
        actor=actor,
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
        intent = payment_gateway().payment_intent_capture(
            order.stripe_payment_intent_id, idempotency_key=f"capture-{order.pk}"
        )
    except GatewayError as exc:
        error = f"Capture failed: {exc.detail}"
        if exc.outcome_unknown:
            error = (
                f"Capture outcome unknown: {exc.detail}. The same capture is repeated with the "
                "same idempotency key, so it cannot charge twice; reconciliation asks Stripe."
            )
        order_note_capture_failed(order=order, error=error)
        raise PaymentActionError(f"{order.display_number}: {error}") from exc
    return _apply_intent(order, intent_state(intent), actor=actor)


def order_capture_quietly(*, order: Order) -> bool:
    """Capture right after the supplier confirmed (the worker): a failure is already kept on
    the order (it needs attention, ops are alerted), so it is only logged here."""
    try:
        return order_capture(order=order) == "captured"
    except PaymentActionError as exc:
        logger.warning("Capture of %s: %s", order, exc)
        return False


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
        intent = intent_state(
            payment_gateway().payment_intent_cancel(
                order.stripe_payment_intent_id, idempotency_key=f"void-{order.pk}"
            )
        )
    except GatewayError as exc:
        order_note_payment_error(order=order, error=f"Void failed: {exc.detail}", actor=actor)
        raise PaymentActionError(
            f"Stripe did not release the authorisation of {order.display_number}: {exc.detail}."
        ) from exc
    if not intent.released:
        raise PaymentActionError(
            f"Stripe answered {intent.status!r} to the void of {order.display_number}."
        )
    order_mark_voided(order=order, actor=actor, reason=reason or "Cancelled by ops.")
    return intent.id


def order_held_payment_reconcile(*, order: Order) -> str:
    """Ask the gateway what the held payment is now and apply it: a capture or void we did
    not see is recorded; a capture still due is repeated with its one idempotency key."""
    intent = intent_state(payment_gateway().payment_intent_retrieve(order.stripe_payment_intent_id))
    if intent.held and may(order, "captured", timezone.now()):
        return order_capture(order=order)
    return _apply_intent(order, intent, actor=None)


def _apply_intent(order: Order, intent: IntentState, *, actor) -> str:
    if intent.captured:
        order_mark_captured(order=order, actor=actor)
        return "captured"
    if intent.released:
        order_mark_voided(
            order=order, reason="Stripe reports the authorisation cancelled or expired."
        )
        return "voided"
    if intent.held:
        return "still authorised"
    raise PaymentActionError(
        f"Stripe reports the payment of {order.display_number} as {intent.status}."
    )


def _require_payment_intent(order: Order) -> None:
    if not order.stripe_payment_intent_id:
        raise RefundError(
            f"Order {order.display_number} has no Stripe payment intent recorded, so there is "
            "nothing to act on through Stripe. Check the payment in the Stripe Dashboard."
        )


# ---------------------------------------------------------------- recording what happened


REFUND_KINDS = ("refunded", "partially_refunded")


def order_refunds_booked(*, order: Order) -> set[str]:
    """The ids of the refunds the order's timeline has booked."""
    data = order.events.filter(kind__in=REFUND_KINDS).values_list("data", flat=True)
    return {d["refund"] for d in data if isinstance(d, dict) and d.get("refund")}


DIAMOND_WORDS = {
    DiamondEffect.RELEASE: "; the diamond is back on sale.",
    DiamondEffect.REFUSED: (
        "; the supplier refused the stone, so it stays off sale until a feed import lists it."
    ),
    DiamondEffect.NONE: ".",
}
VOID_DIAMOND_WORDS = {
    DiamondEffect.RELEASE: " The diamond is back on sale.",
    DiamondEffect.REFUSED: (
        " The supplier refused the stone: it stays off sale until a feed import lists it."
    ),
    DiamondEffect.NONE: "",
}


def diamond_after_cancel(order: Order) -> DiamondEffect:
    """What ending the order does to its reserved stone: back on sale when the supplier order
    was never placed, off sale when the supplier refused it (until an import lists it again),
    kept as it is when the supplier may have the order."""
    if not supplier_order_never_placed(order):
        return DiamondEffect.NONE
    if order.feed_order_status == FeedOrderStatus.FAILED:
        last = (
            order.events.filter(kind__in=("feed_order_failed", "feed_order_stopped"))
            .order_by("-created_at", "-id")
            .values_list("kind", flat=True)
            .first()
        )
        if last == "feed_order_failed":
            return DiamondEffect.REFUSED
    return DiamondEffect.RELEASE


def order_mark_refunded(
    *,
    order: Order,
    refund_id: str = "",
    refund_cents: int | None = None,
    amount_refunded_cents: int | None = None,
    actor=None,
    stripe_event_id: str = "",
    release_diamond: bool = True,
) -> bool:
    """Book one refund (ours, or one made in the Stripe Dashboard), once per refund id:
    `refund_cents` is this refund's amount. Without it, `amount_refunded_cents` is the total
    Stripe reports refunded so far (what is not booked yet is booked now); with neither, all
    that is left. The order's row is locked while the refund is booked, so a report of the
    same refund (the webhook, our own call, a retry) books it once. A full refund cancels the
    order; the diamond goes back on sale only when the supplier order was never placed (and
    `release_diamond`). The refund email names this refund's amount."""
    with transaction.atomic(savepoint=False):
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if refund_id and refund_id in order_refunds_booked(order=locked):
            return False
        before = locked.amount_refunded_cents
        remaining = locked.amount_cents - before
        if refund_cents is not None:
            amount = refund_cents
        elif amount_refunded_cents is not None:
            amount = amount_refunded_cents - before
        else:
            amount = remaining
        amount = min(amount, remaining)
        if amount <= 0:
            return False
        total = before + amount
        full = total >= locked.amount_cents
        order.amount_refunded_cents = before
        release = full and release_diamond and supplier_order_never_placed(locked)
        effect = diamond_after_cancel(locked) if release else DiamondEffect.NONE
        now = timezone.now()
        this = money_display(amount, locked.currency)
        so_far = money_display(total, locked.currency)
        return order_transition(
            order,
            "refunded" if full else "partially_refunded",
            where=Q(amount_refunded_cents=before),
            diamond=effect,
            refunded_at=now,
            amount_refunded_cents=total,
            actor=actor,
            stripe_event_id=stripe_event_id,
            message=(
                f"{this} refunded"
                + (" (the payment refunded in full)" if full else f"; {so_far} refunded so far")
                + DIAMOND_WORDS[effect]
            ),
            data={"refund": refund_id, "refund_cents": amount, "amount_refunded_cents": total},
            now=now,
        )


def order_mark_captured(*, order: Order, actor=None, stripe_event_id: str = "") -> bool:
    """The held payment was captured: the order is confirmed."""
    now = timezone.now()
    with transaction.atomic(savepoint=False):
        changed = order_transition(
            order,
            "captured",
            captured_at=now,
            confirmed_at=now,
            payment_error="",
            actor=actor,
            stripe_event_id=stripe_event_id,
            message="Payment captured; the order is confirmed.",
            now=now,
        )
        if changed:
            alert_order_completed(order=order)
    return changed


def order_note_capture_failed(*, order: Order, error: str) -> bool:
    """The capture failed (or its outcome is unknown): the money is still held, ops act."""
    with transaction.atomic(savepoint=False):
        changed = order_transition(order, "capture_failed", payment_error=error, message=error)
        if changed:
            alert_capture_failed(order=order)
    return changed


def order_mark_voided(*, order: Order, actor=None, stripe_event_id: str = "", reason: str = ""):
    """The authorisation was released (by ops, or it lapsed at Stripe): nothing charged.
    The diamond goes back on sale when the supplier order was never placed."""
    effect = diamond_after_cancel(order)
    with transaction.atomic(savepoint=False):
        changed = order_transition(
            order,
            "voided",
            diamond=effect,
            payment_error="",
            actor=actor,
            stripe_event_id=stripe_event_id,
            message=(reason or "Authorisation released; nothing was charged.")
            + VOID_DIAMOND_WORDS[effect],
        )
        if changed:
            feed_hold_release_enqueue(order=order)
    return changed


def order_note_payment_error(*, order: Order, error: str, actor=None) -> None:
    """A payment call for this order failed; kept for ops (the state is unchanged)."""
    with transaction.atomic(savepoint=False):
        Order.objects.filter(pk=order.pk).update(payment_error=error, updated_at=timezone.now())
        order_event_record(order=order, kind="payment_error", message=error, actor=actor)
    order.payment_error = error
