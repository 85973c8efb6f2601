"""`/metrics`: off without a token, bearer-only with one, and read from the database."""

import json
import uuid
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from monitoring.metrics import metrics_authorized
from notifications.models import Category, Notification
from orders.models import Order, OrderEvent
from tests.doubles.stripe import post_event, stripe_event
from tests.factories import DemoDiamondFactory, OrderFactory
from tests.payments.test_webhooks import session_for

pytestmark = pytest.mark.django_db

TOKEN = "metrics-test-token-0123456789"


def scrape(client, token=TOKEN) -> dict[tuple, float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def test_metrics_are_off_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.parametrize(
    "header", [None, "", f"Basic {TOKEN}", "Bearer wrong", f"Bearer {TOKEN}x", TOKEN]
)
def test_metrics_need_exactly_the_bearer_token(client, settings, header):
    settings.METRICS_TOKEN = TOKEN
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    response = client.get("/metrics", **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"diamonds_" not in response.content


def test_the_token_compare_is_hmac_compare_digest(settings):
    settings.METRICS_TOKEN = TOKEN
    assert metrics_authorized(f"Bearer {TOKEN}")
    assert metrics_authorized(f"bearer {TOKEN}")
    assert not metrics_authorized(f"Bearer {TOKEN[:-1]}")


def test_metrics_tell_the_story_the_database_keeps(
    client, settings, shopper_client, django_capture_on_commit_callbacks
):
    settings.METRICS_TOKEN = TOKEN
    cache.clear()
    order = OrderFactory(diamond=DemoDiamondFactory())
    OrderEvent.objects.create(order=order, kind="checkout_created")
    paid_event = stripe_event("checkout.session.completed", session_for(order))
    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(client, paid_event).status_code == 200
    assert post_event(client, paid_event).status_code == 200  # a repeat: stored once
    assert post_event(client, stripe_event("customer.created", {"id": "cus_1"})).status_code == 200
    Notification.objects.create(
        category=Category.ORDER_COMPLETED,
        channel="#ops",
        title="late",
        color="#28a745",
        created_at=timezone.now() - timedelta(seconds=90),
    )
    # Two refused checkouts (an unknown stone), through the real API.
    for _ in range(2):
        refused = shopper_client.post(
            "/api/v2/checkout/create",
            data=json.dumps({"diamond_id": str(uuid.uuid4())}),
            content_type="application/json",
        )
        assert refused.status_code == 404

    samples = scrape(client)

    order.refresh_from_db()
    assert order.feed_order_status == "success"
    assert (
        value(
            samples,
            "diamonds_webhook_events_total",
            type="checkout.session.completed",
            outcome="processed",
        )
        == 1
    )
    assert (
        value(samples, "diamonds_webhook_events_total", type="customer.created", outcome="error")
        == 0
    )
    assert value(samples, "diamonds_order_transitions_total", kind="paid") == 1
    assert value(samples, "diamonds_order_transitions_total", kind="feed_order_succeeded") == 1
    assert value(samples, "diamonds_orders_by_feed_order_status", feed_order_status="success") == 1
    assert value(samples, "diamonds_checkout_creations_total") == Order.objects.count()
    assert value(samples, "diamonds_feed_order_latency_seconds_count") == 1
    assert value(samples, "diamonds_feed_order_latency_seconds_bucket", le="+Inf") == 1
    assert value(samples, "diamonds_outbox_backlog") >= 1
    assert value(samples, "diamonds_outbox_oldest_age_seconds") >= 90
    assert value(samples, "diamonds_task_queue_tasks", status="ready") == 0
    assert value(samples, "diamonds_task_queue_oldest_ready_age_seconds") == 0
    assert value(samples, "diamonds_checkout_refusals_total", code="diamond_not_found") == 2


def test_metrics_answer_with_the_cache_down(client, settings, cache_down):
    settings.METRICS_TOKEN = TOKEN
    samples = scrape(client)
    assert value(samples, "diamonds_outbox_backlog") == 0


def test_metrics_and_deep_health_are_exempt_from_the_https_redirect(client, settings):
    """Prometheus and the load balancer call gunicorn directly, without X-Forwarded-Proto."""
    settings.SECURE_SSL_REDIRECT = True
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    deep = client.get("/healthz", {"deep": "1"}, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert deep.status_code == 200 and "parts" in deep.json()
    assert client.get("/").status_code == 301
