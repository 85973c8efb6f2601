"""Writing to the outbox: a message is stored with the change that caused it, and its
delivery is queued in the same transaction (or right after it commits).

Code that already runs in the task worker writes its messages `delivering_here()`: each is
then sent by that worker right after its transaction commits (one attempt; a failed one is
queued for its retry as usual), not queued as a task of its own, which a worker would claim,
record and run a moment later. Stored first, sent after the commit, so a message is never lost:
if the worker dies in between, the message stays pending and `reconcile_payments` (every five
minutes, `notifications_deliver_due`) sends it.

An email's attachments (the order-confirmed email's tax invoice, a PDF) are made by whoever
writes the email, when it is written (in the worker), and stored with it (`Attachment`) —
not kept as a reference to render at delivery. So delivery stays free of any domain code (the
outbox imports no domain app), every retry through a mail outage sends the same bytes, and the
outbox keeps exactly the document the customer received.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string

from core.tasks import enqueue_durably
from notifications.models import Attachment, Category, Notification
from notifications.tasks import notification_deliver

ERRORS, OPS, RED, GREEN = "SLACK_CHANNEL_ERRORS", "SLACK_CHANNEL_OPS", "#dc3545", "#28a745"
SLACK_CHANNELS = {
    Category.ORDER_FEED_FAILURE: ERRORS,
    Category.ORDER_COMPLETED: OPS,
    Category.ORDER_FULFILMENT: OPS,
    Category.ORDER_DISPUTE: ERRORS,
    Category.ORDER_PAYMENT_FAILURE: ERRORS,
    Category.WEBHOOK_FAILED: ERRORS,
    Category.WORKER_STALLED: ERRORS,
}
SLACK_COLORS = {
    category: GREEN if channel == OPS else RED for category, channel in SLACK_CHANNELS.items()
}


_delivering_here: ContextVar[bool] = ContextVar("outbox_delivering_here", default=False)


@contextmanager
def delivering_here() -> Iterator[None]:
    """Within: every message written is delivered by this process once its transaction
    commits, instead of by a task queued for it. For the worker's own tasks only (a web
    request must never wait on Slack or the mail server)."""
    token = _delivering_here.set(True)
    try:
        yield
    finally:
        _delivering_here.reset(token)


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


BLANK_LINES = re.compile(r"\n\s*\n(\s*\n)+")


def email_render(*, template: str, context: dict) -> tuple[str, str]:
    """(plain text, HTML) of an email from `<template>.txt` and `<template>.html` (the HTML
    extends `emails/base.html`); runs of blank lines the includes leave are folded."""
    text = render_to_string(f"{template}.txt", context)
    text = BLANK_LINES.sub("\n\n", text).strip() + "\n"
    return text, render_to_string(f"{template}.html", context)


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
    category: str = Category.ORDER_EMAIL,
    dedupe_key: str | None = None,
    attachments: Sequence[EmailAttachment] = (),
) -> Notification | None:
    """An email (with its attachments); None when a message with the same `dedupe_key`
    already exists (without a key, every call is a new message)."""
    return _create_once(
        dedupe_key,
        kind=Notification.Kind.EMAIL,
        category=category,
        channel=to,
        title=subject,
        text=text,
        html=html,
        reference=reference,
        attachments=attachments,
    )


def email_messages_sent_count(*, to: str, reference: str, since) -> int:
    """How many emails about `reference` went (or wait to go) to the address `to` (any
    case) since `since`: what a limit on mail to one address counts."""
    return Notification.objects.filter(
        kind=Notification.Kind.EMAIL,
        channel__iexact=to,
        reference=reference,
        created_at__gte=since,
    ).count()


def email_messages_erase(*, to: str) -> int:
    """Delete every email to the address `to` (any case), sent or waiting: a person who
    asks to be forgotten leaves no copy of what was written to them, and nothing still
    queued goes out. Returns how many there were."""
    if not to:
        return 0
    deleted, _ = Notification.objects.filter(
        kind=Notification.Kind.EMAIL, channel__iexact=to
    ).delete()
    return deleted


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
        if _delivering_here.get():
            pk = notification.pk
            transaction.on_commit(lambda: notification_deliver.call(notification_id=pk))
        else:
            enqueue_durably(notification_deliver, notification_id=notification.pk)
    return notification
