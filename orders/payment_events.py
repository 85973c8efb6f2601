"""What Stripe reports about an order's payment, applied to the order.

The payments app reads Stripe's objects (webhook events, a retrieved Checkout Session) into
the facts below and calls ONE function here per event. Each finds the order the fact is about
(`PaymentRef`: whichever of Stripe's ids and our own metadata the object carried) and moves it
through the order's services, and answers with a line for the webhook log. Repeated and
concurrent reports are harmless: every move is a guarded UPDATE that happens once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from core.money import money_display
from orders.models import Order, Status
from orders.money import (
    order_mark_captured,
    order_mark_refunded,
    order_mark_voided,
    order_refunds_booked,
)
from orders.selectors.payments import PaymentRef, order_for_payment
from orders.services import (
    PaidSession,
    order_details_fill,
    order_dispute_update,
    order_fraud_warning,
    order_mark_expired,
    order_mark_paid,
    order_mark_payment_failed,
    order_note_awaiting_payment,
    order_note_stripe_mismatch,
    order_receipt_record,
)
from orders.states import may

__all__ = ["Applied", "PaidSession", "PaymentRef", "RefundFact"]

DISPUTE_KINDS = ("dispute_opened", "dispute_updated")


@dataclass(frozen=True)
class Applied:
    """What a report did: the order it is about (None: no order matches), whether this call
    changed it, and a line for the webhook log."""

    order: Order | None
    changed: bool
    message: str


@dataclass(frozen=True)
class DisputeFact:
    dispute_id: str
    status: str
    evidence_due_by: datetime | None
    opened: bool
    event_created: int = 0
    currency: str = ""


@dataclass(frozen=True)
class RefundFact:
    """One refund of the order's charge: its id, amount, currency and Stripe's status
    (`pending` and `succeeded` have moved the money; `failed` and `canceled` returned it)."""

    refund_id: str
    amount: int
    currency: str
    status: str = "succeeded"
    failure_reason: str = ""


REFUND_MOVED = ("succeeded", "pending")
REFUND_UNDONE = ("failed", "canceled")


def _currency_mismatch(order: Order, currency: str, what: str, stripe_event_id: str) -> str:
    """Stripe's `currency` for an amount about `order`: "" when it is the order's (or not
    given); otherwise the mismatch is noted on the order, alerted, and its message returned
    (the amount is not booked)."""
    if not currency or currency.lower() == order.currency.lower():
        return ""
    problem = (
        f"Stripe reported {what} in {currency.upper()}, but the order is in "
        f"{order.currency.upper()}. It was not booked."
    )
    order_note_stripe_mismatch(order=order, problem=problem, stripe_event_id=stripe_event_id)
    return f"{what} in {currency.upper()}, not {order.currency.upper()}: not booked, noted."


def _apply(ref: PaymentRef, apply) -> Applied:
    order = order_for_payment(ref)
    if order is None:
        return Applied(None, False, f"No order for {ref.describe()}; ignored.")
    changed, message = apply(order)
    return Applied(order, changed, f"{order.order_number}: {message}")


def payment_received(
    *, ref: PaymentRef, payment: PaidSession, stripe_event_id: str = ""
) -> Applied:
    """Paid, or authorised (the money held): fulfil, exactly once."""

    def apply(order):
        changed = order_mark_paid(order=order, session=payment, stripe_event_id=stripe_event_id)
        state = "authorized" if payment.authorized else "paid"
        if changed:
            return True, f"{state}."
        # Already fulfilled (by an earlier event): keep what this one adds, erase nothing.
        filled = order_details_fill(
            order=order,
            shipping=payment.shipping,
            payment_intent_id=payment.payment_intent_id,
            charge_id=payment.charge_id,
        )
        if payment.receipt_url:
            order_receipt_record(order=order, receipt_url=payment.receipt_url)
        return filled, ("already handled; details added." if filled else "already handled.")

    return _apply(ref, apply)


def payment_processing(*, ref: PaymentRef, stripe_event_id: str = "") -> Applied:
    """Checkout completed with a payment method that settles later."""

    def apply(order):
        if order.status != Status.PENDING_PAYMENT:  # it settled (or failed) first
            return False, "the payment is no longer pending; unchanged."
        order_note_awaiting_payment(order=order, stripe_event_id=stripe_event_id)
        return True, "awaiting a delayed payment."

    return _apply(ref, apply)


def payment_failed(*, ref: PaymentRef, stripe_event_id: str = "") -> Applied:
    def apply(order):
        changed = order_mark_payment_failed(order=order, stripe_event_id=stripe_event_id)
        return changed, ("payment failed." if changed else "already handled.")

    return _apply(ref, apply)


def checkout_expired(*, ref: PaymentRef, stripe_event_id: str = "") -> Applied:
    def apply(order):
        changed = order_mark_expired(order=order, stripe_event_id=stripe_event_id)
        return changed, ("expired." if changed else "not pending; unchanged.")

    return _apply(ref, apply)


def capture_seen(*, ref: PaymentRef, currency: str = "", stripe_event_id: str = "") -> Applied:
    """A capture (ours, or from the Stripe Dashboard) whose answer we may not have seen."""

    def apply(order):
        if ref.charge_id:
            order_details_fill(order=order, charge_id=ref.charge_id)
        if mismatch := _currency_mismatch(order, currency, "a capture", stripe_event_id):
            return True, mismatch
        if not may(order, "captured", timezone.now()):
            return False, "not awaiting a capture; unchanged."
        changed = order_mark_captured(order=order, stripe_event_id=stripe_event_id)
        return changed, ("captured." if changed else "already captured.")

    return _apply(ref, apply)


def void_seen(*, ref: PaymentRef, reason: str, stripe_event_id: str = "") -> Applied:
    """The authorisation was released (by us, in the Dashboard, or it expired)."""

    def apply(order):
        changed = order_mark_voided(order=order, stripe_event_id=stripe_event_id, reason=reason)
        return changed, ("voided." if changed else "not authorised; unchanged.")

    return _apply(ref, apply)


def order_refund_undone(
    *,
    order: Order,
    refund_id: str,
    refund_cents: int,
    status: str,
    reason: str = "",
    stripe_event_id: str = "",
) -> bool:
    """Stripe reports that a refund the order has booked failed (or was cancelled): the
    customer has not received that money. The order keeps its books as they are and ops are
    told, once per refund; a refund never booked changes nothing."""
    with transaction.atomic(savepoint=False):
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if refund_id not in order_refunds_booked(order=locked):
            return False
        if locked.events.filter(kind="stripe_mismatch", data__refund=refund_id).exists():
            return False
        why = f" ({reason.replace('_', ' ')})" if reason else ""
        problem = (
            f"Stripe reports that refund {refund_id} of "
            f"{money_display(refund_cents, locked.currency)} {status}{why}: the customer has "
            "not received it, though the order counts it as refunded."
        )
        order_note_stripe_mismatch(
            order=locked,
            problem=problem,
            stripe_event_id=stripe_event_id,
            data={"refund": refund_id, "status": status},
        )
    return True


def refund_seen(
    *,
    ref: PaymentRef,
    refunds: list[RefundFact],
    currency: str = "",
    stripe_event_id: str = "",
) -> Applied:
    """Refunds of the order's charge, ours or made in the Stripe Dashboard: each booked once
    by its id, in the order Stripe made them, when its money has moved. A booked refund that
    failed, and an amount in another currency than the order's, are noted for ops."""

    def apply(order):
        if ref.charge_id:
            order_details_fill(order=order, charge_id=ref.charge_id)
        if mismatch := _currency_mismatch(order, currency, "a refund", stripe_event_id):
            return True, mismatch
        done = []
        for refund in refunds:
            if mismatch := _currency_mismatch(order, refund.currency, "a refund", stripe_event_id):
                return True, mismatch
            if refund.status in REFUND_MOVED and order_mark_refunded(
                order=order,
                refund_id=refund.refund_id,
                refund_cents=refund.amount,
                stripe_event_id=stripe_event_id,
            ):
                done.append(f"{refund.refund_id} recorded")
            if refund.status in REFUND_UNDONE and order_refund_undone(
                order=order,
                refund_id=refund.refund_id,
                refund_cents=refund.amount,
                status=refund.status,
                reason=refund.failure_reason,
                stripe_event_id=stripe_event_id,
            ):
                done.append(f"{refund.refund_id} {refund.status}, noted")
        if done:
            return True, "; ".join(done) + "."
        return False, "refund already recorded."

    return _apply(ref, apply)


