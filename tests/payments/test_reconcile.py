"""`reconcile_payments` recovers what webhooks missed, using the same services."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from catalog.models import Availability
from orders.feed_orders import UNKNOWN_OUTCOME_NOTE
from orders.models import FeedOrderStatus, Order, Status
from orders.services import (
    order_create,
)
from payments.models import WebhookEvent
from tests.doubles.stripe import stripe_event
from tests.factories import DemoDiamondFactory, OrderFactory, UserFactory
from tests.payments.test_webhooks import session_for

pytestmark = pytest.mark.django_db(transaction=True)


def reconcile():
    out = StringIO()
    call_command("reconcile_payments", stdout=out)
    return out.getvalue()


def age(order, minutes):
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(minutes=minutes))


@pytest.fixture
def checkout(stripe_api):
    """A real checkout through the service and the Stripe double, then left alone."""
    from payments.services import checkout_create

    diamond = DemoDiamondFactory()
    order = checkout_create(user=UserFactory(), diamond_id=str(diamond.id))
    return order


def test_a_missed_payment_webhook_is_recovered(stripe_api, checkout):
    stripe_api.complete(checkout.stripe_checkout_session_id)
    age(checkout, 40)
    output = reconcile()
    checkout.refresh_from_db()
    assert checkout.status == Status.CONFIRMED
    assert checkout.feed_order_status == FeedOrderStatus.SUCCESS
    assert f"{checkout.order_number}: authorized at Stripe (missed webhook); fulfilled." in output
    assert "Reconciled: 0 change(s)." in reconcile()


def test_a_missed_expiry_releases_the_diamond(stripe_api, checkout):
    stripe_api.expire(checkout.stripe_checkout_session_id)
    age(checkout, 40)
    output = reconcile()
    checkout.refresh_from_db()
    assert checkout.status == Status.EXPIRED
    assert checkout.diamond.availability == Availability.AVAILABLE
    assert "expired at Stripe" in output


def test_an_open_session_is_left_alone(stripe_api, checkout):
    age(checkout, 40)
    assert "Reconciled: 0 change(s)." in reconcile()
    checkout.refresh_from_db()
    assert checkout.status == Status.PENDING_PAYMENT


def test_a_recent_checkout_is_not_asked_about(stripe_api, checkout):
    stripe_api.complete(checkout.stripe_checkout_session_id)
    reconcile()
    assert stripe_api.calls("GET", "/v1/checkout/sessions") == []


def test_stripe_down_during_reconciliation_changes_nothing(stripe_api, checkout):
    stripe_api.complete(checkout.stripe_checkout_session_id)
    age(checkout, 40)
    stripe_api.fail("GET", "/v1/checkout/sessions", status=500, times=5)
    output = reconcile()
    assert "could not ask Stripe" in output
    checkout.refresh_from_db()
    assert checkout.status == Status.PENDING_PAYMENT


def test_a_checkout_that_never_reached_stripe_is_failed():
    order = order_create(user=UserFactory(), diamond=DemoDiamondFactory(), amount_cents=100)
    age(order, 40)
    assert "never reached Stripe" in reconcile()
    order.refresh_from_db()
    assert order.status == Status.FAILED
    assert order.diamond.availability == Availability.AVAILABLE


def test_a_stalled_feed_order_is_enqueued_again():
    order = OrderFactory(
        diamond=DemoDiamondFactory(availability=Availability.RESERVED),
        status=Status.PAID,
        payment_status="paid",
        feed_order_status=FeedOrderStatus.PENDING,
        feed_order_requested_at=timezone.now() - timedelta(minutes=11),
    )
    assert order.needs_attention
    output = reconcile()
    order.refresh_from_db()
    assert order.status == Status.CONFIRMED
    assert "stalled feed order re-enqueued" in output


def test_a_feed_order_whose_worker_died_becomes_an_unknown_outcome():
    order = OrderFactory(
        diamond=DemoDiamondFactory(availability=Availability.RESERVED),
        status=Status.PAID,
        payment_status="paid",
        feed_order_status=FeedOrderStatus.PENDING,
        feed_order_requested_at=timezone.now() - timedelta(minutes=30),
        feed_order_started_at=timezone.now() - timedelta(minutes=29),
    )
    output = reconcile()
    order.refresh_from_db()
    assert order.feed_order_status == FeedOrderStatus.UNKNOWN
    assert UNKNOWN_OUTCOME_NOTE in order.feed_order_error
    assert order.needs_attention
    assert "marked outcome unknown" in output


def test_a_recent_pending_feed_order_is_left_to_its_worker():
    order = OrderFactory(
        diamond=DemoDiamondFactory(availability=Availability.RESERVED),
        status=Status.PAID,
        payment_status="paid",
        feed_order_status=FeedOrderStatus.PENDING,
        feed_order_requested_at=timezone.now() - timedelta(minutes=2),
    )
    reconcile()
    order.refresh_from_db()
    assert order.feed_order_status == FeedOrderStatus.PENDING


def test_an_event_whose_processing_failed_is_processed_again():
    order = OrderFactory(diamond=DemoDiamondFactory(availability=Availability.RESERVED))
    event = stripe_event("checkout.session.completed", session_for(order))
    WebhookEvent.objects.create(
        stripe_event_id=event["id"],
        type=event["type"],
        payload=event,
        received_at=timezone.now() - timedelta(minutes=5),
        processing_error="OperationalError('the connection dropped')",
    )
    output = reconcile()
    order.refresh_from_db()
    assert order.status == Status.CONFIRMED
    assert f"Stripe event {event['id']} (checkout.session.completed): processed." in output
