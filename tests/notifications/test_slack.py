"""Slack alerts go out through slack_sdk to a local Slack double; an outage loses nothing."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from catalog.models import Availability
from notifications.models import Notification
from orders.models import FeedOrderStatus, PaymentStatus, Status
from tests.doubles.stripe import post_event, stripe_event
from tests.factories import DemoDiamondFactory, OrderFactory
from tests.payments.test_webhooks import session_for

pytestmark = pytest.mark.django_db(transaction=True)


def pay(client, order):
    response = post_event(client, stripe_event("checkout.session.completed", session_for(order)))
    assert response.status_code == 200
    order.refresh_from_db()
    return order


def fields_of(message):
    return {field["title"]: field["value"] for field in message["attachments"][0]["fields"]}


def test_a_feed_failure_alerts_the_errors_channel_in_red(client, settings, slack_api):
    settings.DEMO_FEED_FAIL_ORDERS = True
    order = pay(
        client, OrderFactory(diamond=DemoDiamondFactory(availability=Availability.RESERVED))
    )
    assert (order.status, order.payment_status, order.feed_order_status) == (
        Status.PAID,
        PaymentStatus.PAID,
        FeedOrderStatus.FAILED,
    )
    assert order.needs_attention
    [message] = slack_api.messages
    assert message["channel"] == "#errors"
    attachment = message["attachments"][0]
    assert attachment["color"] == "#dc3545"
    assert order.order_number in attachment["title"]
    fields = fields_of(message)
    assert fields["Order"] == order.order_number
    assert str(order.diamond_id) in fields["Diamond"]
    assert fields["Feed"] == "demo"
    assert fields["Offer ID"] == order.offer_id
    assert fields["Amount"] == "$12,345.00 NZD"
    assert fields["Payment intent"] == "pi_test_123"
    assert fields["Admin"].endswith(f"/admin/orders/order/{order.pk}/change/")
    assert fields["Error"] == order.feed_order_error != ""
    assert (
        Notification.objects.get(kind=Notification.Kind.SLACK).status
        == Notification.DeliveryStatus.SENT
    )


def test_a_completed_order_is_announced_on_the_ops_channel_in_green(client, slack_api):
    order = pay(
        client, OrderFactory(diamond=DemoDiamondFactory(availability=Availability.RESERVED))
    )
    assert order.status == Status.CONFIRMED
    [message] = slack_api.messages
    assert message["channel"] == "#ops"
    assert message["attachments"][0]["color"] == "#28a745"
    assert fields_of(message)["Feed order ID"] == order.feed_order_id


def test_channels_come_from_settings(client, settings, slack_api):
    settings.SLACK_CHANNEL_OPS = "#shop-orders"
    pay(client, OrderFactory(diamond=DemoDiamondFactory(availability=Availability.RESERVED)))
    assert slack_api.messages[0]["channel"] == "#shop-orders"


def test_slack_down_never_blocks_the_order_and_the_alert_goes_out_later(client, slack_api):
    slack_api.down = True
    order = pay(
        client, OrderFactory(diamond=DemoDiamondFactory(availability=Availability.RESERVED))
    )
    assert order.status == Status.CONFIRMED
    notification = Notification.objects.get(kind=Notification.Kind.SLACK)
    assert notification.status == Notification.DeliveryStatus.PENDING
    assert notification.attempts == 1
    assert "service_unavailable" in notification.last_error
    assert notification.next_attempt_at > timezone.now()
    assert slack_api.messages == []

    # Not due yet: a reconciliation run leaves it alone.
    call_command("reconcile_payments")
    assert slack_api.attempts == 1

    slack_api.down = False
    Notification.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    call_command("reconcile_payments")
    notification.refresh_from_db()
    assert notification.status == Notification.DeliveryStatus.SENT
    assert notification.attempts == 2
    assert len(slack_api.messages) == 1


def test_backoff_grows_with_each_failed_attempt(client, slack_api):
    slack_api.down = True
    pay(client, OrderFactory(diamond=DemoDiamondFactory(availability=Availability.RESERVED)))
    notification = Notification.objects.get(kind=Notification.Kind.SLACK)
    delays = []
    for _ in range(3):
        Notification.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        before = timezone.now()
        call_command("reconcile_payments")
        notification.refresh_from_db()
        delays.append(notification.next_attempt_at - before)
    assert delays[0] < delays[1] < delays[2]
    assert notification.attempts == 4


def test_a_slack_that_cannot_be_reached_is_retried_too(client, settings):
    settings.SLACK_BOT_TOKEN = "xoxb-test-token"
    settings.SLACK_API_BASE_URL = "http://127.0.0.1:9/api/"
    order = pay(
        client, OrderFactory(diamond=DemoDiamondFactory(availability=Availability.RESERVED))
    )
    assert order.status == Status.CONFIRMED
    notification = Notification.objects.get(kind=Notification.Kind.SLACK)
    assert notification.status == Notification.DeliveryStatus.PENDING
    assert notification.last_error


def test_without_a_token_alerts_are_logged(client, settings, caplog):
    settings.SLACK_BOT_TOKEN = ""
    settings.DEMO_FEED_FAIL_ORDERS = True
    order = pay(
        client, OrderFactory(diamond=DemoDiamondFactory(availability=Availability.RESERVED))
    )
    notification = Notification.objects.get(kind=Notification.Kind.SLACK)
    assert notification.status == Notification.DeliveryStatus.LOGGED
    assert order.order_number in caplog.text
    assert "#errors" in caplog.text
