"""Payments' own Slack alerts, handed to the outbox."""

from django.conf import settings
from django.urls import reverse

from notifications.models import Category
from notifications.outbox import slack_message_create
from payments.models import WebhookEvent


def alert_webhook_failed(*, record: WebhookEvent, error: str):
    """Once per event, however often its processing fails."""
    link = settings.STOREFRONT_URL + reverse("admin:payments_webhookevent_change", args=[record.pk])
    return slack_message_create(
        category=Category.WEBHOOK_FAILED,
        title=f"Stripe event {record.stripe_event_id} ({record.type}) could not be processed",
        text=error[:2000],
        fields=[
            ("Event", record.stripe_event_id),
            ("Type", record.type),
            ("Admin", link),
            ("Error", error[:500]),
        ],
        reference=record.stripe_event_id,
        link=link,
        dedupe_key=f"webhook-failed-{record.stripe_event_id}",
    )
