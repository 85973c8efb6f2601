"""The webhook endpoint: signatures, the event log, and every row of the SPEC's event table,
through HTTP with payloads signed the way Stripe signs them."""

import json
import time

import pytest

from catalog.models import Availability
from gateway import stripe_objects as so
from notifications.models import Notification
from orders.models import FeedOrderStatus, OrderEvent, PaymentStatus, Status
from payments.models import WebhookEvent
from tests.doubles.stripe import (
    TEST_PHONE,
    TEST_SHIPPING,
    WEBHOOK_PATH,
    post_event,
    sign,
    stripe_event,
)
from tests.factories import DemoDiamondFactory, OrderFactory

# Real commits: fulfilment enqueues the feed order on commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)


def session_for(order, *, payment_status="paid", status="complete", **overrides):
    """The order's Checkout Session as Stripe's events carry it (built by
    `gateway.stripe_objects`): completed, paid by card unless said otherwise, with a shipping
    address and phone, or expired. `overrides` replace fields (a mismatch, a missing id)."""
    created = int(time.time())
    opened = so.checkout_session(
        id=order.stripe_checkout_session_id,
        created=created,
        expires_at=created + 3600,
        amount_total=order.amount_cents,
        currency=order.currency,
        success_url="https://shop.example.com/checkout/success/",
        url=f"https://checkout.stripe.com/c/pay/{order.stripe_checkout_session_id}",
        metadata={
            "order_id": str(order.id),
            "order_number": order.order_number,
            "diamond_id": str(order.diamond_id),
        },
        client_reference_id=order.order_number,
        allowed_countries=["NZ"],
        phone_number_collection=True,
    )
    if status == "expired":
        session = so.checkout_session_expired(opened)
    else:
        session = so.checkout_session_completed(
            opened,
            payment_intent="pi_test_123",
            payment_status=payment_status,
            email="shopper@example.com",
            phone=TEST_PHONE,
            shipping_details=so.shipping_details(
                name=TEST_SHIPPING["name"], address=TEST_SHIPPING["address"]
            ),
        )
    return {**session, **overrides}


def refunded_at_stripe(stripe_api, order, *amounts) -> tuple[dict, dict]:
    """The order paid at Stripe, then refunded `amounts` in the Stripe Dashboard: the
    completed session, and the charge as `charge.refunded` carries it (the total, not the
    refunds: the handler asks Stripe for those)."""
    stripe_api.open_session(
        session_id=order.stripe_checkout_session_id,
        amount_total=order.amount_cents,
        currency=order.currency,
        metadata={"order_id": str(order.pk), "order_number": order.order_number},
        customer_email=order.user.email,
    )
    session = stripe_api.complete(order.stripe_checkout_session_id)
    for amount in amounts:
        charge = stripe_api.refund_from_dashboard(order.stripe_checkout_session_id, amount=amount)
    return session, charge


def deliver(client, event_type, obj, **kwargs):
    event = stripe_event(event_type, obj, **kwargs)
    return event, post_event(client, event)


def refresh(order):
    order.refresh_from_db()
    order.diamond.refresh_from_db()
    return order


# ---------------------------------------------------------------- signatures


@pytest.fixture
def order():
    return OrderFactory(diamond=DemoDiamondFactory(availability=Availability.RESERVED))


def test_a_valid_signature_is_recorded_and_processed(client, order):
    event, response = deliver(client, "checkout.session.completed", session_for(order))
    assert response.status_code == 200
    record = WebhookEvent.objects.get()
    assert record.stripe_event_id == event["id"]
    assert record.type == "checkout.session.completed"
    assert record.checkout_session_id == order.stripe_checkout_session_id
    assert record.payload == event
    assert record.processed_at is not None
    assert record.processing_error == ""


