"""Catch up with what webhooks missed: ask Stripe about stale checkouts, re-run stalled feed
orders, re-process events whose processing failed, and deliver overdue Slack alerts.

Each step applies the same services as the webhook path, so running it twice, or while
webhooks arrive, changes nothing more.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from gateway.base import GatewayError, checkout_lifetime
from gateway.registry import payment_gateway
from monitoring.health import worker_stalled_alert
from notifications.delivery import notifications_deliver_due
from orders.alerts import alert_authorization_expiring
from orders.feed_orders import feed_order_abandon
from orders.models import FeedOrderStatus, Order, PaymentStatus, Status
from orders.money import PaymentActionError, order_held_payment_reconcile
from orders.services import order_fail_checkout, order_feed_order_retry, order_mark_expired
from orders.states import FEED_ORDER_STALL_AFTER, authorization_warn_after
from payments.fulfilment import FULFILLED, session_fulfil, session_payment_state
from payments.models import WebhookEvent
from payments.webhooks import webhook_event_process

logger = logging.getLogger(__name__)

# Time for an event that failed once to be retried by Stripe before we retry it ourselves.
UNPROCESSED_AFTER = timedelta(minutes=2)
# A capture runs right after the supplier confirms; after this long its outcome is asked.
CAPTURE_GRACE = timedelta(minutes=2)


def payments_reconcile(*, now=None) -> list[str]:
    """Run every step; returns one line per change made."""
    now = now or timezone.now()
    changes: list[str] = []
    changes += stale_checkouts_reconcile(now=now)
    changes += stalled_feed_orders_reconcile(now=now)
    changes += held_payments_reconcile(now=now)
    changes += unprocessed_events_reconcile(now=now)
    changes += worker_stalled_alert(now=now)
    sent = notifications_deliver_due()
    if sent:
        changes.append(f"Delivered {sent} overdue notification(s).")
    return changes


def stale_checkouts_reconcile(*, now) -> list[str]:
    # Past its `expires_at` (the shopper already reads it expired): ask Stripe, which closes
    # the session then; one it still reports open is asked again on the next run.
    cutoff = now - checkout_lifetime()
    stale = Order.objects.filter(status=Status.PENDING_PAYMENT, created_at__lt=cutoff)
    changes = []
    for order in stale.iterator():
        try:
            line = _stale_checkout_reconcile(order)
        except GatewayError as exc:
            logger.warning("Could not ask Stripe about %s: %s", order.order_number, exc.detail)
            line = f"{order.order_number}: could not ask Stripe ({exc.detail}); left."
        if line:
            changes.append(line)
    return changes


def _stale_checkout_reconcile(order: Order) -> str:
    session_id = order.stripe_checkout_session_id
    if not session_id:
        order_fail_checkout(order=order, error="No Checkout Session was ever attached.")
        return f"{order.order_number}: checkout never reached Stripe; failed, diamond released."
    session = payment_gateway().checkout_session_retrieve(session_id)
    state = session_payment_state(session)
    if state in FULFILLED:
        if session_fulfil(session=session).changed:
            return f"{order.order_number}: {state} at Stripe (missed webhook); fulfilled."
        return ""
    if session.get("status") == "expired" and order_mark_expired(order=order):
        return f"{order.order_number}: expired at Stripe (missed webhook); diamond released."
    return ""


def stalled_feed_orders_reconcile(*, now) -> list[str]:
    stalled_before = now - FEED_ORDER_STALL_AFTER
    pending = Order.objects.filter(
        status=Status.PAID,
        feed_order_status=FeedOrderStatus.PENDING,
        feed_order_requested_at__lt=stalled_before,
    )
    changes = []
    for order in pending.iterator():
        if order.feed_order_started_at is None:
            if order_feed_order_retry(
                order=order, reason="Reconciliation: the feed order never started; re-enqueued."
            ):
                changes.append(f"{order.order_number}: stalled feed order re-enqueued.")
        elif order.feed_order_started_at < stalled_before and feed_order_abandon(order=order):
            changes.append(
                f"{order.order_number}: feed order started but never finished; "
                "marked outcome unknown for ops."
            )
    return changes


def held_payments_reconcile(*, now) -> list[str]:
    """Authorised payments: a capture (the supplier confirmed) or a void whose outcome we did
    not see is asked of Stripe and applied; a capture still due is repeated with its one
    idempotency key (never a new one); an authorisation near its expiry is flagged once."""
    changes = []
    held = Order.objects.filter(status=Status.PAID, payment_status=PaymentStatus.AUTHORIZED)
    unseen = held.filter(
        Q(feed_order_status=FeedOrderStatus.SUCCESS, updated_at__lt=now - CAPTURE_GRACE)
        | ~Q(payment_error="")
    )
    for order in unseen.iterator():
        try:
            outcome = order_held_payment_reconcile(order=order)
        except (GatewayError, PaymentActionError) as exc:
            outcome = f"still not settled ({getattr(exc, 'detail', exc)})"
        changes.append(f"{order.order_number}: held payment {outcome}.")
    expiring = held.filter(paid_at__lt=now - authorization_warn_after())
    for order in expiring.iterator():
        if alert_authorization_expiring(order=order):
            changes.append(f"{order.order_number}: authorisation near expiry; ops alerted.")
    return changes


def unprocessed_events_reconcile(*, now) -> list[str]:
    events = WebhookEvent.objects.filter(
        processed_at__isnull=True, received_at__lt=now - UNPROCESSED_AFTER
    ).order_by("received_at")
    changes = []
    for record in events.iterator():
        webhook_event_process(record=record, retry=True)
        record.refresh_from_db()
        outcome = "processed" if record.processed_at else f"failed again: {record.processing_error}"
        changes.append(f"Stripe event {record.stripe_event_id} ({record.type}): {outcome}.")
    return changes
