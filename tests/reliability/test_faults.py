"""Faults injected for real: database connections killed by PostgreSQL mid-request, the task
worker killed with SIGKILL mid-order, Nivoda failing every way its double can, Slack down. After
each: nothing lost, nothing half-done, and the problem is visible in the admin. (Stripe failing
at session creation and at refund is covered by tests/payments/test_checkout.py and
test_refund.py.)"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
import requests
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from catalog.models import Availability, Feed
from notifications.models import Category, Notification
from orders.feed_orders import UNKNOWN_OUTCOME_NOTE
from orders.models import FeedOrderStatus, Order, OrderEvent, PaymentStatus, Status
from payments.models import WebhookEvent
from tests.doubles.stripe import WEBHOOK_PATH, post_event, sign, stripe_event
from tests.factories import DiamondFactory, OrderFactory, StaffFactory
from tests.payments.test_webhooks import session_for
from tests.reliability.conftest import drain_tasks

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
CHANGELIST = reverse("admin:orders_order_changelist")


# ---------------------------------------------------------------- helpers


def other_connection(**kwargs) -> psycopg.Connection:
    """A second, raw connection to the test database: the fault injector."""
    s = connection.settings_dict
    return psycopg.connect(
        dbname=s["NAME"],
        user=s["USER"],
        password=s["PASSWORD"] or None,
        host=s["HOST"],
        port=s["PORT"] or 5432,
        **kwargs,
    )


def worker_database_url() -> str:
    """The test database, for a subprocess (the worker) to use."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    password = f":{quote(s['PASSWORD'], safe='')}" if s["PASSWORD"] else ""
    return f"postgres://{s['USER']}{password}@{s['HOST']}:{s['PORT'] or 5432}/{s['NAME']}"


