"""The order's operations: creating it with its number, and each move of its state machine
(`orders.states`), called by name through `orders.transitions.order_transition`. Each returns
whether it made the change, so repeated and concurrent callers are harmless.

External calls (the feed, Slack, Stripe) never run inside these transactions. Inside a
caller's transaction (a webhook's) they join it without a savepoint: any error fails the whole.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.db.models import Case, DateTimeField, F, JSONField, Q, Value, When
from django.utils import timezone

from catalog.models import Diamond
from catalog.services import diamond_move
from core.tasks import enqueue_durably
from orders.alerts import (
    alert_dispute,
    alert_fraud_warning,
    alert_stripe_mismatch,
)
from orders.feed_orders import feed_order_place
from orders.holds import feed_hold_release_enqueue
from orders.models import Order, OrderNumberCounter, Status
from orders.transitions import order_event_record, order_transition

logger = logging.getLogger(__name__)


class DiamondUnavailable(Exception):
    """The diamond was taken (reserved, sold or withdrawn) before this order could reserve it."""


# ---------------------------------------------------------------- order numbers and timeline


def order_number_allocate(*, day) -> str:
    """The next `DO-YYYYMMDD-NNNN` for `day`. Call inside the order's transaction.

    One upsert on that day's counter row: it takes a row lock held until commit, so
    concurrent checkouts get consecutive numbers, and a rolled-back checkout gives its
    number back. No table lock, no MAX()+1.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("Allocate order numbers inside the order's transaction.")
    table = connection.ops.quote_name(OrderNumberCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, last_value) VALUES (%s, 1) "  # noqa: S608 (table name only)
            f"ON CONFLICT (day) DO UPDATE SET last_value = {table}.last_value + 1 "
            "RETURNING last_value",
            [day],
        )
        (value,) = cursor.fetchone()
    return f"DO-{day:%Y%m%d}-{value:04d}"


# ---------------------------------------------------------------- checkout


def order_create(
    *, user, diamond: Diamond, amount_cents: int, reference: str = "", comments: str = ""
) -> Order:
    """Reserve the diamond and create the `pending_payment` order with its number, atomically."""
    now = timezone.now()
    try:
        with transaction.atomic():
            if not diamond_move(diamonds=[diamond.pk], move="reserve", now=now):
                raise DiamondUnavailable(diamond.pk)
            order = Order(
                user=user,
                diamond=diamond,
                feed=diamond.feed,
                offer_id=diamond.offer_id,
                amount_cents=amount_cents,
                currency="nzd",
                reference=reference,
                comments=comments,
                created_at=now,
            )
            order.order_number = order_number_allocate(day=now.date())
            order.idempotency_key = f"checkout-{order.id}"
            order.save(force_insert=True)
            order_event_record(
                order=order,
                kind="checkout_created",
                message=f"Checkout started for {diamond} at {order.amount_display}.",
                actor=user,
            )
    except IntegrityError as exc:
        # The one-open-checkout-per-diamond constraint: another checkout won the stone.
        raise DiamondUnavailable(diamond.pk) from exc
    return order


def order_attach_checkout_session(*, order: Order, session_id: str, url: str) -> Order:
    with transaction.atomic(savepoint=False):
        Order.objects.filter(pk=order.pk).update(
            stripe_checkout_session_id=session_id, stripe_checkout_url=url
        )
        order_event_record(
            order=order,
            kind="checkout_session_created",
            message=f"Stripe Checkout Session {session_id} created.",
            data={"session_id": session_id},
        )
    order.stripe_checkout_session_id = session_id
    order.stripe_checkout_url = url
    return order


def order_fail_checkout(*, order: Order, error: str) -> bool:
    """Stripe could not create the session: failed / failed, the diamond is free again."""
    return _close_checkout(
        order, "checkout_failed", message=f"Stripe Checkout Session could not be created: {error}"
    )


def order_mark_payment_failed(*, order: Order, stripe_event_id: str = "") -> bool:
    return _close_checkout(
        order,
        "payment_failed",
        message="The delayed payment failed; the diamond was released.",
        stripe_event_id=stripe_event_id,
    )


