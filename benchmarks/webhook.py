"""Webhook throughput: signed `checkout.session.completed` (paid) events, each for a distinct
pending order, against gunicorn on PostgreSQL, at several concurrencies; the baseline is
`/bench/noop` (same server, same middleware, same body sizes) measured right before each level.

TASKS_BACKEND=database (production): the webhook's transaction records the event, marks the
order paid and enqueues the feed-order task; no worker runs during the timed part. Afterwards
`manage.py db_worker --batch` drains the queued feed orders (demo feed, Slack in log mode) and
that rate is reported too.

    .venv/bin/python -m benchmarks.webhook [--events 2000] [--levels 1,8,32] [--no-drain]
"""

from __future__ import annotations

import argparse
import subprocess
import time
from datetime import UTC, datetime
from decimal import Decimal

from benchmarks import common


def create_orders(count: int, *, offset: int = 0):
    from django.contrib.auth import get_user_model

    from catalog.models import Availability, Diamond
    from orders.models import Order

    user, _ = get_user_model().objects.get_or_create(username="bench-shopper")
    diamonds = Diamond.objects.bulk_create(
        [
            Diamond(
                feed="bench",
                supplier_stone_id=f"BENCH-{offset + i:07d}",
                offer_id=f"OFFER-{offset + i:07d}",
                shape="ROUND",
                carats=Decimal("1.01"),
                color="G",
                clarity="VS1",
                cut="EX",
                polish="EX",
                symmetry="EX",
                lab="GIA",
                certificate_number=f"{2200000000 + offset + i}",
                price_nzd=Decimal("9876.00"),
                price_model_nzd=Decimal("12345.00"),
                availability=Availability.RESERVED,
            )
            for i in range(count)
        ],
        batch_size=2000,
    )
    return Order.objects.bulk_create(
        [
            Order(
                user=user,
                diamond=diamond,
                feed="bench",
                offer_id=diamond.offer_id,
                order_number=f"DO-20260101-{offset + i + 1:04d}",
                idempotency_key=f"checkout-bench-{offset + i}",
                stripe_checkout_session_id=f"cs_test_bench{offset + i:07d}",
                amount_cents=1234500,
                currency="nzd",
            )
            for i, diamond in enumerate(diamonds)
        ],
        batch_size=2000,
    )


def webhook_requests(orders) -> list[tuple]:
    from django.conf import settings

    from benchmarks.doubles import WEBHOOK_PATH, completed_session, signed_event

    out = []
    for i, order in enumerate(orders):
        session = completed_session(
            session_id=order.stripe_checkout_session_id,
            order_id=str(order.id),
            order_number=order.order_number,
            diamond_id=str(order.diamond_id),
            amount=order.amount_cents,
            currency=order.currency,
            intent_id=f"pi_test_bench{i:07d}",
            payment_status="paid",
        )
        body, headers = signed_event(
            "checkout.session.completed",
            session,
            event_id=f"evt_bench_{order.pk}",
            secret=settings.STRIPE_WEBHOOK_SECRET,
        )
        out.append(("POST", WEBHOOK_PATH, body, headers))
    return out


def noop_requests(like: list[tuple], path="/bench/noop") -> list[tuple]:
    return [
        (method, path, body, {"Content-Type": "application/json"}) for method, _, body, _ in like
    ]


