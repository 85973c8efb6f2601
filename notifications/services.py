"""Slack notifications through an outbox: the message is stored with the change that caused
it, then delivered by a task, retried with backoff until Slack takes it."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from notifications.models import Category, Notification

logger = logging.getLogger(__name__)

CHANNELS = {
    Category.ORDER_FEED_FAILURE: "SLACK_CHANNEL_ERRORS",
    Category.ORDER_COMPLETED: "SLACK_CHANNEL_OPS",
    Category.WORKER_STALLED: "SLACK_CHANNEL_ERRORS",
}
COLORS = {
    Category.ORDER_FEED_FAILURE: "#dc3545",
    Category.ORDER_COMPLETED: "#28a745",
    Category.WORKER_STALLED: "#dc3545",
}
RETRY_BASE = timedelta(seconds=30)
RETRY_MAX = timedelta(hours=1)


def notification_create(*, category: str, title: str, text: str, fields, order=None):
    """Store a message for delivery after the surrounding transaction commits."""
    from notifications.tasks import notification_deliver
    from orders.services import enqueue_durably

    notification = Notification.objects.create(
        category=category,
        channel=getattr(settings, CHANNELS[category]),
        color=COLORS[category],
        title=title,
        text=text,
        fields=[
            {"title": name, "value": str(value), "short": len(str(value)) < 40}
            for name, value in fields
        ],
        order=order,
    )
    enqueue_durably(notification_deliver, notification_id=notification.pk)
    return notification


def _order_fields(order):
    from orders.services import order_admin_url

    diamond = order.diamond
    return [
        ("Order", order.order_number),
        ("Diamond", f"{diamond} ({diamond.id})"),
        ("Feed", order.feed),
        ("Offer ID", order.offer_id or "—"),
        ("Amount", order.amount_display),
        ("Payment intent", order.stripe_payment_intent_id or "—"),
        ("Admin", order_admin_url(order)),
    ]


def notify_feed_failure(*, order):
    return notification_create(
        category=Category.ORDER_FEED_FAILURE,
        title=f"Feed order failed for {order.order_number}",
        text=order.feed_order_error,
        fields=[*_order_fields(order), ("Error", order.feed_order_error)],
        order=order,
    )


def notify_order_completed(*, order):
    return notification_create(
        category=Category.ORDER_COMPLETED,
        title=f"Order {order.order_number} confirmed",
        text=f"Feed order {order.feed_order_id} placed with {order.feed}.",
        fields=[*_order_fields(order), ("Feed order ID", order.feed_order_id)],
        order=order,
    )


def slack_client() -> WebClient:
    kwargs = {"token": settings.SLACK_BOT_TOKEN, "timeout": 10}
    if settings.SLACK_API_BASE_URL:
        kwargs["base_url"] = settings.SLACK_API_BASE_URL.rstrip("/") + "/"
    return WebClient(**kwargs)


def notification_deliver(*, notification_id) -> bool:
    """One delivery attempt. Returns True when the message is out (or logged)."""
    now = timezone.now()
    # Claim the attempt: push the next attempt out first, so a concurrent sender skips it.
    claimed = Notification.objects.filter(
        pk=notification_id, status=Notification.DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + RETRY_MAX)
    if not claimed:
        return False
    notification = Notification.objects.get(pk=notification_id)
    if not settings.SLACK_BOT_TOKEN:
        logger.log(
            logging.WARNING
            if notification.category == Category.ORDER_FEED_FAILURE
            else logging.INFO,
            "Slack (not configured) %s %s: %s | %s",
            notification.channel,
            notification.title,
            notification.text,
            "; ".join(f"{f['title']}: {f['value']}" for f in notification.fields),
        )
        Notification.objects.filter(pk=notification.pk).update(
            status=Notification.DeliveryStatus.LOGGED, sent_at=now
        )
        return True
    try:
        slack_client().chat_postMessage(
            channel=notification.channel,
            text=notification.title,
            attachments=[
                {
                    "color": notification.color,
                    "title": notification.title,
                    "text": notification.text,
                    "fields": notification.fields,
                    "fallback": notification.title,
                }
            ],
        )
    except (SlackApiError, OSError, ValueError) as exc:
        return _notification_retry_later(notification, error=exc)
    Notification.objects.filter(pk=notification.pk).update(
        status=Notification.DeliveryStatus.SENT,
        sent_at=timezone.now(),
        attempts=notification.attempts + 1,
        last_error="",
    )
    return True


def _notification_retry_later(notification, *, error) -> bool:
    from notifications.tasks import notification_deliver as deliver_task

    attempts = notification.attempts + 1
    delay = min(RETRY_BASE * 2 ** (attempts - 1), RETRY_MAX)
    next_attempt_at = timezone.now() + delay
    logger.warning(
        "Slack delivery of notification %s failed (attempt %s), retrying in %s: %s",
        notification.pk,
        attempts,
        delay,
        error,
    )
    Notification.objects.filter(pk=notification.pk).update(
        attempts=attempts, last_error=str(error)[:2000], next_attempt_at=next_attempt_at
    )
    backend = deliver_task.get_backend()
    if backend.supports_defer:
        deliver_task.using(run_after=next_attempt_at).enqueue(notification_id=notification.pk)
    return False


def notifications_deliver_due(*, limit: int = 100) -> int:
    """Deliver every pending notification whose retry time has come; returns how many went."""
    due = Notification.objects.filter(
        status=Notification.DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now()
    ).values_list("pk", flat=True)[:limit]
    return sum(notification_deliver(notification_id=pk) for pk in list(due))