def order_mark_expired(*, order: Order, stripe_event_id: str = "") -> bool:
    return _close_checkout(
        order,
        "checkout_expired",
        message="The Checkout Session expired unpaid; the diamond was released.",
        stripe_event_id=stripe_event_id,
    )


def _close_checkout(order: Order, name: str, **event) -> bool:
    with transaction.atomic(savepoint=False):
        changed = order_transition(order, name, **event)
        if changed:
            feed_hold_release_enqueue(order=order)
    return changed


def order_note_awaiting_payment(*, order: Order, stripe_event_id: str = "") -> None:
    """Checkout completed with a delayed method: the payment settles later."""
    order_event_record(
        order=order,
        kind="payment_processing",
        message="Checkout completed; the payment method settles later.",
        stripe_event_id=stripe_event_id,
    )


# ---------------------------------------------------------------- payment


@dataclass(frozen=True)
class PaidSession:
    """What Stripe says was paid: the fields of a Checkout Session that fulfilment checks,
    and the shipping details the shopper gave there."""

    session_id: str
    payment_intent_id: str
    amount_total: int | None
    currency: str | None
    shipping: dict = field(default_factory=dict)
    # Authorised (money held, captured when the supplier confirms), not yet charged.
    authorized: bool = False
    # The PaymentIntent's latest charge, when the session came with it expanded.
    charge_id: str = ""
    receipt_url: str = ""


def order_mark_paid(
    *, order: Order, session: PaidSession, stripe_event_id: str = "", actor=None
) -> bool:
    """Fulfil: pending_payment → paid, exactly once, and enqueue the feed order.

    When the session's amount or currency does not match the order the payment is still
    recorded, but no feed order is placed: the order needs attention.
    """
    now = timezone.now()
    mismatch = (session.amount_total, (session.currency or "").lower()) != (
        order.amount_cents,
        order.currency,
    )
    common = {
        "stripe_payment_intent_id": session.payment_intent_id or "",
        "paid_at": now,
        "actor": actor,
        "stripe_event_id": stripe_event_id,
        "data": {"payment_intent": session.payment_intent_id, "session": session.session_id},
        "now": now,
        **{key: value for key, value in session.shipping.items() if value},
        **({"stripe_charge_id": session.charge_id} if session.charge_id else {}),
        **({"stripe_receipt_url": session.receipt_url} if _receipt_ok(session.receipt_url) else {}),
    }
    with transaction.atomic(savepoint=False):
        if mismatch:
            error = (
                f"Not placed: Stripe charged {session.amount_total} {session.currency} "
                f"(minor units) but the order is for {order.amount_cents} {order.currency}. "
                "Check the payment in Stripe, then refund or resolve."
            )
            name = "authorized_mismatch" if session.authorized else "paid_mismatch"
            return order_transition(order, name, feed_order_error=error, message=error, **common)
        changed = order_transition(
            order,
            "authorized" if session.authorized else "paid",
            feed_order_attempt=1,
            feed_order_requested_at=now,
            feed_order_started_at=None,
            message=(
                "Payment authorised: the money is held until the supplier confirms."
                if session.authorized
                else "Payment received."
            ),
            **common,
        )
        if changed:  # an early fraud warning may have come first (Stripe keeps no order)
            order.refresh_from_db(fields=["fraud_warning_at", "fraud_cleared_at"])
        if changed and order.fraud_warning_at is not None and order.fraud_cleared_at is None:
            _feed_order_stop(order, stripe_event_id, reason="")
        elif changed:
            enqueue_durably(feed_order_place, order_id=str(order.pk), attempt=1)
    return changed


def _receipt_ok(receipt_url: str) -> bool:
    return receipt_url.startswith("https://") and len(receipt_url) <= 500


