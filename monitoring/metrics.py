"""Prometheus metrics read from the truth at scrape time.

A fleet runs many processes; counters kept in each one's memory would each tell part of the
story (and a scrape reaches one process at random). So almost everything is read from the
database when Prometheus asks — webhook events by type and outcome, order transitions (the
timeline), feed orders by outcome and their latency, the outbox, the task queue — with the ORM
through `apps.get_model`, so no domain app is imported.

The one figure the database does not keep, checkout refusals by code, is a counter in the
shared cache (`checkout_refusal_count`): fleet-wide with Redis, per process with the local
memory default, and — like any cache — lost if Redis restarts (Prometheus' `rate()` treats
that as a counter reset).
"""

from __future__ import annotations

import hmac
import logging
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Min, OuterRef, Q, Subquery
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)

from monitoring.health import outbox_oldest_pending, task_queue_oldest_ready

PREFIX = "diamonds"
REFUSALS_KEY = "metrics:checkout-refusals:"
REFUSAL_CODES_KEY = "metrics:checkout-refusal-codes"
FEED_OUTCOME_KINDS = ("feed_order_succeeded", "feed_order_failed", "feed_order_unknown")
LATENCY_BUCKETS = (1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
LATENCY_WINDOW_HOURS = 24

logger = logging.getLogger(__name__)


def checkout_refusal_count(code: str) -> None:
    """Count one refused checkout by its error code (the hook in the checkout views)."""
    try:
        codes = cache.get(REFUSAL_CODES_KEY) or []
        if code not in codes:
            cache.set(REFUSAL_CODES_KEY, sorted({*codes, code}), None)
        cache.add(REFUSALS_KEY + code, 0, None)
        cache.incr(REFUSALS_KEY + code)
    except Exception:  # a metric must never cost the shopper an answer
        logger.warning("Could not count checkout refusal %s", code, exc_info=True)


def _model(label: str):
    return apps.get_model(label)


class StoreCollector:
    """Each scrape: a handful of grouped queries, each bounded by an index or a time window."""

    def collect(self):
        now = timezone.now()
        yield from self._webhooks()
        yield from self._orders(now)
        yield from self._outbox(now)
        yield from self._tasks(now)
        yield from self._checkouts()

    def _webhooks(self):
        WebhookEvent = _model("payments.WebhookEvent")
        family = CounterMetricFamily(
            f"{PREFIX}_webhook_events",
            "Verified Stripe events stored, by type and processing outcome.",
            labels=["type", "outcome"],
        )
        rows = WebhookEvent.objects.values("type").annotate(
            processed=Count("pk", filter=Q(processed_at__isnull=False)),
            error=Count("pk", filter=Q(processed_at__isnull=True) & ~Q(processing_error="")),
            pending=Count("pk", filter=Q(processed_at__isnull=True, processing_error="")),
        )
        for row in rows.order_by("type"):
            for outcome in ("processed", "error", "pending"):
                family.add_metric([row["type"], outcome], row[outcome])
        yield family

    def _orders(self, now):
        Order = _model("orders.Order")
        OrderEvent = _model("orders.OrderEvent")
        transitions = CounterMetricFamily(
            f"{PREFIX}_order_transitions",
            "Order timeline events (state changes and actions), by kind.",
            labels=["kind"],
        )
        for row in OrderEvent.objects.values("kind").annotate(n=Count("pk")).order_by("kind"):
            transitions.add_metric([row["kind"]], row["n"])
        yield transitions

        feed = GaugeMetricFamily(
            f"{PREFIX}_orders_by_feed_order_status",
            "Orders by the state of their supplier (feed) order.",
            labels=["feed_order_status"],
        )
        rows = Order.objects.values("feed_order_status").annotate(n=Count("pk"))
        for row in rows.order_by("feed_order_status"):
            feed.add_metric([row["feed_order_status"]], row["n"])
        yield feed

        checkouts = CounterMetricFamily(
            f"{PREFIX}_checkout_creations", "Checkouts created (orders, any outcome)."
        )
        checkouts.add_metric([], Order.objects.count())
        yield checkouts

        yield self._feed_latency(Order, OrderEvent, now)

    def _feed_latency(self, Order, OrderEvent, now):
        """From payment to the first feed-order outcome on the timeline, for orders paid in the
        last day (a histogram of that window: it is recomputed, not accumulated)."""
        outcome_at = (
            OrderEvent.objects.filter(order=OuterRef("pk"), kind__in=FEED_OUTCOME_KINDS)
            .order_by("created_at")
            .values("created_at")[:1]
        )
        since = now - timedelta(hours=LATENCY_WINDOW_HOURS)
        pairs = (
            Order.objects.filter(paid_at__gte=since)
            .annotate(outcome_at=Subquery(outcome_at))
            .filter(outcome_at__isnull=False)
            .values_list("paid_at", "outcome_at")
        )
        latencies = [max((done - paid).total_seconds(), 0.0) for paid, done in pairs]
        buckets = [
            (str(bound), sum(1 for s in latencies if s <= bound)) for bound in LATENCY_BUCKETS
        ]
        buckets.append(("+Inf", len(latencies)))
        family = HistogramMetricFamily(
            f"{PREFIX}_feed_order_latency_seconds",
            f"Seconds from payment to the feed order's outcome, orders paid in the last "
            f"{LATENCY_WINDOW_HOURS}h.",
        )
        family.add_metric([], buckets, sum_value=sum(latencies))
        return family

    def _outbox(self, now):
        oldest, backlog = outbox_oldest_pending(now=now)
        yield GaugeMetricFamily(
            f"{PREFIX}_outbox_backlog", "Notifications not yet delivered.", value=backlog
        )
        age = (now - oldest).total_seconds() if oldest else 0.0
        yield GaugeMetricFamily(
            f"{PREFIX}_outbox_oldest_age_seconds",
            "Age of the oldest undelivered notification.",
            value=max(age, 0.0),
        )

    def _tasks(self, now):
        DBTaskResult = _model("django_tasks_database.DBTaskResult")
        depth = GaugeMetricFamily(
            f"{PREFIX}_task_queue_tasks", "Background tasks by status.", labels=["status"]
        )
        rows = DBTaskResult.objects.filter(status__in=("READY", "RUNNING")).values("status")
        counts = {row["status"]: row["n"] for row in rows.annotate(n=Count("pk"))}
        for status in ("READY", "RUNNING"):
            depth.add_metric([status.lower()], counts.get(status, 0))
        yield depth
        since, ready = task_queue_oldest_ready(now=now)
        yield GaugeMetricFamily(
            f"{PREFIX}_task_queue_ready", "Tasks ready to run now (not deferred).", value=ready
        )
        yield GaugeMetricFamily(
            f"{PREFIX}_task_queue_oldest_ready_age_seconds",
            "How long the oldest ready task has waited for a worker.",
            value=max((now - since).total_seconds(), 0.0) if since else 0.0,
        )
        running = DBTaskResult.objects.filter(status="RUNNING").aggregate(m=Min("started_at"))
        started = running["m"]
        yield GaugeMetricFamily(
            f"{PREFIX}_task_oldest_running_age_seconds",
            "How long the longest-running task has been running.",
            value=max((now - started).total_seconds(), 0.0) if started else 0.0,
        )

    def _checkouts(self):
        family = CounterMetricFamily(
            f"{PREFIX}_checkout_refusals",
            "Checkouts refused, by error code (a shared-cache counter; see monitoring/metrics.py).",
            labels=["code"],
        )
        codes = cache.get(REFUSAL_CODES_KEY) or []
        values = cache.get_many([REFUSALS_KEY + code for code in codes]) if codes else {}
        for code in codes:
            family.add_metric([code], values.get(REFUSALS_KEY + code, 0))
        yield family


def metrics_render() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector())
    return generate_latest(registry)


def metrics_authorized(header: str) -> bool:
    """`Authorization: Bearer <METRICS_TOKEN>`, compared in constant time."""
    token = settings.METRICS_TOKEN
    if not token:
        return False
    scheme, _, presented = (header or "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(presented.strip().encode(), token.encode())
