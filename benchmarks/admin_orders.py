"""The ops cockpit at 1k -> 10k -> 100k orders (1% needing attention): the admin index (the
dashboard: its figures and two charts), the orders list (needs-attention first, then newest),
its filters, a search, a deep page, a date-hierarchy drill and one order's page, each with its
query count. In-process (Django's test client, a logged-in superuser) on PostgreSQL.

    .venv/bin/python -m benchmarks.admin_orders [--sizes 1000,10000,100000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import random
from datetime import timedelta

from benchmarks import common

DIAMONDS = 2000


def grow_to(count: int, *, user, diamonds, rng):
    from django.utils import timezone

    from orders.models import FeedOrderStatus, FulfilmentStatus, Order, PaymentStatus, Status

    have = Order.objects.count()
    now = timezone.now()
    orders = []
    for i in range(have, count):
        created = now - timedelta(minutes=(count - i) * 7)
        kind = rng.random()
        if kind < 0.01:  # paid, the feed order failed: needs attention
            states = (Status.PAID, PaymentStatus.PAID, FeedOrderStatus.FAILED)
        elif kind < 0.15:
            states = (Status.EXPIRED, PaymentStatus.EXPIRED, FeedOrderStatus.NOT_ATTEMPTED)
        elif kind < 0.18:
            states = (Status.FAILED, PaymentStatus.FAILED, FeedOrderStatus.NOT_ATTEMPTED)
        else:
            states = (Status.CONFIRMED, PaymentStatus.PAID, FeedOrderStatus.SUCCESS)
        status, payment, feed_order = states
        paid = created + timedelta(minutes=2) if payment == "paid" else None
        # A confirmed order is on its way: most delivered, some shipped, a few awaited.
        way, shipped, delivered = FulfilmentStatus.NOT_STARTED, None, None
        if status == Status.CONFIRMED:
            way = (FulfilmentStatus.DELIVERED, FulfilmentStatus.SHIPPED)[i % 20 == 0]
            way = FulfilmentStatus.AWAITING_STONE if i % 20 == 1 else way
            shipped = (
                created + timedelta(days=5) if way != FulfilmentStatus.AWAITING_STONE else None
            )
            delivered = created + timedelta(days=7) if way == FulfilmentStatus.DELIVERED else None
        orders.append(
            Order(
                user=user,
                diamond=diamonds[i % len(diamonds)],
                feed="bench",
                offer_id=f"BENCH-OFFER-{i:07d}",
                order_number=f"DO-{created:%Y%m%d}-{i + 1:06d}",
                idempotency_key=f"checkout-bench-admin-{i}",
                stripe_checkout_session_id=f"cs_test_admin{i:07d}",
                stripe_payment_intent_id=f"pi_test_admin{i:07d}" if payment == "paid" else "",
                amount_cents=1_000_000 + i,
                status=status,
                payment_status=payment,
                feed_order_status=feed_order,
                feed_order_id=f"BENCH-{i}" if feed_order == FeedOrderStatus.SUCCESS else "",
                feed_order_error="Supplier refused the order." if feed_order == "failed" else "",
                created_at=created,
                paid_at=paid,
                confirmed_at=paid + timedelta(minutes=1 + i % 7) if status == "confirmed" else None,
                feed_order_attempt=1 if paid else 0,
                fulfilment_status=way,
                carrier="nzpost" if shipped else "",
                tracking_number=f"EG{i:09d}NZ" if shipped else "",
                shipped_at=shipped,
                delivered_at=delivered,
            )
        )
    Order.objects.bulk_create(orders, batch_size=5000)


def measure(client, path, repeat) -> tuple[float, float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):
        response = client.get(path, HTTP_X_FORWARDED_PROTO="https")
        assert response.status_code == 200, (path, response.status_code)
    with CaptureQueriesContext(connection) as queries:
        client.get(path, HTTP_X_FORWARDED_PROTO="https")
    query_count = len(queries)
    times = common.timed(lambda: client.get(path, HTTP_X_FORWARDED_PROTO="https"), repeat=repeat)
    return (
        common.percentile(times, 50),
        common.percentile(times, 95),
        query_count,
        len(response.content),
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    common.django_setup()
    common.migrate()
    from django.contrib.auth import get_user_model
    from django.core.signals import request_started
    from django.db import reset_queries

    # Each request starts by clearing the query log; keep it, to count the request's queries.
    request_started.disconnect(reset_queries)
    from django.test import Client
    from django.urls import reverse

    from benchmarks.feed import stone_row
    from catalog.models import Availability, Diamond
    from orders.models import Order

    common.truncate(
        "orders_orderevent", "notifications_notification", "orders_order", "catalog_diamond"
    )
    User = get_user_model()
    User.objects.filter(username__in=["bench-admin", "bench-admin-shopper"]).delete()
    staff = User.objects.create_superuser("bench-admin", "admin@example.com", None)
    shopper = User.objects.create_user("bench-admin-shopper", "shopper@example.com", None)
    diamonds = Diamond.objects.bulk_create(
        [
            Diamond(feed="bench", **{**stone_row(i), "availability": Availability.SOLD})
            for i in range(DIAMONDS)
        ]
    )
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(staff)
    rng = random.Random(7)
    changelist = reverse("admin:orders_order_changelist")

    print(f"# admin orders benchmark; {common.machine_note()}\n")
    rows = [
        "| orders | page | p50 ms | p95 ms | queries | KB |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for size in (int(x) for x in args.sizes.split(",")):
        grow_to(size, user=shopper, diamonds=diamonds, rng=rng)
        common.vacuum_analyze("orders_order")
        sample = Order.objects.order_by("created_at")[size // 2]
        pages = [
            ("orders list (attention first, newest)", changelist),
            ("filter: needs attention", changelist + "?needs_attention=yes"),
            ("search by order number", changelist + f"?q={sample.order_number}"),
            (f"page {min(50, size // 50)}", changelist + f"?p={min(50, size // 50)}"),
            ("admin index (the dashboard)", reverse("admin:index")),
            ("filter: paid in the last 7 days", changelist + "?paid=7d"),
            (
                "date hierarchy: one month",
                changelist
                + f"?created_at__year={sample.created_at.year}"
                + f"&created_at__month={sample.created_at.month}",
            ),
            ("one order", reverse("admin:orders_order_change", args=[sample.pk])),
        ]
        for label, path in pages:
            p50, p95, queries, size_bytes = measure(client, path, args.repeat)
            rows.append(
                f"| {size:,} | {label} | {p50:.1f} | {p95:.1f} | {queries} "
                f"| {size_bytes / 1024:.0f} |"
            )
            print(rows[-1], flush=True)
    print(f"\n(after the run: {common.machine_note()})\n")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