def order_receipt_record(*, order: Order, receipt_url: str) -> bool:
    """Keep Stripe's receipt link for the shopper's order page (https only)."""
    if not _receipt_ok(receipt_url):
        return False
    return bool(
        Order.objects.filter(pk=order.pk)
        .exclude(stripe_receipt_url=receipt_url)
        .update(stripe_receipt_url=receipt_url)
    )


def _fill(name: str, value, empty=""):
    """`name` becomes `value` only where it is still empty (one expression of the UPDATE)."""
    return Case(When(**{name: empty}, then=Value(value)), default=F(name))


def order_details_fill(
    *,
    order: Order,
    shipping: dict | None = None,
    payment_intent_id: str = "",
    charge_id: str = "",
) -> bool:
    """What a later event (or a retrieve) knows and the order lacks: shipping name, address
    and phone, the PaymentIntent and charge ids. One UPDATE that sets each only where it is
    still empty, so whichever event brought a detail first keeps it: nothing is erased or
    overwritten, whatever the order Stripe delivers its events in."""
    values: dict[str, object] = {}
    for key, value in (shipping or {}).items():
        if key == "shipping_address" and value:
            values[key] = Case(
                When(shipping_address={}, then=Value(value, output_field=JSONField())),
                default=F(key),
            )
        elif value:
            values[key] = _fill(key, value)
    if payment_intent_id:
        values["stripe_payment_intent_id"] = _fill("stripe_payment_intent_id", payment_intent_id)
    if charge_id:
        values["stripe_charge_id"] = _fill("stripe_charge_id", charge_id)
    if not values:
        return False
    missing = Q()
    for key in values:
        missing |= Q(shipping_address={}) if key == "shipping_address" else Q(**{key: ""})
    changed = bool(
        Order.objects.filter(missing, pk=order.pk).update(**values, updated_at=timezone.now())
    )
    if changed:
        order.refresh_from_db(fields=[*values, "updated_at"])
    return changed


def order_note_stripe_mismatch(
    *, order: Order, problem: str, stripe_event_id: str = "", data: dict | None = None
) -> None:
    """Stripe reported something the order's books cannot match (an amount in another
    currency than the order's, a booked refund that failed): kept on the order for ops, who
    are alerted."""
    with transaction.atomic(savepoint=False):
        Order.objects.filter(pk=order.pk).update(
            stripe_mismatch=problem, resolved_at=None, resolved_by=None, updated_at=timezone.now()
        )
        order.stripe_mismatch, order.resolved_at, order.resolved_by = problem, None, None
        order_event_record(
            order=order,
            kind="stripe_mismatch",
            message=problem,
            stripe_event_id=stripe_event_id,
            data=data,
        )
        alert_stripe_mismatch(order=order, problem=problem)


# ---------------------------------------------------------------- disputes and fraud


def order_dispute_update(
    *,
    order: Order,
    dispute_id: str,
    dispute_status: str,
    evidence_due_by,
    stripe_event_id: str,
    opened: bool,
    event_created: int = 0,
) -> bool:
    """Keep the dispute's status and evidence date; an opened dispute reopens the order
    for ops and alerts once."""
    values = {"dispute_status": dispute_status[:40], "dispute_evidence_due_by": evidence_due_by}
    if opened:
        values |= {"resolved_at": None, "resolved_by": None}
    with transaction.atomic(savepoint=False):
        Order.objects.filter(pk=order.pk).update(updated_at=timezone.now(), **values)
        for key, value in values.items():
            setattr(order, key, value)
        due = f"; evidence due by {evidence_due_by:%Y-%m-%d %H:%M} UTC" if evidence_due_by else ""
        order_event_record(
            order=order,
            kind="dispute_opened" if opened else "dispute_updated",
            message=f"Dispute {dispute_id}: {dispute_status.replace('_', ' ')}{due}.",
            stripe_event_id=stripe_event_id,
            data={"dispute": dispute_id, "status": dispute_status, "event_created": event_created},
        )
        if opened:
            alert_dispute(order=order, dispute_id=dispute_id)
    return True


