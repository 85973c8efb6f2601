"""The order pipeline end to end: from Stripe's event to a confirmed, captured, announced order.

Signed `checkout.session.completed` events — a card authorised with manual capture (the
session `unpaid`, its PaymentIntent `requires_capture`, which the webhook asks Stripe for),
shipping to New Zealand — each for a distinct pending order, sent to gunicorn on PostgreSQL
while W `manage.py db_worker` processes (TASKS_BACKEND=database) run the queued work: the
supplier order (the synthetic `bench` feed, instant), the capture, the shopper's two emails
(*payment received*; *order confirmed* with its tax invoice PDF) and the Slack alert. Stripe,
Slack and the mail server are instant stand-ins in this process (`benchmarks/doubles.py`).

Two phases:

- **burst**: `--burst` events from `--clients` closed-loop clients, as fast as the webhook takes
  them. *intake* = events / time to send them all; *end to end* = orders / time from the first
  event to the last order done (Confirmed, captured, both emails and the alert delivered).
- **steady**: `--rate` events/s (default: half the burst's end-to-end rate) for `--seconds`,
  open loop; each order's latency is from its event's delivery (request sent) to its
  `confirmed_at`, reported as p50 and p99.

The last line printed is
`pipeline: workers=W intake=X/s end_to_end=Y/s ratio=Y/X latency_p50=A ms latency_p99=B ms`
(intake and end to end from the burst, latency from the steady phase).

    .venv/bin/python -m benchmarks.pipeline [--workers 2] [--burst 300] [--clients 8]
        [--rate R] [--seconds 20] [--worker-args "--interval 1"]
"""

from __future__ import annotations

import argparse
import http.client
import os
import subprocess
import threading
import time
from datetime import UTC, datetime

from benchmarks import common
from benchmarks.webhook import create_orders

TABLES = (
    "payments_webhookevent",
    "orders_orderevent",
    "orders_order",
    "catalog_diamond",
    "notifications_attachment",
    "notifications_notification",
    "django_tasks_database_dbtaskresult",
)
EMAIL = "shopper@example.com"


def events_for(orders, stripe_stub) -> list[tuple]:
    """One signed `checkout.session.completed` per order, its card authorised at the stub."""
    from django.conf import settings

    from benchmarks.doubles import completed_session, signed_event

    out = []
    for order in orders:
        intent_id = f"pi_bench{order.order_number.replace('-', '')}"
        stripe_stub.authorise(
            intent_id=intent_id,
            amount=order.amount_cents,
            currency=order.currency,
            metadata={"order_id": str(order.pk), "order_number": order.order_number},
        )
        session = completed_session(
            session_id=order.stripe_checkout_session_id,
            order_id=str(order.pk),
            order_number=order.order_number,
            diamond_id=str(order.diamond_id),
            amount=order.amount_cents,
            currency=order.currency,
            intent_id=intent_id,
            payment_status="unpaid",
            email=EMAIL,
        )
        body, headers = signed_event(
            "checkout.session.completed",
            session,
            event_id=f"evt_bench_{order.pk}",
            secret=settings.STRIPE_WEBHOOK_SECRET,
        )
        out.append((order.order_number, body, headers))
    return out


def send(port: int, events: list[tuple], *, clients: int, rate: float | None = None) -> dict:
    """Send every event once; returns {order_number: (sent_at epoch seconds, status)}.
    Closed loop when `rate` is None; otherwise event i goes at start + i / rate (open loop)."""
    from benchmarks.doubles import WEBHOOK_PATH

    lock = threading.Lock()
    position = iter(range(len(events)))
    sent: dict[str, tuple[float, int]] = {}
    errors: list[BaseException] = []
    began = time.monotonic() + 0.05

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            while True:
                with lock:
                    index = next(position, None)
                if index is None:
                    return
                if rate is not None:
                    delay = began + index / rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                number, body, headers = events[index]
                at = time.time()
                conn.request(
                    "POST", WEBHOOK_PATH, body=body, headers={**common.PROXY_HEADERS, **headers}
                )
                response = conn.getresponse()
                response.read()
                with lock:
                    sent[number] = (at, response.status)
        except BaseException as exc:  # reported below, never hidden
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{len(errors)} client errors, first: {errors[0]!r}")
    return sent


def done_at(numbers: list[str]) -> dict[str, tuple[float | None, float | None]]:
    """Each finished order: (confirmed_at, when its last piece was done), epoch seconds. An
    order is finished when it is Confirmed, its payment captured, and both shopper emails and
    the Slack alert are delivered."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT o.order_number, o.confirmed_at, o.captured_at, max(n.sent_at)
            FROM orders_order o
            JOIN notifications_notification n ON n.reference = o.order_number
            WHERE o.order_number = ANY(%s) AND o.status = 'confirmed'
              AND o.payment_status = 'paid' AND o.captured_at IS NOT NULL
            GROUP BY o.id
            HAVING count(*) FILTER (WHERE n.kind = 'email' AND n.status = 'sent') = 2
               AND count(*) FILTER (WHERE n.kind = 'slack' AND n.status = 'sent') = 1
            """,
            [numbers],
        )
        return {
            number: (confirmed.timestamp(), max(confirmed, captured, sent).timestamp())
            for number, confirmed, captured, sent in cursor.fetchall()
        }


def wait_done(numbers: list[str], *, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        finished = done_at(numbers)
        if len(finished) == len(numbers) or time.monotonic() > deadline:
            return finished
        time.sleep(0.5)


def pct(values: list[float], p: float) -> float:
    return common.percentile(values, p) if values else float("nan")


def queue_counts() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT task_path, status, count(*) FROM django_tasks_database_dbtaskresult "
            "GROUP BY 1, 2 ORDER BY 1, 2"
        )
        return "; ".join(f"{path.rsplit('.', 1)[-1]} {status} {n}" for path, status, n in cursor)


