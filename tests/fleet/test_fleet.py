"""The fleet on one machine, for real: two gunicorn instances (2 processes each) and two
db_worker processes on one PostgreSQL and one Redis.

- Stripe's webhooks for the same sessions (manual capture: the card authorised), split across
  both instances, repeated and sent concurrently → per order one authorised transition, one
  feed order at the supplier, one capture at Stripe, one Slack alert, one payment-received and
  one confirmation email, no email twice (`expected_once` lists what must happen once per order).
- An import run beside instance A → instance B serves the new filter choices at once.
- A worker killed mid-task → it is never run twice: the other worker carries on with new work,
  and the killed attempt is flagged outcome-unknown for ops by reconcile_payments.
"""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from django.core.management import call_command
from django.db.models import F
from django_tasks_db.models import DBTaskResult

from catalog.models import Availability, Feed
from feeds.demo import demo_stones
from notifications.models import Category, Notification
from orders.feed_orders import UNKNOWN_OUTCOME_NOTE
from orders.models import FeedOrderStatus, Order, OrderEvent, Status
from tests.doubles.stripe import WEBHOOK_PATH, stripe_event
from tests.factories import DiamondFactory, OrderFactory
from tests.payments.test_webhooks import session_for
from tests.reliability.test_faults import signed

pytestmark = [
    pytest.mark.fleet,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

ORDERS = 6
DEADLINE_SECONDS = 60


def nivoda_order(nivoda_api) -> Order:
    item = nivoda_api.add_stone()
    diamond = DiamondFactory(
        feed=Feed.NIVODA,
        supplier_stone_id=item["diamond"]["id"],
        offer_id=item["id"],
        availability=Availability.RESERVED,
    )
    return OrderFactory(diamond=diamond)


def paid_session(stripe_api, order: Order) -> dict:
    """The shopper paid at Checkout (manual capture: the card is authorised): the session as
    Stripe's webhook carries it, known to the Stripe double with its held payment intent."""
    metadata = session_for(order)["metadata"]
    stripe_api.open_session(
        session_id=order.stripe_checkout_session_id,
        amount_total=order.amount_cents,
        currency=order.currency,
        metadata=metadata,
        client_reference_id=order.order_number,
        capture_method="manual",
    )
    return stripe_api.complete(order.stripe_checkout_session_id)


def captures_at_stripe(stripe_api, order: Order) -> int:
    intent = stripe_api.sessions[order.stripe_checkout_session_id]["payment_intent"]
    return len(stripe_api.calls("POST", f"/v1/payment_intents/{intent}/capture"))


def deliver(url: str, event: dict) -> int:
    body, headers = signed(event)
    return requests.post(url + WEBHOOK_PATH, data=body, headers=headers, timeout=30).status_code


def wait_until(condition, *, what: str, processes, timeout=DEADLINE_SECONDS):
    deadline = time.monotonic() + timeout
    while not condition():
        for process in processes:
            assert process.alive(), f"{process.name} died:\n{process.output()}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def feed_orders_at_supplier(nivoda_api) -> Counter:
    """Supplier orders placed, by offer id (each order here buys its own offer)."""
    return Counter(
        item["offerId"]
        for call in nivoda_api.calls("create_order")
        for item in call.variables.get("items", [])
    )


def slack_alerts(slack_api, order: Order) -> list[dict]:
    return [m for m in slack_api.messages if order.order_number in json.dumps(m)]


def emails_to_shopper(smtp_server, order: Order) -> Counter:
    """The emails the SMTP server received about this order, by subject."""
    return Counter(
        str(m["Subject"]).strip()
        for m in smtp_server.messages
        if order.order_number in m["Subject"]
    )


def expected_once(
    order: Order, *, stripe_api, nivoda_api, slack_api, smtp_server
) -> dict[str, int]:
    """What must have happened exactly once for a paid, confirmed order."""
    emails = emails_to_shopper(smtp_server, order)
    return {
        "authorised transition": OrderEvent.objects.filter(order=order, kind="authorized").count(),
        "feed-order task": DBTaskResult.objects.filter(
            task_path="orders.feed_orders.feed_order_place",
            args_kwargs__kwargs__order_id=str(order.pk),
        ).count(),
        "supplier order": feed_orders_at_supplier(nivoda_api)[order.offer_id],
        "supplier confirmed": OrderEvent.objects.filter(
            order=order, kind="supplier_confirmed"
        ).count(),
        "capture at Stripe": captures_at_stripe(stripe_api, order),
        "captured transition": OrderEvent.objects.filter(order=order, kind="captured").count(),
        "Slack alert": len(slack_alerts(slack_api, order)),
        "payment-received email": sum(n for subject, n in emails.items() if "received" in subject),
        "confirmation email": sum(n for subject, n in emails.items() if "confirmed" in subject),
        "the most copies of any email": max(emails.values(), default=0),
    }


def test_the_fleet_applies_each_payment_once_shares_its_cache_and_survives_a_killed_worker(
    fleet, stripe_api, slack_api, nivoda_api, smtp_server
):
    web_a, web_b = fleet.web("web-a"), fleet.web("web-b")
    workers = {name: fleet.worker(name) for name in ("worker-1", "worker-2")}
    fleet.wait_ready()
    everyone = [web_a, web_b, *workers.values()]

    # ------------------------------------------------------------ webhooks across the fleet
    orders = [nivoda_order(nivoda_api) for _ in range(ORDERS)]
    deliveries = []
    for order in orders:
        session = paid_session(stripe_api, order)
        completed = stripe_event("checkout.session.completed", session)
        # A second, distinct event for the same session (a second endpoint, or the success
        # page's own fulfilment, races the same way).
        again = stripe_event("checkout.session.completed", session)
        for event in (completed, again):
            for _ in range(2):  # and each is retried
                deliveries += [(web_a.url, event), (web_b.url, event)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda d: deliver(*d), deliveries))
    assert statuses == [200] * len(deliveries)

    def all_confirmed_and_alerted():
        done = Order.objects.filter(pk__in=[o.pk for o in orders], status=Status.CONFIRMED)
        return (
            done.count() == ORDERS
            and all(slack_alerts(slack_api, o) for o in orders)
            and all(emails_to_shopper(smtp_server, o) for o in orders)
        )

    wait_until(all_confirmed_and_alerted, what="every order confirmed", processes=everyone)
    time.sleep(1)  # a doubled task or alert would show up now
    for order in orders:
        order.refresh_from_db()
        counts = expected_once(
            order,
            stripe_api=stripe_api,
            nivoda_api=nivoda_api,
            slack_api=slack_api,
            smtp_server=smtp_server,
        )
        assert counts == dict.fromkeys(counts, 1), (order.order_number, counts)
    # Both instances took webhooks and both workers took tasks: it was a fleet.
    ran_on = {w for r in DBTaskResult.objects.all() for w in r.worker_ids}
    assert ran_on == set(workers), ran_on

    # ------------------------------------------------------------ a shared cache
    DiamondFactory(lab="AGS")  # the only stone on sale: the lab filter offers AGS alone
    for web in (web_a, web_b):
        page = requests.get(web.url + "/", timeout=10).text
        assert 'value="AGS"' in page and 'value="GIA"' not in page  # now cached
    fleet.command("import_feed", "demo")  # e.g. the deploy host's cron, beside instance A
    page_b = requests.get(web_b.url + "/", timeout=10).text
    for lab in {s.lab for s in demo_stones()}:
        assert f'value="{lab}"' in page_b, lab

    # ------------------------------------------------------------ a worker killed mid-task
    stuck = nivoda_order(nivoda_api)
    nivoda_api.fail("hang", operation="create_order")
    assert (
        deliver(
            web_a.url, stripe_event("checkout.session.completed", paid_session(stripe_api, stuck))
        )
        == 200
    )
    wait_until(
        lambda: feed_orders_at_supplier(nivoda_api)[stuck.offer_id] == 1,
        what="a worker to reach the supplier",
        processes=everyone,
    )
    task = DBTaskResult.objects.get(
        task_path="orders.feed_orders.feed_order_place", args_kwargs__kwargs__order_id=str(stuck.pk)
    )
    assert task.status == "RUNNING"
    (victim_name,) = task.worker_ids
    victim = workers.pop(victim_name)
    victim.stop(signal.SIGKILL)
    survivor = next(iter(workers.values()))

    # The survivor keeps working: a new payment is placed and confirmed by it alone.
    later = nivoda_order(nivoda_api)
    assert (
        deliver(
            web_b.url, stripe_event("checkout.session.completed", paid_session(stripe_api, later))
        )
        == 200
    )
    wait_until(
        lambda: Order.objects.get(pk=later.pk).status == Status.CONFIRMED,
        what="the surviving worker to confirm a new order",
        processes=[web_a, web_b, survivor],
    )
    later_tasks = DBTaskResult.objects.filter(args_kwargs__kwargs__order_id=str(later.pk))
    assert {w for t in later_tasks for w in t.worker_ids} == {survivor.name}

    # The killed attempt is never picked up again; once stalled (moved back, not waited
    # for) reconciliation flags it outcome-unknown for ops, and nothing re-orders the stone.
    time.sleep(1)
    assert DBTaskResult.objects.get(pk=task.pk).status == "RUNNING"
    Order.objects.filter(pk=stuck.pk).update(
        feed_order_requested_at=F("feed_order_requested_at") - timedelta(minutes=11),
        feed_order_started_at=F("feed_order_started_at") - timedelta(minutes=11),
    )
    call_command("reconcile_payments", stdout=open("/dev/null", "w"))  # noqa: SIM115
    stuck.refresh_from_db()
    assert stuck.feed_order_status == FeedOrderStatus.UNKNOWN
    assert UNKNOWN_OUTCOME_NOTE in stuck.feed_order_error
    assert stuck.needs_attention
    wait_until(
        lambda: Notification.objects.filter(
            reference=stuck.order_number, category=Category.ORDER_FEED_FAILURE, status="sent"
        ).exists(),
        what="the outcome-unknown alert to reach Slack",
        processes=[web_a, web_b, survivor],
    )
    time.sleep(1)
    assert feed_orders_at_supplier(nivoda_api)[stuck.offer_id] == 1  # never doubled
    assert captures_at_stripe(stripe_api, stuck) == 0  # the money stays held for ops
    assert captures_at_stripe(stripe_api, later) == 1
    assert len(slack_alerts(slack_api, stuck)) == 1