def order_fraud_warning(*, order: Order, stripe_event_id: str, fraud_type: str) -> str:
    """An early fraud warning: the order needs ops; a supplier order not yet taken on by a
    worker is stopped until ops decide (retry places it; cancel or refund ends it)."""
    now = timezone.now()
    with transaction.atomic(savepoint=False):
        # A warning ops have not cleared yet is already on the order (a redelivery, or a
        # second warning about the same charge): nothing more to stop or tell.
        open_warning = Q(fraud_warning_at__isnull=False, fraud_cleared_at__isnull=True)
        if not (
            Order.objects.filter(pk=order.pk)
            .exclude(open_warning)
            .update(fraud_warning_at=now, fraud_cleared_at=None, resolved_at=None, updated_at=now)
        ):
            return "already warned; unchanged"
        order.fraud_warning_at, order.fraud_cleared_at, order.resolved_at = now, None, None
        order.refresh_from_db(fields=["status"])
        if order.status == Status.PENDING_PAYMENT:
            # Stripe delivered the warning before the payment: fulfilment stops the supplier
            # order when the payment arrives (`order_mark_paid`), and says so on the timeline.
            alert_fraud_warning(order=order, stopped=True)
            return "noted before the payment; the supplier order will not be placed"
        stopped = _feed_order_stop(order, stripe_event_id, reason=fraud_type)
        if not stopped:
            order_event_record(
                order=order,
                kind="fraud_warning",
                message=f"Early fraud warning ({fraud_type}); the supplier order was already "
                "on its way, so it was not stopped.",
                stripe_event_id=stripe_event_id,
            )
        alert_fraud_warning(order=order, stopped=stopped)
    return "feed order stopped" if stopped else "alerted"


def _feed_order_stop(order: Order, stripe_event_id: str, *, reason: str) -> bool:
    return order_transition(
        order,
        "feed_order_stopped",
        feed_order_error=(
            f"Stopped: Stripe raised an early fraud warning{f' ({reason})' if reason else ''}. "
            "Retry to place the supplier order anyway, or cancel the order."
        ),
        stripe_event_id=stripe_event_id,
        message="Early fraud warning: the supplier order was stopped before it was placed.",
    )


# ---------------------------------------------------------------- supplier holds


def order_attach_hold(*, order: Order, hold_id: str) -> None:
    with transaction.atomic(savepoint=False):
        Order.objects.filter(pk=order.pk).update(feed_hold_id=hold_id)
        order_event_record(
            order=order,
            kind="feed_hold_placed",
            message=f"The supplier holds the stone for this checkout (hold {hold_id}).",
        )
    order.feed_hold_id = hold_id


# ---------------------------------------------------------------- feed order and resolution


def order_feed_order_retry(*, order: Order, actor=None, reason: str = "") -> bool:
    """A new feed-order attempt (ops' retry, or a stalled one re-queued by reconciliation).
    It reopens a resolved order: a new failure must be seen."""
    now = timezone.now()
    with transaction.atomic(savepoint=False):
        changed = order_transition(
            order,
            "feed_order_retried",
            feed_order_attempt=F("feed_order_attempt") + 1,
            feed_order_requested_at=now,
            feed_order_started_at=None,
            resolved_at=None,
            resolved_by=None,
            # Retrying after an early fraud warning is ops deciding to go ahead.
            fraud_cleared_at=Case(
                When(fraud_warning_at__isnull=False, then=Value(now, output_field=DateTimeField())),
                default=F("fraud_cleared_at"),
            ),
            actor=actor,
            message=reason or "Feed order retried.",
            now=now,
        )
        if changed:
            enqueue_durably(
                feed_order_place, order_id=str(order.pk), attempt=order.feed_order_attempt
            )
    return changed


def order_resolve(*, order: Order, actor, note: str) -> bool:
    note = note.strip()
    if not note:
        raise ValueError("A resolution note is required.")
    return order_transition(
        order,
        "resolved",
        resolved_at=timezone.now(),
        resolved_by=actor,
        resolution_note=note,
        actor=actor,
        message=note,
    )
