"""Writing to the outbox: a message is stored with the change that caused it, and its
delivery is queued in the same transaction (or right after it commits)."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import IntegrityError, transaction

from core.tasks import enqueue_durably
from notifications.models import Category, Notification
from notifications.tasks import notification_deliver

SLACK_CHANNELS = {
    Category.ORDER_FEED_FAILURE: "SLACK_CHANNEL_ERRORS",
    Category.ORDER_COMPLETED: "SLACK_CHANNEL_OPS",
}
SLACK_COLORS = {
    Category.ORDER_FEED_FAILURE: "#dc3545",
    Category.ORDER_COMPLETED: "#28a745",
}


def slack_message_create(
    *,
    category: str,
    title: str,
    text: str,
    fields: Iterable[tuple[str, object]],
    reference: str = "",
    link: str = "",
) -> Notification:
    """A Slack attachment for the category's channel, in its colour."""
    return _create(
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
    try:
        with transaction.atomic():
            return _create(
                kind=Notification.Kind.EMAIL,
                category=Category.ORDER_EMAIL,
                channel=to,
                title=subject,
                text=text,
                html=html,
                reference=reference,
                dedupe_key=dedupe_key,
            )
    except IntegrityError:
        if Notification.objects.filter(dedupe_key=dedupe_key).exists():
            return None
        raise


def _create(**values) -> Notification:
    notification = Notification.objects.create(**values)
    enqueue_durably(notification_deliver, notification_id=notification.pk)
    return notification
