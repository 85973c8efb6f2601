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
from django.db.models import F
from django.utils import timezone

from catalog.models import Availability, Diamond
from core.tasks import enqueue_durably
from orders.models import FeedOrderStatus, Order, OrderNumberCounter
from orders.states import DiamondEffect
from orders.tasks import feed_order_place
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
            reserved = Diamond.objects.filter(
                pk=diamond.pk, availability=Availability.AVAILABLE
            ).update(availability=Availability.RESERVED, updated_at=now)
            if not reserved:
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
    return order_transition(
        order,
        "checkout_failed",
        message=f"Stripe Checkout Session could not be created: {error}",
    )


def order_mark_payment_failed(*, order: Order, stripe_event_id: str = "") -> bool:
    return order_transition(
        order,
        "payment_failed",
        message="The delayed payment failed; the diamond was released.",
        stripe_event_id=stripe_event_id,
    )


def order_mark_expired(*, order: Order, stripe_event_id: str = "") -> bool:
    return order_transition(
        order,
        "checkout_expired",
        message="The Checkout Session expired unpaid; the diamond was released.",
        stripe_event_id=stripe_event_id,
    )


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
    }
    with transaction.atomic(savepoint=False):
        if mismatch:
            error = (
                f"Not placed: Stripe charged {session.amount_total} {session.currency} "
                f"(minor units) but the order is for {order.amount_cents} {order.currency}. "
                "Check the payment in Stripe, then refund or resolve."
            )
            return order_transition(
                order, "paid_mismatch", feed_order_error=error, message=error, **common
            )
        changed = order_transition(
            order,
            "paid",
            feed_order_attempt=1,
            feed_order_requested_at=now,
            feed_order_started_at=None,
            message="Payment received.",
            **common,
        )
        if changed:
            enqueue_durably(feed_order_place, order_id=str(order.pk), attempt=1)
    return changed


def order_mark_refunded(
    *,
    order: Order,
    actor=None,
    stripe_event_id: str = "",
    refund_id: str = "",
    release_diamond: bool = False,
) -> bool:
    """A full refund: cancelled / refunded; the feed order is left as it was. The diamond
    goes back on sale only when asked and the supplier order was never placed."""
    release = release_diamond and order.feed_order_status in RELEASABLE_AFTER_REFUND
    now = timezone.now()
    return order_transition(
        order,
        "refunded",
        diamond=DiamondEffect.RELEASE if release else DiamondEffect.NONE,
        refunded_at=now,
        amount_refunded_cents=F("amount_cents"),
        actor=actor,
        stripe_event_id=stripe_event_id,
        message="Payment refunded" + ("; the diamond was released." if release else "."),
        data={"refund": refund_id} if refund_id else {},
        now=now,
    )


# A supplier order that was never placed, or is still being asked for (its late answer is
# handled as placed-after-refund).
RELEASABLE_AFTER_REFUND = (
    FeedOrderStatus.NOT_ATTEMPTED,
    FeedOrderStatus.FAILED,
    FeedOrderStatus.PENDING,
)


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
