"""Payments' figures for monitoring (`/metrics`), registered with `monitoring.figures`."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Q

from monitoring.figures import COUNTER, Figure, figure_register
from payments.models import WebhookEvent


def webhook_events(now: datetime):
    rows = WebhookEvent.objects.values("type").annotate(
        processed=Count("pk", filter=Q(processed_at__isnull=False)),
        error=Count("pk", filter=Q(processed_at__isnull=True) & ~Q(processing_error="")),
        pending=Count("pk", filter=Q(processed_at__isnull=True, processing_error="")),
    )
    return [
        ((row["type"], outcome), row[outcome])
        for row in rows.order_by("type")
        for outcome in ("processed", "error", "pending")
    ]


def figures_register() -> None:
    figure_register(
        Figure(
            "webhook_events",
            "Verified Stripe events stored, by type and processing outcome.",
            COUNTER,
            webhook_events,
            labels=("type", "outcome"),
        )
    )
