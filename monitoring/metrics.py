"""Prometheus metrics read from the truth at scrape time.

A fleet runs many processes; counters kept in each one's memory would each tell part of the
story (and a scrape reaches one process at random). So almost everything is read from the
database when Prometheus asks: the domain's figures (webhook events by type and outcome, order
transitions, feed orders by outcome and their latency) through the read functions the domain
apps register (`monitoring.figures`, so no domain app is imported), and the outbox and the
task queue, which monitoring reads itself.

The one figure the database does not keep, checkout refusals by code, is a counter in the
shared cache (`checkout_refusal_count`): fleet-wide with Redis, per process with the local
memory default, and — like any cache — lost if Redis restarts (Prometheus' `rate()` treats
that as a counter reset).
"""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Min
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)

from monitoring.figures import COUNTER, HISTOGRAM, Figure, figures_registered
from monitoring.health import outbox_oldest_pending, task_queue_oldest_ready

PREFIX = "diamonds"
REFUSALS_KEY = "metrics:checkout-refusals:"
REFUSAL_CODES_KEY = "metrics:checkout-refusal-codes"
LATENCY_BUCKETS = (1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)

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


class StoreCollector:
    """Each scrape: a handful of grouped queries, each bounded by an index or a time window."""

    def collect(self):
        now = timezone.now()
        for figure in figures_registered():
            yield self._family(figure, now)
        yield from self._outbox(now)
        yield from self._tasks(now)
        yield from self._checkouts()

    def _family(self, figure: Figure, now):
        name = f"{PREFIX}_{figure.name}"
        if figure.kind == HISTOGRAM:
            family = HistogramMetricFamily(name, figure.help, labels=list(figure.labels))
            for labels, observed in figure.read(now):
                buckets = [
                    (str(bound), sum(1 for value in observed if value <= bound))
                    for bound in LATENCY_BUCKETS
                ]
                buckets.append(("+Inf", len(observed)))
                family.add_metric(list(labels), buckets, sum_value=sum(observed))
            return family
        kind = CounterMetricFamily if figure.kind == COUNTER else GaugeMetricFamily
        family = kind(name, figure.help, labels=list(figure.labels))
        for labels, value in figure.read(now):
            family.add_metric(list(labels), value)
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
