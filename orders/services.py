"""Every change of an order's state. Each transition checks the state it starts from in the
database (a conditional UPDATE or a row lock), writes the new state and a timeline entry, and
returns whether it happened, so repeated and concurrent callers are harmless.

External calls (the feed, Slack, Stripe) never run inside these transactions. Inside a
caller's transaction (a webhook's) they join it without a savepoint: any error fails the whole.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, Value, When
from django.urls import reverse
from django.utils import timezone

from catalog.models import Availability, Diamond
from feeds.base import FeedError, get_adapter
from orders.models import (
    FeedOrderStatus,
    Order,
    OrderEvent,
    OrderNumberCounter,
    PaymentStatus,
    Status,
)

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


def order_event_record(
    *,
    order: Order,
    kind: str,
    message: str = "",
    actor=None,
    stripe_event_id: str = "",
    data: dict | None = None,
) -> OrderEvent:
    return OrderEvent.objects.create(
        order=order,
        kind=kind,
        message=message,
        actor=actor,
        stripe_event_id=stripe_event_id,
        data=data or {},
    )


def _transition(order: Order, *, from_filter: dict, **values) -> bool:
    """Conditional UPDATE: applies `values` only if the row still matches `from_filter`.

    Returns whether this caller made the change (False: another did, or the order was never
    in that state); on success `order` carries the new values. Call inside a transaction.
    """
    values["updated_at"] = timezone.now()
    if not Order.objects.filter(pk=order.pk, **from_filter).update(**values):
        return False
    computed = [name for name, value in values.items() if hasattr(value, "resolve_expression")]
    for name, value in values.items():
        if name not in computed:
            setattr(order, name, value)
    if computed:
        order.refresh_from_db(fields=computed)
    return True


def _diamond_set(diamond_id, *, availability: str, only_if: str) -> None:
    Diamond.objects.filter(pk=diamond_id, availability=only_if).update(
        availability=availability, updated_at=timezone.now()
    )


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


def _close_unpaid(
    *, order: Order, status: str, payment_status: str, kind: str, message: str, **event
) -> bool:
    with transaction.atomic(savepoint=False):
        changed = _transition(
            order,
            from_filter={"status": Status.PENDING_PAYMENT},
            status=status,
            payment_status=payment_status,
        )
        if not changed:
            return False
        _diamond_set(
            order.diamond_id, availability=Availability.AVAILABLE, only_if=Availability.RESERVED
        )
        order_event_record(order=order, kind=kind, message=message, **event)
    return True


def order_fail_checkout(*, order: Order, error: str) -> bool:
    """Stripe could not create the session: failed / failed, the diamond is free again."""
    return _close_unpaid(
        order=order,
        status=Status.FAILED,
        payment_status=PaymentStatus.FAILED,
        kind="checkout_failed",
        message=f"Stripe Checkout Session could not be created: {error}",
    )


def order_mark_payment_failed(*, order: Order, stripe_event_id: str = "") -> bool:
    return _close_unpaid(
        order=order,
        status=Status.FAILED,
        payment_status=PaymentStatus.FAILED,
        kind="payment_failed",
        message="The delayed payment failed; the diamond was released.",
        stripe_event_id=stripe_event_id,
    )


def order_mark_expired(*, order: Order, stripe_event_id: str = "") -> bool:
    return _close_unpaid(
        order=order,
        status=Status.EXPIRED,
        payment_status=PaymentStatus.EXPIRED,
        kind="checkout_expired",
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
    """What Stripe says was paid: the fields of a Checkout Session that fulfilment checks."""

    session_id: str
    payment_intent_id: str
    amount_total: int | None
    currency: str | None


def order_mark_paid(
    *, order: Order, session: PaidSession, stripe_event_id: str = "", actor=None
) -> bool:
    """Fulfil: pending_payment → paid, exactly once, and enqueue the feed order.

    When the session's amount or currency does not match the order the payment is still
    recorded, but no feed order is placed: the order needs attention.
    """
    from orders.tasks import feed_order_place

    now = timezone.now()
    mismatch = (session.amount_total, (session.currency or "").lower()) != (
        order.amount_cents,
        order.currency,
    )
    with transaction.atomic(savepoint=False):
        common = {
            "status": Status.PAID,
            "payment_status": PaymentStatus.PAID,
            "stripe_payment_intent_id": session.payment_intent_id or "",
            "paid_at": now,
        }
        if mismatch:
            error = (
                f"Not placed: Stripe charged {session.amount_total} {session.currency} "
                f"(minor units) but the order is for {order.amount_cents} {order.currency}. "
                "Check the payment in Stripe, then refund or resolve."
            )
            changed = _transition(
                order,
                from_filter={"status": Status.PENDING_PAYMENT},
                feed_order_error=error,
                **common,
            )
        else:
            changed = _transition(
                order,
                from_filter={"status": Status.PENDING_PAYMENT},
                feed_order_status=FeedOrderStatus.PENDING,
                feed_order_requested_at=now,
                feed_order_started_at=None,
                **common,
            )
        if not changed:
            return False
        order_event_record(
            order=order,
            kind="payment_mismatch" if mismatch else "paid",
            message=order.feed_order_error if mismatch else "Payment received.",
            actor=actor,
            stripe_event_id=stripe_event_id,
            data={"payment_intent": session.payment_intent_id, "session": session.session_id},
        )
        if not mismatch:
            enqueue_durably(feed_order_place, order_id=str(order.pk))
    return True


def order_mark_refunded(
    *,
    order: Order,
    actor=None,
    stripe_event_id: str = "",
    refund_id: str = "",
    release_diamond: bool = False,
) -> bool:
    """A full refund: cancelled / refunded; the feed order is left as it was."""
    with transaction.atomic(savepoint=False):
        changed = _transition(
            order,
            from_filter={"payment_status": PaymentStatus.PAID},
            status=Status.CANCELLED,
            payment_status=PaymentStatus.REFUNDED,
        )
        if not changed:
            return False
        if release_diamond:
            _diamond_set(
                order.diamond_id,
                availability=Availability.AVAILABLE,
                only_if=Availability.RESERVED,
            )
        order_event_record(
            order=order,
            kind="refunded",
            message="Payment refunded"
            + ("; the diamond was released." if release_diamond else "."),
            actor=actor,
            stripe_event_id=stripe_event_id,
            data={"refund": refund_id} if refund_id else {},
        )
    return True


# ---------------------------------------------------------------- feed order


def enqueue_durably(task, **kwargs) -> None:
    """Enqueue inside the current transaction when the backend stores tasks in the same
    database (the task exists exactly when the state change does); otherwise right after
    commit, so an in-process backend never runs external calls inside the transaction."""
    from django_tasks_db import DatabaseBackend

    if isinstance(task.get_backend(), DatabaseBackend):
        task.enqueue(**kwargs)
    else:
        transaction.on_commit(lambda: task.enqueue(**kwargs))


def order_feed_order_place(*, order_id) -> bool:
    """Run one feed-order attempt. Safe to call twice: only one caller claims the attempt."""
    now = timezone.now()
    with transaction.atomic(savepoint=False):
        claimed = _transition(
            Order(pk=order_id),
            from_filter={
                "feed_order_status": FeedOrderStatus.PENDING,
                "feed_order_started_at__isnull": True,
                "payment_status": PaymentStatus.PAID,
            },
            feed_order_started_at=now,
        )
    if not claimed:
        return False
    order = Order.objects.select_related("diamond").get(pk=order_id)
    comments = order.comments or f"Store order {order.order_number}"
    try:
        feed_order_id = get_adapter(order.feed).create_order(
            order.diamond, reference=order.order_number, comments=comments
        )
    except FeedError as exc:
        order_mark_feed_failed(order=order, error=str(exc), outcome_unknown=exc.outcome_unknown)
        return True
    except Exception as exc:
        logger.exception("Feed order for %s raised unexpectedly", order.order_number)
        order_mark_feed_failed(order=order, error=f"Unexpected error: {exc!r}")
        return True
    order_mark_feed_succeeded(order=order, feed_order_id=feed_order_id)
    return True


def order_mark_feed_succeeded(*, order: Order, feed_order_id: str) -> bool:
    from notifications.services import notify_order_completed

    with transaction.atomic(savepoint=False):
        changed = _transition(
            order,
            from_filter={"feed_order_status": FeedOrderStatus.PENDING},
            # A refund that landed while the supplier call was in flight keeps "cancelled".
            status=Case(
                When(status=Status.PAID, then=Value(Status.CONFIRMED)), default=F("status")
            ),
            feed_order_status=FeedOrderStatus.SUCCESS,
            feed_order_id=feed_order_id,
            feed_order_error="",
        )
        if not changed:
            return False
        Diamond.objects.filter(pk=order.diamond_id).update(
            availability=Availability.SOLD, updated_at=timezone.now()
        )
        order_event_record(
            order=order,
            kind="feed_order_succeeded",
            message=f"Feed order {feed_order_id} placed with {order.feed}.",
            data={"feed_order_id": feed_order_id},
        )
        notify_order_completed(order=order)
    return True


UNKNOWN_OUTCOME_NOTE = (
    "Outcome unknown: the supplier may have received this order. Check with the supplier "
    "before retrying, or the stone could be bought twice."
)


def order_mark_feed_failed(*, order: Order, error: str, outcome_unknown: bool = False) -> bool:
    from notifications.services import notify_feed_failure

    if outcome_unknown and UNKNOWN_OUTCOME_NOTE not in error:
        error = f"{error}\n{UNKNOWN_OUTCOME_NOTE}"
    with transaction.atomic(savepoint=False):
        changed = _transition(
            order,
            from_filter={"feed_order_status": FeedOrderStatus.PENDING},
            feed_order_status=FeedOrderStatus.FAILED,
            feed_order_error=error,
        )
        if not changed:
            return False
        order_event_record(
            order=order,
            kind="feed_order_unknown" if outcome_unknown else "feed_order_failed",
            message=error,
            data={"outcome_unknown": outcome_unknown},
        )
        notify_feed_failure(order=order)
    return True


def order_feed_outcome_unknown(order: Order) -> bool:
    return order.feed_order_status == FeedOrderStatus.FAILED and (
        UNKNOWN_OUTCOME_NOTE in order.feed_order_error
    )


def order_feed_order_retry(*, order: Order, actor=None, reason: str = "") -> bool:
    """Ask for a new feed-order attempt (ops' retry, or reconciliation of a stalled one)."""
    from orders.tasks import feed_order_place

    now = timezone.now()
    with transaction.atomic(savepoint=False):
        changed = _transition(
            order,
            from_filter={
                "payment_status": PaymentStatus.PAID,
                "status": Status.PAID,
                "feed_order_status__in": [FeedOrderStatus.FAILED, FeedOrderStatus.PENDING],
            },
            feed_order_status=FeedOrderStatus.PENDING,
            feed_order_requested_at=now,
            feed_order_started_at=None,
        )
        if not changed:
            return False
        order_event_record(
            order=order,
            kind="feed_order_retried",
            message=reason or "Feed order retried.",
            actor=actor,
        )
        enqueue_durably(feed_order_place, order_id=str(order.pk))
    return True


def order_feed_order_abandon(*, order: Order) -> bool:
    """A worker took the attempt on and never finished (killed mid-call): outcome unknown."""
    return order_mark_feed_failed(
        order=order,
        error="The feed-order attempt started but never finished (the worker stopped).",
        outcome_unknown=True,
    )


def order_resolve(*, order: Order, actor, note: str) -> bool:
    note = note.strip()
    if not note:
        raise ValueError("A resolution note is required.")
    with transaction.atomic(savepoint=False):
        changed = _transition(
            order,
            from_filter={"resolved_at__isnull": True},
            resolved_at=timezone.now(),
            resolved_by=actor,
            resolution_note=note,
        )
        if not changed:
            return False
        order_event_record(order=order, kind="resolved", message=note, actor=actor)
    return True


def order_admin_url(order: Order) -> str:
    return settings.STOREFRONT_URL + reverse("admin:orders_order_change", args=[order.pk])
