"""Writing to the outbox: a message is stored with the change that caused it, and its
delivery is queued in the same transaction (or right after it commits)."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import IntegrityError, transaction

from core.tasks import enqueue_durably
from notifications.models import Category, Notification
from notifications.tasks import notification_deliver

ERRORS, OPS, RED, GREEN = "SLACK_CHANNEL_ERRORS", "SLACK_CHANNEL_OPS", "#dc3545", "#28a745"
SLACK_CHANNELS = {
    Category.ORDER_FEED_FAILURE: ERRORS,
    Category.ORDER_COMPLETED: OPS,
    Category.ORDER_DISPUTE: ERRORS,
    Category.ORDER_PAYMENT_FAILURE: ERRORS,
    Category.WEBHOOK_FAILED: ERRORS,
    Category.WORKER_STALLED: ERRORS,
}
SLACK_COLORS = {
    category: GREEN if channel == OPS else RED for category, channel in SLACK_CHANNELS.items()
}


def slack_message_create(
    *,
    category: str,
    title: str,
    text: str,
    fields: Iterable[tuple[str, object]],
    reference: str = "",
    link: str = "",
    dedupe_key: str | None = None,
) -> Notification | None:
    """A Slack attachment for the category's channel, in its colour; None when a message
    with the same `dedupe_key` exists already (an alert sent once per cause)."""
    return _create_once(
        dedupe_key,
        kind=Notification.Kind.SLACK,
        category=category,
        channel=getattr(settings, SLACK_CHANNELS[category]),
        color=SLACK_COLORS[category],
        title=title,
        text=text,
        fields=[
            {"title": name, "value": str(value), "short": len(str(value)) < 40}
            for name, value in fields
        ],
        reference=reference,
        link=link,
    )


def email_message_create(
    *, to: str, subject: str, text: str, html: str = "", reference: str = "", dedupe_key: str
) -> Notification | None:
    """An email; None when a message with the same `dedupe_key` already exists."""
    return _create_once(
        dedupe_key,
        kind=Notification.Kind.EMAIL,
        category=Category.ORDER_EMAIL,
        channel=to,
        title=subject,
        text=text,
        html=html,
        reference=reference,
    )


def _create_once(dedupe_key: str | None, **values) -> Notification | None:
    if dedupe_key is None:
        return _create(**values)
    if Notification.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    try:
        with transaction.atomic():
            return _create(dedupe_key=dedupe_key, **values)
    except IntegrityError:
        if Notification.objects.filter(dedupe_key=dedupe_key).exists():
            return None
        raise


def _create(**values) -> Notification:
    notification = Notification.objects.create(**values)
    enqueue_durably(notification_deliver, notification_id=notification.pk)
    return notification