def start_workers(count: int, *, env: dict, args: list[str]) -> list[subprocess.Popen]:
    return [
        subprocess.Popen(
            [common.PYTHON, "manage.py", "db_worker", "--no-startup-delay", "-v", "0", *args],
            cwd=common.ROOT,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": common.SETTINGS, **env},
        )
        for _ in range(count)
    ]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2, help="db_worker processes")
    parser.add_argument("--burst", type=int, default=300, help="events in the burst")
    parser.add_argument("--clients", type=int, default=8, help="concurrent senders (burst)")
    parser.add_argument("--rate", type=float, help="steady events/s (default: half end to end)")
    parser.add_argument("--seconds", type=float, default=20, help="length of the steady phase")
    parser.add_argument("--worker-args", default="", help="extra db_worker options")
    parser.add_argument("--timeout", type=float, default=600, help="wait for the pipeline (s)")
    parser.add_argument(
        "--gunicorn", default=" ".join(common.GUNICORN_ARGS), help="gunicorn worker options"
    )
    args = parser.parse_args()

    from benchmarks.doubles import SlackStub, SmtpStub, StripeStub

    common.django_setup()
    common.migrate()
    common.truncate(*TABLES)
    from django.contrib.auth import get_user_model

    stripe_stub, slack, smtp = StripeStub().start(), SlackStub().start(), SmtpStub().start()
    env = {
        "STRIPE_API_BASE": stripe_stub.url,
        "CHECKOUT_CAPTURE": "manual",
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_API_BASE_URL": f"{slack.url}/api/",
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
    }
    steady_max = int(args.rate * args.seconds) + 1 if args.rate else args.burst
    warmup = 20
    orders = create_orders(warmup + args.burst + steady_max)
    get_user_model().objects.filter(username="bench-shopper").update(email=EMAIL)
    common.vacuum_analyze("orders_order", "catalog_diamond")
    events = events_for(orders, stripe_stub)
    warm, burst = events[:warmup], events[warmup : warmup + args.burst]
    steady_pool = events[warmup + args.burst :]

    worker_args = args.worker_args.split()
    print(f"# pipeline benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"gunicorn {args.gunicorn}; {args.workers} x db_worker {' '.join(worker_args)}; "
        f"{common.machine_note()}\n"
    )
    workers = []
    try:
        with common.gunicorn(extra_env=env, args=args.gunicorn.split()) as port:
            workers = start_workers(args.workers, env=env, args=worker_args)
            send(port, warm, clients=2)
            warm_done = wait_done([n for n, _, _ in warm], timeout=args.timeout)
            if len(warm_done) != len(warm):
                raise RuntimeError(
                    f"warm-up: {len(warm_done)} of {len(warm)} done; {queue_counts()}"
                )

            # Burst: as fast as the webhook takes them.
            began = time.time()
            sent = send(port, burst, clients=args.clients)
            intake_s = max(at for at, _ in sent.values()) - began
            numbers = [n for n, _, _ in burst]
            finished = wait_done(numbers, timeout=args.timeout)
            statuses = sorted({status for _, status in sent.values()})
            if len(finished) < len(numbers):
                print(f"burst: only {len(finished)} of {len(numbers)} done; {queue_counts()}")
                wait_done(
                    numbers, timeout=args.timeout
                )  # the steady phase starts on an empty queue
            intake = len(sent) / intake_s
            e2e_s = max(last for _, last in finished.values()) - began
            end_to_end = len(finished) / e2e_s
            burst_lat = [(finished[n][0] - sent[n][0]) * 1000 for n in finished]
            print(
                f"burst: {len(sent)} events from {args.clients} clients in {intake_s:.1f} s "
                f"(intake {intake:.1f}/s, statuses {statuses}); {len(finished)} orders done in "
                f"{e2e_s:.1f} s (end to end {end_to_end:.1f}/s); latency to Confirmed p50 "
                f"{pct(burst_lat, 50):.0f} ms, p99 {pct(burst_lat, 99):.0f} ms",
                flush=True,
            )

            # Steady: an open-loop rate of half what the pipeline drains.
            rate = args.rate or max(1.0, end_to_end / 2)
            steady = steady_pool[: max(1, int(rate * args.seconds))]
            sent = send(port, steady, clients=args.clients, rate=rate)
            numbers = [n for n, _, _ in steady]
            finished = wait_done(numbers, timeout=args.timeout)
            latencies = [(finished[n][0] - sent[n][0]) * 1000 for n in finished]
            print(
                f"steady: {len(sent)} events at {rate:.1f}/s over {len(steady) / rate:.0f} s; "
                f"{len(finished)} orders done; latency to Confirmed p50 "
                f"{pct(latencies, 50):.0f} ms, p90 {pct(latencies, 90):.0f} ms, p99 "
                f"{pct(latencies, 99):.0f} ms, max {max(latencies, default=0):.0f} ms",
                flush=True,
            )
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        stripe_stub.stop()
        slack.stop()
        smtp.stop()
    print(
        f"\nqueue: {queue_counts()}\ndelivered: {smtp.messages} emails, {slack.messages} Slack "
        f"messages; Stripe calls: {stripe_stub.calls}\n(after the run: {common.machine_note()})"
    )
    print(
        f"pipeline: workers={args.workers} intake={intake:.1f}/s end_to_end={end_to_end:.1f}/s "
        f"ratio={end_to_end / intake:.2f} latency_p50={pct(latencies, 50):.0f} ms "
        f"latency_p99={pct(latencies, 99):.0f} ms"
    )


if __name__ == "__main__":
    main()
