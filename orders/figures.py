"""The order's figures for monitoring (`/metrics`), read from the order's own tables at scrape
time and registered with `monitoring.figures` when the app loads."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, OuterRef, Subquery

from monitoring.figures import COUNTER, GAUGE, HISTOGRAM, Figure, figure_register
from orders.models import Order, OrderEvent

# The timeline entries that end a supplier-order attempt.
FEED_OUTCOME_KINDS = (
    "feed_order_succeeded",
    "supplier_confirmed",
    "feed_order_failed",
    "feed_order_unknown",
)
LATENCY_WINDOW = timedelta(hours=24)


def order_transitions(now: datetime):
    rows = OrderEvent.objects.values("kind").annotate(n=Count("pk")).order_by("kind")
    return [((row["kind"],), row["n"]) for row in rows]


def orders_by_feed_order_status(now: datetime):
    rows = Order.objects.values("feed_order_status").annotate(n=Count("pk"))
    return [((row["feed_order_status"],), row["n"]) for row in rows.order_by("feed_order_status")]


def checkout_creations(now: datetime):
    return [((), Order.objects.count())]


def feed_order_latencies(now: datetime):
    """Seconds from payment to the first supplier-order outcome, for orders paid in the last
    day (the window is recomputed at each scrape, not accumulated)."""
    outcome_at = (
        OrderEvent.objects.filter(order=OuterRef("pk"), kind__in=FEED_OUTCOME_KINDS)
        .order_by("created_at")
        .values("created_at")[:1]
    )
    pairs = (
        Order.objects.filter(paid_at__gte=now - LATENCY_WINDOW)
        .annotate(outcome_at=Subquery(outcome_at))
        .filter(outcome_at__isnull=False)
        .values_list("paid_at", "outcome_at")
    )
    return [((), [max((done - paid).total_seconds(), 0.0) for paid, done in pairs])]


def figures_register() -> None:
    hours = int(LATENCY_WINDOW.total_seconds() // 3600)
    for figure in (
        Figure(
            "order_transitions",
            "Order timeline events (state changes and actions), by kind.",
            COUNTER,
            order_transitions,
            labels=("kind",),
        ),
        Figure(
            "orders_by_feed_order_status",
            "Orders by the state of their supplier (feed) order.",
            GAUGE,
            orders_by_feed_order_status,
            labels=("feed_order_status",),
        ),
        Figure(
            "checkout_creations",
            "Checkouts created (orders, any outcome).",
            COUNTER,
            checkout_creations,
        ),
        Figure(
            "feed_order_latency_seconds",
            f"Seconds from payment to the feed order's outcome, orders paid in the last {hours}h.",
            HISTOGRAM,
            feed_order_latencies,
        ),
    ):
        figure_register(figure)
