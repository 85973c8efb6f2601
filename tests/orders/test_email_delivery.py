"""The shopper's emails against a real SMTP server the test starts (aiosmtpd): sent through
the outbox with the state change, once per order and kind, retried through a mail outage
that never blocks the order, and never about a feed failure."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Availability
from notifications.delivery import notifications_deliver_due
from notifications.models import Notification
from orders.models import FeedOrderStatus, Order, Status
from orders.money import order_refund
from tests.doubles.stripe import post_event, stripe_event
from tests.factories import (
    DemoDiamondFactory,
    OrderFactory,
    StaffFactory,
    UserFactory,
    simulated_payment,
)
from tests.payments.test_webhooks import session_for
from tests.smtp import message_html, message_text, subject_of

# Real commits: the outbox hands the email to delivery once the state change is committed.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def order(settings):
    settings.DEFAULT_FROM_EMAIL = "Diamond Store <orders@store.example>"
    return OrderFactory(
        user=UserFactory(username="aroha", email="aroha@example.com"),
        diamond=DemoDiamondFactory(availability=Availability.RESERVED),
    )


def deliver(client, event_type, session, **kwargs):
    response = post_event(client, stripe_event(event_type, session, **kwargs))
    assert response.status_code == 200, response.content
    return response


def subjects(smtp_server) -> list[str]:
    return [subject_of(m) for m in smtp_server.messages]


def make_due():
    Notification.objects.filter(status="pending").update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def test_paid_then_confirmed_sends_two_emails_to_the_shopper(client, smtp_server, order):
    deliver(client, "checkout.session.completed", session_for(order))

    order.refresh_from_db()
    assert order.status == Status.CONFIRMED
    received, confirmed = smtp_server.wait_for(2)
    assert subject_of(received) == f"We've received your payment — order {order.order_number}"
    assert subject_of(confirmed) == f"Your order is confirmed — order {order.order_number}"
    for message in (received, confirmed):
        assert message["To"] == "aroha@example.com"
        assert message["From"] == "Diamond Store <orders@store.example>"
        assert order.order_number in message_text(message)
        assert order.order_number in message_html(message)
    assert Notification.objects.filter(kind="email", status="sent").count() == 2


def test_the_payment_received_mail_arrives_once_when_the_webhook_comes_three_times(
    client, smtp_server, order
):
    session = session_for(order)
    event = stripe_event("checkout.session.completed", session)
    for _ in range(3):  # Stripe's retries of one event
        assert post_event(client, event).status_code == 200
    for _ in range(3):  # and other events for the same session
        deliver(client, "checkout.session.async_payment_succeeded", session)

    smtp_server.wait_for(2)
    assert (
        subjects(smtp_server).count(f"We've received your payment — order {order.order_number}")
        == 1
    )
    assert len(smtp_server.messages) == 2  # received + confirmed, nothing twice


@pytest.mark.parametrize("outage", ["refuses", "down"])
def test_a_mail_outage_never_blocks_the_order_and_the_mail_arrives_later(
    client, smtp_server, order, outage, caplog
):
    if outage == "refuses":
        smtp_server.refuse()
    else:
        smtp_server.stop()

    deliver(client, "checkout.session.completed", session_for(order))

    order.refresh_from_db()
    assert (order.status, order.feed_order_status) == (Status.CONFIRMED, FeedOrderStatus.SUCCESS)
    pending = Notification.objects.filter(kind="email", status="pending")
    assert pending.count() == 2
    assert all(n.attempts == 1 and n.last_error for n in pending)
    assert "Email delivery of notification" in caplog.text
    assert smtp_server.messages == []

    if outage == "refuses":
        smtp_server.refuse(False)
    else:
        smtp_server.start()
    make_due()
    assert notifications_deliver_due() == 2

    assert sorted(subjects(smtp_server)) == sorted(
        [
            f"We've received your payment — order {order.order_number}",
            f"Your order is confirmed — order {order.order_number}",
        ]
    )
    assert not Notification.objects.filter(kind="email", status="pending").exists()


def test_a_feed_failure_sends_no_mail_about_it(client, smtp_server, order, settings):
    settings.DEMO_FEED_FAIL_ORDERS = True

    deliver(client, "checkout.session.completed", session_for(order))

    order.refresh_from_db()
    assert order.feed_order_status == FeedOrderStatus.FAILED
    (message,) = smtp_server.wait_for(1)
    assert subject_of(message) == f"We've received your payment — order {order.order_number}"
    everything = f"{subject_of(message)}\n{message_text(message)}\n{message_html(message)}"
    for word in ("feed", "Feed", "supplier", "DEMO_FEED", "refused"):
        assert word not in everything


def test_a_delayed_payment_that_fails_sends_processing_then_failed(
    client, settings, smtp_server, order
):
    settings.CHECKOUT_CAPTURE = "automatic"  # delayed methods exist with automatic capture
    session = session_for(order, payment_status="unpaid")
    deliver(client, "checkout.session.completed", session)
    deliver(client, "checkout.session.completed", session)  # noted twice, mailed once
    deliver(client, "checkout.session.async_payment_failed", session)

    processing, failed = smtp_server.wait_for(2)
    assert subject_of(processing) == f"Your payment is processing — order {order.order_number}"
    assert "please don't pay again" in message_text(processing)
    assert subject_of(failed) == f"Your payment didn't go through — order {order.order_number}"
    assert "you have not been charged" in message_text(failed)


def test_a_refund_sends_the_refund_mail_with_its_amount(client, smtp_server, order, settings):
    settings.STRIPE_SECRET_KEY, settings.DEBUG = "", True  # the simulator refunds locally
    deliver(client, "checkout.session.completed", session_for(order))
    smtp_server.wait_for(2)

    order = simulated_payment(Order.objects.get(pk=order.pk))  # paid in the simulator
    order_refund(order=order, actor=StaffFactory(), release_diamond=False)

    messages = smtp_server.wait_for(3)
    refund = messages[-1]
    assert subject_of(refund) == (
        f"Your refund of {order.amount_display} — order {order.order_number}"
    )
    assert f"We've refunded {order.amount_display}" in message_text(refund)


def test_a_shopper_without_an_email_address_is_simply_not_mailed(client, smtp_server, order):
    order.user.email = ""
    order.user.save(update_fields=["email"])

    deliver(client, "checkout.session.completed", session_for(order))

    order.refresh_from_db()
    assert order.status == Status.CONFIRMED
    assert not Notification.objects.filter(kind="email").exists()
    assert smtp_server.messages == []