def wait_for_blocked_backend(watcher, query_prefix: str, timeout=20) -> int:
    """The pid of the backend waiting on a lock while running a statement starting with
    `query_prefix` — i.e. the request's connection, stopped at that exact statement."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = watcher.execute(
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE %s AND pid <> pg_backend_pid()",
            [query_prefix + "%"],
        ).fetchone()
        if row:
            return row[0]
        time.sleep(0.02)
    raise AssertionError(f"no backend blocked on {query_prefix!r} within {timeout}s")


def signed(event) -> tuple[bytes, dict]:
    body = json.dumps(event).encode()
    return body, {
        "Content-Type": "application/json",
        "Stripe-Signature": sign(body, settings.STRIPE_WEBHOOK_SECRET),
    }


def deliver_in_background(url, event) -> dict:
    answer = {}

    def send():
        body, headers = signed(event)
        response = requests.post(url, data=body, headers=headers, timeout=60)
        answer["status"], answer["body"] = response.status_code, response.json()

    thread = threading.Thread(target=send)
    thread.start()
    answer["thread"] = thread
    return answer


def kill_request_connection_at(live_server, event, *, locked_table, statement):
    """Deliver `event`; when its connection blocks on `statement` (behind a lock this test
    holds on `locked_table`), terminate that backend with pg_terminate_backend — exactly what
    a database restart or a dropped network link does to an in-flight request."""
    with other_connection() as locker, other_connection(autocommit=True) as killer:
        locker.execute(f"LOCK TABLE {locked_table} IN ACCESS EXCLUSIVE MODE")
        answer = deliver_in_background(live_server.url + WEBHOOK_PATH, event)
        pid = wait_for_blocked_backend(killer, statement)
        assert killer.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
        locker.rollback()
    answer["thread"].join(timeout=30)
    return answer


def staff_client():
    client = Client()
    client.force_login(StaffFactory())
    return client


def attention_rows(client) -> str:
    response = client.get(CHANGELIST, {"needs_attention": "yes"})
    assert response.status_code == 200
    return response.content.decode()


# ---------------------------------------------------------------- database drops mid-webhook


def test_connection_killed_while_recording_the_event_is_5xx_and_the_retry_succeeds(
    postgres_only, live_server, database_tasks, recording_feed, caplog
):
    order = OrderFactory(diamond__feed="recording")
    event = stripe_event("checkout.session.completed", session_for(order))

    answer = kill_request_connection_at(
        live_server,
        event,
        locked_table="payments_webhookevent",
        statement='INSERT INTO "payments_webhookevent"',
    )

    assert answer["status"] == 503
    assert answer["body"] == {"message": "Could not record the event; please retry."}
    assert not WebhookEvent.objects.exists()
    order.refresh_from_db()
    assert order.status == Status.PENDING_PAYMENT
    assert f"Could not record Stripe event {event['id']}" in caplog.text

    # Stripe retries the same event (same id, newly signed): it is recorded and applied once.
    body, headers = signed(event)
    retry = requests.post(live_server.url + WEBHOOK_PATH, data=body, headers=headers, timeout=30)
    assert retry.status_code == 200
    order.refresh_from_db()
    assert (order.status, order.feed_order_status) == (Status.PAID, FeedOrderStatus.PENDING)
    assert DBTaskResult.objects.filter(task_path="orders.feed_orders.feed_order_place").count() == 1


def test_connection_killed_mid_transaction_leaves_nothing_half_done(
    postgres_only, live_server, database_tasks, recording_feed
):
    """Killed after the order row was updated and its timeline written, before the feed-order
    task was enqueued and the transaction committed: all of it rolls back together."""
    order = OrderFactory(diamond__feed="recording")
    event = stripe_event("checkout.session.completed", session_for(order))

    answer = kill_request_connection_at(
        live_server,
        event,
        locked_table="django_tasks_database_dbtaskresult",
        statement='INSERT INTO "django_tasks_database_dbtaskresult"',
    )

    # The event itself was recorded (its own committed transaction) with the error; the answer
    # is 200 by design ("5xx only when the event could not be durably recorded")...
    assert answer["status"] == 200, answer
    record = WebhookEvent.objects.get()
    assert record.processed_at is None
    assert "terminat" in record.processing_error.lower()
    # ...and nothing of the half-run transaction survived.
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (Status.PENDING_PAYMENT, PaymentStatus.PENDING)
    assert not OrderEvent.objects.filter(order=order, kind="paid").exists()
    assert not DBTaskResult.objects.filter(task_path="orders.feed_orders.feed_order_place").exists()

    # Stripe's redelivery of the same event (or reconcile_payments) applies it, once.
    body, headers = signed(event)
    retry = requests.post(live_server.url + WEBHOOK_PATH, data=body, headers=headers, timeout=30)
    assert retry.status_code == 200
    assert retry.json()["message"].startswith("Retried: ")
    record.refresh_from_db()
    assert record.processed_at is not None and record.processing_error == ""
    order.refresh_from_db()
    assert order.status == Status.PAID
    assert OrderEvent.objects.filter(order=order, kind="paid").count() == 1
    assert DBTaskResult.objects.filter(task_path="orders.feed_orders.feed_order_place").count() == 1


# ---------------------------------------------------------------- the worker killed mid-order


def nivoda_order(nivoda_api, **fields):
    item = nivoda_api.add_stone()
    diamond = DiamondFactory(
        feed=Feed.NIVODA,
        supplier_stone_id=item["diamond"]["id"],
        offer_id=item["id"],
        availability=Availability.RESERVED,
    )
    return OrderFactory(diamond=diamond, **fields)


def test_worker_killed_while_the_feed_order_hangs_is_recovered_as_outcome_unknown(
    postgres_only, client, database_tasks, nivoda_api, tmp_path
):
    order = nivoda_order(nivoda_api)
    nivoda_api.fail("hang", operation="create_order")
    assert post_event(client, stripe_event("checkout.session.completed", session_for(order)))
    assert DBTaskResult.objects.filter(task_path="orders.feed_orders.feed_order_place").count() == 1

    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "-v", "0"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": worker_database_url(),
            "TASKS_BACKEND": "database",
            "NIVODA_ENDPOINT": settings.NIVODA_ENDPOINT,
            "NIVODA_USERNAME": settings.NIVODA_USERNAME,
            "NIVODA_PASSWORD": settings.NIVODA_PASSWORD,
            "NIVODA_DESTINATION_ID": settings.NIVODA_DESTINATION_ID,
            "NIVODA_TIMEOUT_SECONDS": "60",
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while not nivoda_api.calls("create_order"):
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            assert time.monotonic() < deadline, "the worker never reached Nivoda"
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.kill()
        worker.wait(timeout=10)
        log.close()

    # The worker died inside the supplier call: the attempt was claimed and never finished.
    order.refresh_from_db()
    assert (order.status, order.feed_order_status) == (Status.PAID, FeedOrderStatus.PENDING)
    assert order.feed_order_started_at is not None
    assert (
        DBTaskResult.objects.get(task_path="orders.feed_orders.feed_order_place").status
        == "RUNNING"
    )

    # Ten minutes later (moved back in the database, not waited for) it needs attention, and
    # reconcile_payments turns it into a visible "outcome unknown" failure, never a retry.
    Order.objects.filter(pk=order.pk).update(
        feed_order_requested_at=F("feed_order_requested_at") - timedelta(minutes=11),
        feed_order_started_at=F("feed_order_started_at") - timedelta(minutes=11),
    )
    order.refresh_from_db()
    assert order.needs_attention
    call_command("reconcile_payments", stdout=open(os.devnull, "w"))  # noqa: SIM115

    order.refresh_from_db()
    assert order.feed_order_status == FeedOrderStatus.UNKNOWN
    assert UNKNOWN_OUTCOME_NOTE in order.feed_order_error
    assert order.needs_attention
    assert len(nivoda_api.calls("create_order")) == 1  # never retried blindly
    assert Notification.objects.filter(
        reference=order.order_number, category=Category.ORDER_FEED_FAILURE
    ).exists()
    admin = staff_client()
    assert order.order_number in attention_rows(admin)
    page = admin.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "Outcome unknown" in page


# ---------------------------------------------------------------- Nivoda failing the order


@pytest.mark.parametrize(
    ("mode", "unknown"),
    [("http_500", True), ("garbage", True), ("hang", True), ("graphql_error", False)],
)
def test_nivoda_failing_the_order_leaves_a_paid_order_in_plain_sight(
    postgres_only, client, database_tasks, nivoda_api, slack_api, settings, mode, unknown
):
    settings.NIVODA_TIMEOUT_SECONDS = 0.5
    order = nivoda_order(nivoda_api)
    nivoda_api.fail(mode, operation="create_order", message="Offer is on memo elsewhere")

    response = post_event(client, stripe_event("checkout.session.completed", session_for(order)))
    assert response.status_code == 200  # Stripe is told "done" whatever the supplier does
    drain_tasks()

    order.refresh_from_db()
    assert (order.status, order.payment_status, order.feed_order_status) == (
        Status.PAID,
        PaymentStatus.PAID,
        FeedOrderStatus.UNKNOWN if unknown else FeedOrderStatus.FAILED,
    )
    assert (UNKNOWN_OUTCOME_NOTE in order.feed_order_error) is unknown
    assert order.order_number in order.feed_order_error
    assert len(nivoda_api.calls("create_order")) == 1
    assert order.needs_attention
    alert = Notification.objects.get(
        reference=order.order_number, category=Category.ORDER_FEED_FAILURE
    )
    assert alert.status == Notification.DeliveryStatus.SENT
    (message,) = slack_api.messages
    assert order.order_number in json.dumps(message)
    assert order.order_number in attention_rows(staff_client())


# ---------------------------------------------------------------- Slack down


def test_slack_down_delays_the_alert_never_the_order_and_it_is_delivered_later(
    postgres_only, client, database_tasks, nivoda_api, slack_api
):
    order = nivoda_order(nivoda_api)
    nivoda_api.fail("graphql_error", operation="create_order")
    slack_api.down = True

    post_event(client, stripe_event("checkout.session.completed", session_for(order)))
    drain_tasks()

    order.refresh_from_db()
    assert order.feed_order_status == FeedOrderStatus.FAILED and order.needs_attention
    alert = Notification.objects.get(reference=order.order_number, kind="slack")
    assert alert.status == Notification.DeliveryStatus.PENDING
    assert alert.attempts == 1 and "service_unavailable" in alert.last_error
    # The retry is a deferred task in the queue, not something held in memory.
    assert DBTaskResult.objects.filter(
        task_path="notifications.tasks.notification_deliver", status="READY"
    ).exists()
    assert order.order_number in attention_rows(staff_client())

    slack_api.down = False
    Notification.objects.filter(pk=alert.pk).update(
        next_attempt_at=F("next_attempt_at") - timedelta(hours=1)
    )
    call_command("reconcile_payments", stdout=open(os.devnull, "w"))  # noqa: SIM115
    alert.refresh_from_db()
    assert alert.status == Notification.DeliveryStatus.SENT
    assert len(slack_api.messages) == 1
