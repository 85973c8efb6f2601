"""Writing to the outbox: a message is stored with the change that caused it, and its
delivery is queued in the same transaction (or right after it commits).

An email's attachments (the order-confirmed email's tax invoice, a PDF) are made by whoever
writes the email, when it is written (in the worker), and stored with it (`Attachment`) —
not kept as a reference to render at delivery. So delivery stays free of any domain code (the
outbox imports no domain app), every retry through a mail outage sends the same bytes, and the
outbox keeps exactly the document the customer received.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction

from core.tasks import enqueue_durably
from notifications.models import Attachment, Category, Notification
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


@dataclass(frozen=True)
class EmailAttachment:
    filename: str
    content: bytes
    mimetype: str


def email_message_create(
    *,
    to: str,
    subject: str,
    text: str,
    html: str = "",
    reference: str = "",
    dedupe_key: str,
    attachments: Sequence[EmailAttachment] = (),
) -> Notification | None:
    """An email (with its attachments); None when a message with the same `dedupe_key`
    already exists."""
    return _create_once(
        dedupe_key,
        kind=Notification.Kind.EMAIL,
        category=Category.ORDER_EMAIL,
        channel=to,
        title=subject,
        text=text,
        html=html,
        reference=reference,
        attachments=attachments,
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


def _create(*, attachments: Sequence[EmailAttachment] = (), **values) -> Notification:
    with transaction.atomic(savepoint=False):  # the message and its files, or neither
        notification = Notification.objects.create(**values)
        Attachment.objects.bulk_create(
            Attachment(
                notification=notification,
                filename=attachment.filename,
                mimetype=attachment.mimetype,
                content=attachment.content,
            )
            for attachment in attachments
        )
        enqueue_durably(notification_deliver, notification_id=notification.pk)
    return notification
