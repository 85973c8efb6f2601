"""Delivering the outbox: one attempt at a time, retried with backoff until Slack or the
mail server takes the message. An attempt is claimed first, so two senders never both send."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from notifications.models import Category, Notification

logger = logging.getLogger(__name__)

RETRY_BASE = timedelta(seconds=30)
RETRY_MAX = timedelta(hours=1)
# How long a claimed attempt may take before another sender may try again.
CLAIM_FOR = timedelta(minutes=5)


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    retry_at: datetime | None = None


def slack_client() -> WebClient:
    kwargs = {"token": settings.SLACK_BOT_TOKEN, "timeout": 10}
    if settings.SLACK_API_BASE_URL:
        kwargs["base_url"] = settings.SLACK_API_BASE_URL.rstrip("/") + "/"
    return WebClient(**kwargs)


def notification_deliver(*, notification_id) -> Outcome:
    """One delivery attempt. `delivered` when the message is out (or logged)."""
    now = timezone.now()
    claimed = Notification.objects.filter(
        pk=notification_id, status=Notification.DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + CLAIM_FOR)
    if not claimed:
        return Outcome(delivered=False)
    notification = Notification.objects.get(pk=notification_id)
    try:
        status = _send(notification)
    except (SlackApiError, OSError, ValueError) as exc:
        return _retry_later(notification, error=exc)
    Notification.objects.filter(pk=notification.pk).update(
        status=status,
        sent_at=timezone.now(),
        attempts=notification.attempts + 1,
        last_error="",
        next_attempt_at=None,
        # A one-time link is the recipient's alone: once it is out, the store keeps no copy.
        **({"text": "", "html": ""} if notification.holds_a_secret else {}),
    )
    return Outcome(delivered=True)


def _send(notification: Notification) -> str:
    if notification.kind == Notification.Kind.EMAIL:
        message = EmailMultiAlternatives(
            subject=notification.title,
            body=notification.text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[notification.channel],
        )
        if notification.html:
            message.attach_alternative(notification.html, "text/html")
        for attachment in notification.attachments.all():
            message.attach(attachment.filename, bytes(attachment.content), attachment.mimetype)
        message.send()
        if settings.DEBUG:  # `make run`: one line, the email itself is read in the admin
            logger.info(
                "Email to %s: %s (read it in the admin: %s/admin/notifications/notification/%s/)",
                notification.channel,
                notification.title,
                settings.STOREFRONT_URL,
                notification.pk,
            )
        return Notification.DeliveryStatus.SENT
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
        return Notification.DeliveryStatus.LOGGED
    slack_client().chat_postMessage(
        channel=notification.channel,
        text=notification.title,
        attachments=[
            {
                "color": notification.color,
                "title": notification.title,
                "title_link": notification.link or None,
                "text": notification.text,
                "fields": notification.fields,
                "fallback": notification.title,
            }
        ],
    )
    return Notification.DeliveryStatus.SENT


def _retry_later(notification: Notification, *, error) -> Outcome:
    attempts = notification.attempts + 1
    delay = min(RETRY_BASE * 2 ** (attempts - 1), RETRY_MAX)
    retry_at = timezone.now() + delay
    logger.warning(
        "%s delivery of notification %s failed (attempt %s), retrying in %s: %s",
        notification.get_kind_display(),
        notification.pk,
        attempts,
        delay,
        error,
    )
    Notification.objects.filter(pk=notification.pk).update(
        attempts=attempts, last_error=str(error)[:2000], next_attempt_at=retry_at
    )
    return Outcome(delivered=False, retry_at=retry_at)


def notifications_deliver_due(*, limit: int = 100) -> int:
    """Deliver every pending notification whose retry time has come; returns how many went."""
    due = Notification.objects.filter(
        status=Notification.DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now()
    ).values_list("pk", flat=True)[:limit]
    return sum(notification_deliver(notification_id=pk).delivered for pk in list(due))
