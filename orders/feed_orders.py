"""Placing the supplier ("feed") order: one attempt, run by the task worker.

The worker claims the attempt before calling the supplier, outside any transaction; the
supplier's answer then applies only to the attempt that asked for it, so a late answer from
an abandoned attempt never overwrites the current one (it is kept on the timeline).
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from feeds.base import FeedError
from feeds.registry import get_adapter
from notifications.outbox import delivering_here
from orders.alerts import alert_feed_failure, alert_order_completed, alert_placed_after_refund
from orders.holds import feed_hold_release
from orders.models import Order, Status
from orders.money import order_capture_quietly
from orders.states import may
from orders.transitions import order_event_record, order_transition

logger = logging.getLogger(__name__)

UNKNOWN_OUTCOME_NOTE = (
    "Outcome unknown: the supplier may have received this order. Check with the supplier "
    "before retrying, or the stone could be bought twice."
)


@task()
def feed_order_place(order_id: str, attempt: int | None = None) -> bool:
    """Run one feed-order attempt, then capture the held payment if the supplier confirmed.
    Safe to run twice: only one caller claims an attempt. A task; `feed_order_place.call(…)`
    runs it here and now. The Slack alert it writes is sent from here too, once written."""
    with delivering_here():
        return _feed_order_attempt(order_id, attempt)


def _feed_order_attempt(order_id: str, attempt: int | None) -> bool:
    if attempt is None:  # a task queued before attempts had numbers: the current one
        attempt = Order.objects.filter(pk=order_id).values_list("feed_order_attempt", flat=True)
        attempt = attempt.first() or 0
    claimed = order_transition(
        Order(pk=order_id),
        "feed_order_started",
        attempt=attempt,
        feed_order_started_at=timezone.now(),
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
        feed_order_record_failure(
            order=order, attempt=attempt, error=str(exc), outcome_unknown=exc.outcome_unknown
        )
        return True
    except Exception as exc:
        logger.exception("Feed order for %s raised unexpectedly", order.order_number)
        feed_order_record_failure(order=order, attempt=attempt, error=f"Unexpected error: {exc!r}")
        return True
    if feed_order_record_success(order=order, attempt=attempt, feed_order_id=feed_order_id):
        # The payment is only held: the supplier's confirmation is the signal to capture it,
        # here and now (a capture that fails is kept on the order; reconciliation repeats it).
        if may(order, "captured", timezone.now()):
            order_capture_quietly(order=order)
        # NIVODA.md says nothing of an order converting the checkout's hold, so the store
        # lets it go once the supplier order is placed (a failed release lapses at `until`).
        feed_hold_release.call(order_id=order.pk)
    return True


def feed_order_record_success(*, order: Order, attempt: int, feed_order_id: str) -> bool:
    now = timezone.now()
    message = f"Feed order {feed_order_id} placed with {order.feed}."
    data = {"feed_order_id": feed_order_id, "attempt": attempt}
    with transaction.atomic(savepoint=False):
        if order_transition(
            order,
            "feed_order_succeeded",
            attempt=attempt,
            feed_order_id=feed_order_id,
            feed_order_error="",
            confirmed_at=now,
            message=message,
            data=data,
            now=now,
        ):
            alert_order_completed(order=order)
            return True
        # The payment is only held: the caller captures it once this has committed.
        if order_transition(
            order,
            "feed_order_succeeded_to_capture",
            attempt=attempt,
            feed_order_id=feed_order_id,
            feed_order_error="",
            message=message + " Capturing the held payment.",
            data=data,
            now=now,
        ):
            return True
        # A refund landed while the supplier call was in flight: the order stays cancelled,
        # the stone is left alone (it may be another shopper's by now), and ops are told.
        if order_transition(
            order,
            "feed_order_succeeded_after_refund",
            attempt=attempt,
            feed_order_id=feed_order_id,
            feed_order_error="",
            message=message + " The order had been refunded meanwhile.",
            data=data,
            now=now,
        ):
            alert_placed_after_refund(order=order)
            return True
    _late_answer(order, attempt=attempt, message=message, data=data)
    return False


def feed_order_record_failure(
    *, order: Order, attempt: int, error: str, outcome_unknown: bool = False
) -> bool:
    if outcome_unknown and UNKNOWN_OUTCOME_NOTE not in error:
        error = f"{error}\n{UNKNOWN_OUTCOME_NOTE}"
    name = "feed_order_unknown" if outcome_unknown else "feed_order_failed"
    data = {"attempt": attempt, "outcome_unknown": outcome_unknown}
    with transaction.atomic(savepoint=False):
        if order_transition(
            order, name, attempt=attempt, feed_order_error=error, message=error, data=data
        ):
            if order.status == Status.PAID:
                alert_feed_failure(order=order)
            return True
    _late_answer(order, attempt=attempt, message=error, data=data)
    return False


def feed_order_abandon(*, order: Order) -> bool:
    """The worker took the current attempt on and never finished (it stopped mid-call)."""
    return feed_order_record_failure(
        order=order,
        attempt=order.feed_order_attempt,
        error="The feed-order attempt started but never finished (the worker stopped).",
        outcome_unknown=True,
    )


def _late_answer(order: Order, *, attempt: int, message: str, data: dict) -> None:
    """An answer for an attempt that is no longer current: kept for ops, changes nothing."""
    logger.warning("Late supplier answer for %s attempt %s: %s", order, attempt, message)
    order_event_record(
        order=order,
        kind="feed_order_late_answer",
        message=f"Attempt {attempt} answered after it was superseded: {message}",
        data=data,
    )
