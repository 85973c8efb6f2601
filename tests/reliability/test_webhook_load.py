"""1,000 signed webhook deliveries, 20% of them repeats, shuffled, sent by 16 threads at once to
a live server on PostgreSQL, with the production task setup (the feed order is a queued task).

Each order gets the events Stripe would send for its story; every story's events arrive in a
random order and some twice. Afterwards every order is in its story's final state, each paid
order has exactly one feed-order task and exactly one supplier call, and nothing answered 5xx.
"""

import json
import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django_tasks_db.models import DBTaskResult

from catalog.models import Availability
from orders.models import FeedOrderStatus, OrderEvent, PaymentStatus, Status
from payments.models import WebhookEvent
from tests.doubles.stripe import WEBHOOK_PATH, sign, stripe_event
from tests.factories import OrderFactory, UserFactory
from tests.payments.test_webhooks import session_for
from tests.reliability.conftest import drain_tasks

pytestmark = pytest.mark.django_db(transaction=True)

DELIVERIES = 1000
DUPLICATES = 200
THREADS = 16
# story: (orders, events per order) -> 300 + 2*150 + 2*50 + 100 = 800 distinct events
STORIES = {"paid": 300, "delayed_paid": 150, "delayed_failed": 50, "expired": 100}


def story_events(story, order):
    unpaid = session_for(order, payment_status="unpaid", payment_intent=None)
    paid = session_for(order, payment_intent=f"pi_load_{order.order_number}")
    if story == "paid":
        return [stripe_event("checkout.session.completed", paid)]
    if story == "delayed_paid":
        return [
            stripe_event("checkout.session.completed", unpaid),
            stripe_event("checkout.session.async_payment_succeeded", paid),
        ]
    if story == "delayed_failed":
        return [
            stripe_event("checkout.session.completed", unpaid),
            stripe_event("checkout.session.async_payment_failed", unpaid),
        ]
    expired = session_for(order, status="expired", payment_status="unpaid", payment_intent=None)
    return [stripe_event("checkout.session.expired", expired)]


def deliver(url, event):
    body = json.dumps(event).encode()
    headers = {
        "Content-Type": "application/json",
        "Stripe-Signature": sign(body, settings.STRIPE_WEBHOOK_SECRET),
    }
    response = requests.post(url, data=body, headers=headers, timeout=60)
    return event["id"], response.status_code


def test_a_thousand_shuffled_deliveries_with_repeats(
    postgres_only, live_server, recording_feed, database_tasks
):
    rng = random.Random(20261124)
    user = UserFactory()
    orders = {
        story: OrderFactory.create_batch(count, user=user, diamond__feed="recording")
        for story, count in STORIES.items()
    }
    events = [e for story, batch in orders.items() for o in batch for e in story_events(story, o)]
    assert len(events) == DELIVERIES - DUPLICATES
    deliveries = events + rng.sample(events, DUPLICATES)
    rng.shuffle(deliveries)

    url = live_server.url + WEBHOOK_PATH
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        answers = list(pool.map(lambda event: deliver(url, event), deliveries))

    statuses = Counter(status for _, status in answers)
    assert statuses == {200: DELIVERIES}, statuses
    assert WebhookEvent.objects.count() == len(events)
    assert not WebhookEvent.objects.filter(processed_at__isnull=True).exists()
    assert not WebhookEvent.objects.exclude(processing_error="").exists()

    # Exactly one queued feed-order task per paid order, none for the others.
    tasks = Counter(
        kwargs["order_id"]
        for kwargs in DBTaskResult.objects.filter(
            task_path="orders.feed_orders.feed_order_place"
        ).values_list("args_kwargs__kwargs", flat=True)
    )
    paid_ids = {str(o.pk) for story in ("paid", "delayed_paid") for o in orders[story]}
    assert set(tasks) == paid_ids
    assert set(tasks.values()) == {1}

    drain_tasks()

    for story, batch in orders.items():
        for order in batch:
            order.refresh_from_db()
            order.diamond.refresh_from_db()
            if story in ("paid", "delayed_paid"):
                assert (order.status, order.payment_status, order.feed_order_status) == (
                    Status.CONFIRMED,
                    PaymentStatus.PAID,
                    FeedOrderStatus.SUCCESS,
                ), order.order_number
                assert order.feed_order_id == f"REC-{order.order_number}"
                assert order.diamond.availability == Availability.SOLD
            else:
                final = Status.FAILED if story == "delayed_failed" else Status.EXPIRED
                assert (order.status, order.payment_status, order.feed_order_status) == (
                    final,
                    final,
                    FeedOrderStatus.NOT_ATTEMPTED,
                ), order.order_number
                assert order.diamond.availability == Availability.AVAILABLE
    # One supplier call per paid order, none for the rest; one "paid" line on each timeline.
    assert recording_feed == Counter(
        {o.order_number: 1 for s in ("paid", "delayed_paid") for o in orders[s]}
    )
    paid_lines = Counter(OrderEvent.objects.filter(kind="paid").values_list("order_id", flat=True))
    assert {str(k) for k in paid_lines} == paid_ids
    assert set(paid_lines.values()) == {1}
    assert get_user_model().objects.count() == 1