@pytest.mark.parametrize(
    "header",
    [
        "",
        "t=123,v1=deadbeef",
        "garbage",
    ],
)
def test_missing_or_malformed_signatures_answer_400_and_store_nothing(client, order, header):
    payload = json.dumps(stripe_event("checkout.session.completed", session_for(order)))
    response = client.post(
        WEBHOOK_PATH, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
    assert response.status_code == 400
    assert WebhookEvent.objects.count() == 0
    assert refresh(order).status == Status.PENDING_PAYMENT


def test_a_payload_signed_with_another_secret_is_refused(client, order):
    event = stripe_event("checkout.session.completed", session_for(order))
    response = post_event(client, event, secret="whsec_someone_else")
    assert response.status_code == 400
    assert WebhookEvent.objects.count() == 0


def test_a_stale_signature_is_refused(client, order):
    event = stripe_event("checkout.session.completed", session_for(order))
    response = post_event(client, event, timestamp=int(time.time()) - 301)
    assert response.status_code == 400
    assert WebhookEvent.objects.count() == 0


def test_a_tampered_body_is_refused(client, settings, order):
    payload = json.dumps(stripe_event("checkout.session.completed", session_for(order))).encode()
    header = sign(payload, settings.STRIPE_WEBHOOK_SECRET)
    tampered = payload.replace(b'"paid"', b'"PAID"', 1)
    response = client.post(
        WEBHOOK_PATH, data=tampered, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
    assert response.status_code == 400
    assert WebhookEvent.objects.count() == 0


@pytest.mark.parametrize("body", [b"[]", b'{"id": "evt_1"}', b"not json", b'{"object": "event"}'])
def test_a_signed_body_that_is_not_an_event_is_refused(client, settings, body):
    header = sign(body, settings.STRIPE_WEBHOOK_SECRET)
    response = client.post(
        WEBHOOK_PATH, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
    assert response.status_code == 400
    assert WebhookEvent.objects.count() == 0


def test_get_is_not_allowed(client):
    assert client.get(WEBHOOK_PATH).status_code == 405


# ---------------------------------------------------------------- the event table


def test_completed_and_paid_fulfils_and_places_the_feed_order(client, order):
    deliver(client, "checkout.session.completed", session_for(order))
    order = refresh(order)
    assert (order.status, order.payment_status, order.feed_order_status) == (
        Status.CONFIRMED,
        PaymentStatus.PAID,
        FeedOrderStatus.SUCCESS,
    )
    assert order.stripe_payment_intent_id == "pi_test_123"
    assert order.paid_at is not None
    assert order.feed_order_id
    assert order.diamond.availability == Availability.SOLD
    kinds = list(order.events.values_list("kind", flat=True))
    assert kinds == ["paid", "feed_order_succeeded"]
    completed = Notification.objects.get(reference=order.order_number, kind="slack")
    assert completed.category == "ORDER_COMPLETED"
    assert completed.channel == "#ops"
    assert completed.color == "#28a745"


def test_completed_but_unpaid_waits_for_the_delayed_payment(client, settings, order):
    settings.CHECKOUT_CAPTURE = "automatic"  # delayed methods exist with automatic capture
    deliver(client, "checkout.session.completed", session_for(order, payment_status="unpaid"))
    order = refresh(order)
    assert (order.status, order.payment_status) == (Status.PENDING_PAYMENT, PaymentStatus.PENDING)
    assert order.diamond.availability == Availability.RESERVED
    assert order.events.get().kind == "payment_processing"

    deliver(client, "checkout.session.async_payment_succeeded", session_for(order))
    order = refresh(order)
    assert (order.status, order.payment_status, order.feed_order_status) == (
        Status.CONFIRMED,
        PaymentStatus.PAID,
        FeedOrderStatus.SUCCESS,
    )


def test_async_payment_failed_fails_the_order_and_releases_the_diamond(client, order):
    deliver(client, "checkout.session.completed", session_for(order, payment_status="unpaid"))
    deliver(
        client,
        "checkout.session.async_payment_failed",
        session_for(order, payment_status="unpaid"),
    )
    order = refresh(order)
    assert (order.status, order.payment_status, order.feed_order_status) == (
        Status.FAILED,
        PaymentStatus.FAILED,
        FeedOrderStatus.NOT_ATTEMPTED,
    )
    assert order.diamond.availability == Availability.AVAILABLE


def test_expired_releases_the_diamond(client, order):
    deliver(
        client,
        "checkout.session.expired",
        session_for(order, status="expired", payment_status="unpaid"),
    )
    order = refresh(order)
    assert (order.status, order.payment_status, order.feed_order_status) == (
        Status.EXPIRED,
        PaymentStatus.EXPIRED,
        FeedOrderStatus.NOT_ATTEMPTED,
    )
    assert order.diamond.availability == Availability.AVAILABLE


def test_expired_after_payment_changes_nothing(client, order):
    deliver(client, "checkout.session.completed", session_for(order))
    response = deliver(
        client,
        "checkout.session.expired",
        session_for(order, status="expired", payment_status="unpaid"),
    )[1]
    assert response.status_code == 200
    order = refresh(order)
    assert order.status == Status.CONFIRMED
    assert order.diamond.availability == Availability.SOLD


def test_a_full_refund_cancels_the_order_and_leaves_the_rest(stripe_api, client, order):
    session, charge = refunded_at_stripe(stripe_api, order, order.amount_cents)
    deliver(client, "checkout.session.completed", session)
    assert "refunds" not in charge  # Stripe lists them only when asked
    deliver(client, "charge.refunded", charge)
    (listed,) = stripe_api.calls("GET", "/v1/refunds")
    assert listed["params"]["charge"] == charge["id"]
    order = refresh(order)
    assert (order.status, order.payment_status, order.feed_order_status) == (
        Status.CANCELLED,
        PaymentStatus.REFUNDED,
        FeedOrderStatus.SUCCESS,
    )
    assert order.diamond.availability == Availability.SOLD
    assert order.events.filter(kind="refunded").count() == 1


def test_a_refund_of_a_charge_stripe_does_not_have_is_recorded_and_ignored(
    stripe_api, client, order
):
    session, charge = refunded_at_stripe(stripe_api, order, 100)
    deliver(client, "checkout.session.completed", session)
    response = deliver(client, "charge.refunded", {**charge, "id": "ch_unknown"})[1]
    assert response.status_code == 200
    assert response.json()["message"].endswith("refund already recorded.")
    assert refresh(order).amount_refunded_cents == 0


def test_a_refund_stripe_cannot_be_asked_about_is_retried(stripe_api, client, order):
    session, charge = refunded_at_stripe(stripe_api, order, 100)
    deliver(client, "checkout.session.completed", session)
    stripe_api.fail("GET", "/v1/refunds", status=500, times=10)
    event, response = deliver(client, "charge.refunded", charge)
    assert "processing failed and will be retried" in response.json()["message"]
    assert WebhookEvent.objects.get(stripe_event_id=event["id"]).processed_at is None
    assert refresh(order).amount_refunded_cents == 0


def test_a_partial_refund_is_recorded_and_leaves_the_order_open(stripe_api, client, order):
    session, charge = refunded_at_stripe(stripe_api, order, 100)
    deliver(client, "checkout.session.completed", session)
    response = deliver(client, "charge.refunded", charge)[1]
    assert response.status_code == 200
    order = refresh(order)
    assert (order.status, order.payment_status) == (
        Status.CONFIRMED,
        PaymentStatus.PARTIALLY_REFUNDED,
    )
    assert order.amount_refunded_cents == 100
    assert order.events.filter(kind="partially_refunded").count() == 1


def test_other_event_types_are_stored_and_answered_200(client):
    event, response = deliver(client, "customer.created", {"id": "cus_1", "object": "customer"})
    assert response.status_code == 200
    record = WebhookEvent.objects.get(stripe_event_id=event["id"])
    assert record.processed_at is not None


def test_an_event_for_an_unknown_session_is_stored_and_answered_200(client):
    session = {
        "id": "cs_test_unknown",
        "object": "checkout.session",
        "payment_status": "paid",
        "amount_total": 100,
        "currency": "nzd",
        "metadata": {},
    }
    response = deliver(client, "checkout.session.completed", session)[1]
    assert response.status_code == 200
    assert WebhookEvent.objects.get().checkout_session_id == "cs_test_unknown"


def test_an_order_is_found_by_its_metadata_before_the_session_id_is_saved(client, order):
    session = session_for(order, id="cs_test_not_saved_yet")
    deliver(client, "checkout.session.completed", session)
    assert refresh(order).status == Status.CONFIRMED


# ---------------------------------------------------------------- idempotency


def test_a_repeated_event_id_does_nothing_more(client, order):
    event, first = deliver(client, "checkout.session.completed", session_for(order))
    second = post_event(client, event)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["message"] == "Already processed."
    assert WebhookEvent.objects.count() == 1
    assert OrderEvent.objects.filter(order=order, kind="paid").count() == 1


def test_completed_and_async_succeeded_for_one_session_fulfil_once(client, order):
    deliver(client, "checkout.session.completed", session_for(order))
    deliver(client, "checkout.session.async_payment_succeeded", session_for(order))
    order = refresh(order)
    assert order.status == Status.CONFIRMED
    assert order.events.filter(kind="paid").count() == 1
    assert order.events.filter(kind="feed_order_succeeded").count() == 1
    assert WebhookEvent.objects.count() == 2


def test_an_event_whose_processing_failed_is_processed_again_on_redelivery(client, order):
    event = stripe_event("checkout.session.completed", session_for(order))
    WebhookEvent.objects.create(
        stripe_event_id=event["id"],
        type=event["type"],
        payload=event,
        processing_error="OperationalError('server closed the connection')",
    )
    response = post_event(client, event)
    assert response.status_code == 200
    assert refresh(order).status == Status.CONFIRMED
    record = WebhookEvent.objects.get()
    assert record.processed_at is not None
    assert record.processing_error == ""


# ---------------------------------------------------------------- amount and currency


@pytest.mark.parametrize(
    "overrides", [{"amount_total": 100}, {"currency": "usd"}, {"amount_total": None}]
)
def test_a_mismatched_payment_places_no_feed_order_and_needs_attention(client, order, overrides):
    deliver(client, "checkout.session.completed", session_for(order, **overrides))
    order = refresh(order)
    assert (order.status, order.payment_status, order.feed_order_status) == (
        Status.PAID,
        PaymentStatus.PAID,
        FeedOrderStatus.NOT_ATTEMPTED,
    )
    assert order.needs_attention
    assert "Not placed" in order.feed_order_error
    assert order.events.get().kind == "payment_mismatch"
    assert order.diamond.availability == Availability.RESERVED


# ---------------------------------------------------------------- the production task backend


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_with_the_database_backend_the_feed_order_is_enqueued_with_the_payment(
    client, order, database_tasks
):
    from django_tasks_db.models import DBTaskResult

    response = deliver(client, "checkout.session.completed", session_for(order))[1]
    assert response.status_code == 200
    order = refresh(order)
    assert (order.status, order.feed_order_status) == (Status.PAID, FeedOrderStatus.PENDING)
    task = DBTaskResult.objects.get(task_path="orders.feed_orders.feed_order_place")
    assert task.task_path == "orders.feed_orders.feed_order_place"
    assert task.args_kwargs["kwargs"] == {"order_id": str(order.id), "attempt": 1}

    from django.core.management import call_command

    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    order = refresh(order)
    assert (order.status, order.feed_order_status) == (Status.CONFIRMED, FeedOrderStatus.SUCCESS)
    assert (
        Notification.objects.get(reference=order.order_number, kind="slack").status
        == Notification.DeliveryStatus.LOGGED
    )


def test_a_session_without_ids_matches_no_order(client):
    """An order still waiting for its session id must not match a session that has none."""
    waiting = OrderFactory(
        diamond=DemoDiamondFactory(availability=Availability.RESERVED),
        stripe_checkout_session_id=None,
    )
    session = {"object": "checkout.session", "payment_status": "paid", "metadata": {}}
    response = deliver(client, "checkout.session.completed", session)[1]
    assert response.status_code == 200
    assert refresh(waiting).status == Status.PENDING_PAYMENT