def verify(orders) -> str:
    from django_tasks_db.models import DBTaskResult

    from orders.models import Order
    from payments.models import WebhookEvent

    ids = [o.pk for o in orders]
    paid = Order.objects.filter(pk__in=ids, status="paid", feed_order_status="pending").count()
    events = WebhookEvent.objects.filter(
        stripe_event_id__in=[f"evt_bench_{i}" for i in ids], processed_at__isnull=False
    ).count()
    tasks = DBTaskResult.objects.filter(
        task_path="orders.feed_orders.feed_order_place",
        args_kwargs__kwargs__order_id__in=[str(i) for i in ids],
    )
    tasks = tasks.count()
    ok = paid == events == tasks == len(ids)
    verdict = "OK" if ok else "MISMATCH"
    return f"{verdict}: {paid} paid, {events} events processed, {tasks} feed-order tasks"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000, help="events per level")
    parser.add_argument("--levels", default="1,8,32")
    parser.add_argument("--no-drain", action="store_true")
    parser.add_argument(
        "--gunicorn", default=" ".join(common.GUNICORN_ARGS), help="gunicorn worker options"
    )
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]

    common.django_setup()
    common.migrate()
    common.truncate(
        "payments_webhookevent",
        "orders_orderevent",
        "orders_order",
        "catalog_diamond",
        "notifications_notification",
        "django_tasks_database_dbtaskresult",
    )
    warmup = 200
    orders = create_orders(warmup + args.events * len(levels))
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_write")
        cursor.execute("CREATE TABLE bench_write (id bigserial PRIMARY KEY, size int)")
    common.vacuum_analyze("orders_order", "catalog_diamond")
    print(f"# webhook benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    gunicorn_args = args.gunicorn.split()
    print(f"gunicorn {args.gunicorn}; TASKS_BACKEND=database; {common.machine_note()}\n")
    rows = [common.ROW_HEADER]
    with common.gunicorn(args=gunicorn_args) as port:
        common.run_load(port, noop_requests(webhook_requests(orders[:warmup])), concurrency=8)
        common.run_load(port, webhook_requests(orders[:warmup]), concurrency=8)
        for n, level in enumerate(levels):
            batch = orders[warmup + n * args.events : warmup + (n + 1) * args.events]
            hooks = webhook_requests(batch)
            base = common.run_load(port, noop_requests(hooks), concurrency=level)
            floor = common.run_load(
                port, noop_requests(hooks, "/bench/two-commits"), concurrency=level
            )
            result = common.run_load(port, hooks, concurrency=level)
            rows.append(base.row("noop baseline"))
            rows.append(floor.row("two-commit baseline"))
            rows.append(result.row("webhook"))
            print(
                f"c={level}: webhook {result.rate:,.0f}/s p99 {result.pct(99):.1f} ms; "
                f"cost ratio (mean latency) {result.mean_ms / base.mean_ms:.2f}x, "
                f"throughput ratio {base.rate / result.rate:.2f}x; vs two-commit baseline: "
                f"cost {result.mean_ms / floor.mean_ms:.2f}x, throughput "
                f"{floor.rate / result.rate:.2f}x; "
                f"client CPU {result.client_cpu:.1f}s of {result.elapsed:.1f}s; {verify(batch)}",
                flush=True,
            )
    print(f"\n(after the run: {common.machine_note()})\n")
    print("\n".join(rows))
    if not args.no_drain:
        # A burst of thousands of new task rows leaves the planner's statistics stale: the
        # worker's claim query then sorts the whole queue for every task (~30 ms at 6,000
        # queued) instead of reading one index entry (0.3 ms). Autovacuum catches up on its
        # own; the benchmark analyzes first so that the steady state is what is measured.
        common.vacuum_analyze("django_tasks_database_dbtaskresult")
        began = time.perf_counter()
        subprocess.run(
            [common.PYTHON, "manage.py", "db_worker", "--batch", "--no-startup-delay", "-v", "0"],
            cwd=common.ROOT,
            env={**__import__("os").environ, "DJANGO_SETTINGS_MODULE": common.SETTINGS},
            check=True,
        )
        elapsed = time.perf_counter() - began
        from orders.models import Order

        confirmed = Order.objects.filter(status="confirmed").count()
        print(
            f"\ndb_worker --batch: {confirmed} feed orders confirmed in {elapsed:.1f}s "
            f"({confirmed / elapsed:,.0f} orders/s; one worker process; each order is two tasks: "
            "the feed order and its Slack notification, logged)"
        )


if __name__ == "__main__":
    main()