def receipt_seen(*, ref: PaymentRef, receipt_url: str) -> Applied:
    """A charge (or its capture): keep its id and its receipt link for the shopper."""

    def apply(order):
        filled = order_details_fill(
            order=order, charge_id=ref.charge_id, payment_intent_id=ref.payment_intent_id
        )
        changed = (
            order_receipt_record(order=order, receipt_url=receipt_url) if receipt_url else False
        )
        return changed or filled, ("receipt recorded." if changed else "no new receipt.")

    return _apply(ref, apply)


def dispute_seen(*, ref: PaymentRef, dispute: DisputeFact, stripe_event_id: str = "") -> Applied:
    """A dispute opened or moved on; an event older than the last one applied changes
    nothing (Stripe does not promise order)."""

    def apply(order):
        if ref.charge_id:
            order_details_fill(order=order, charge_id=ref.charge_id)
        _currency_mismatch(order, dispute.currency, "a dispute", stripe_event_id)
        last = order.events.filter(kind__in=DISPUTE_KINDS).order_by("-created_at", "-id").first()
        if last is not None and last.data.get("event_created", 0) > dispute.event_created:
            return False, "an older dispute event; ignored."
        if last is not None and (last.data.get("dispute"), last.data.get("status")) == (
            dispute.dispute_id,
            dispute.status,
        ):
            return False, f"dispute {dispute.status} already recorded."
        order_dispute_update(
            order=order,
            dispute_id=dispute.dispute_id,
            dispute_status=dispute.status,
            evidence_due_by=dispute.evidence_due_by,
            stripe_event_id=stripe_event_id,
            opened=dispute.opened,
            event_created=dispute.event_created,
        )
        return True, f"dispute {dispute.status}."

    return _apply(ref, apply)


def fraud_warning_seen(*, ref: PaymentRef, fraud_type: str, stripe_event_id: str = "") -> Applied:
    def apply(order):
        if ref.charge_id:
            order_details_fill(order=order, charge_id=ref.charge_id)
        outcome = order_fraud_warning(
            order=order, stripe_event_id=stripe_event_id, fraud_type=fraud_type
        )
        return True, outcome

    return _apply(ref, apply)
