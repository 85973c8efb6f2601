import json
import re
from datetime import timedelta

import pytest
import stripe
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from catalog.models import Availability
from gateway.models import SimulatedCheckout
from gateway.registry import payment_gateway
from gateway.signing import signature_header
from gateway.simulator import SIMULATOR_WEBHOOK_SECRET, simulator_enabled
from orders.models import FeedOrderStatus, Order, PaymentStatus, Status
from orders.money import order_refund
from payments.models import WebhookEvent
from tests.doubles.stripe import sign
from tests.payments.conftest import login

STORE = "https://shop.example.com"


@pytest.fixture
def simulator_on(settings):
    settings.DEBUG = True
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens: Stripe must not be called
    settings.STOREFRONT_URL = STORE
    assert simulator_enabled()


@pytest.fixture
def automatic_capture(settings):
    """Checkout charges at once (asked for before the checkout is created)."""
    settings.CHECKOUT_CAPTURE = "automatic"


@pytest.fixture
def sim_order(simulator_on, shopper_client, demo_diamond) -> Order:
    response = shopper_client.post("/checkout/create/", {"diamond_id": str(demo_diamond.pk)})
    order = Order.objects.get()
    assert response.status_code == 303
    assert response["Location"] == order.stripe_checkout_url
    return order


def page_path(order) -> str:
    return f"/checkout/simulator/{order.stripe_checkout_session_id}/"


def press(client, order, action):
    return client.post(page_path(order), {"action": action})


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def success_url(order) -> str:
    return (
        f"/checkout/success/?order={order.order_number}"
        f"&session_id={order.stripe_checkout_session_id}"
    )


@pytest.mark.django_db
def test_checkout_without_stripe_keys_leads_to_the_local_test_checkout(sim_order, demo_diamond):
    assert sim_order.stripe_checkout_session_id.startswith("cs_sim_")
    assert sim_order.stripe_checkout_url == page_path(sim_order)
    assert sim_order.status == Status.PENDING_PAYMENT
    demo_diamond.refresh_from_db()
    assert demo_diamond.availability == Availability.RESERVED


@pytest.mark.django_db
def test_the_json_api_also_answers_with_the_simulator_url(
    simulator_on, shopper_client, demo_diamond
):
    response = shopper_client.post(
        "/api/v2/checkout/create",
        data=json.dumps({"diamond_id": str(demo_diamond.pk)}),
        content_type="application/json",
    )

    assert response.status_code == 201
    assert response.json()["checkoutUrl"].startswith("/checkout/simulator/cs_sim_")


@pytest.mark.django_db
def test_the_page_is_clearly_labelled_and_shows_the_order(sim_order, shopper_client):
    response = shopper_client.get(page_path(sim_order))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Test payment simulator — no real payment, no card details" in html
    assert sim_order.order_number in html
    assert "Oval 1.50ct Diamond" in html
    assert "$12,345.67 NZD" in html
    for label in ("Pay now", "Pay by bank transfer (delayed)", "Let the session expire"):
        assert label in html
    assert 'name="csrfmiddlewaretoken"' in html
    inputs = re.findall(r"<input[^>]*>", html)
    assert inputs and all('type="hidden"' in tag for tag in inputs)  # no card fields


@pytest.mark.django_db
def test_pay_now_sends_a_signed_completed_event_through_the_webhook(
    automatic_capture, sim_order, shopper_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = press(shopper_client, sim_order, "pay")

    assert response.status_code == 303
    assert response["Location"] == success_url(sim_order)
    record = WebhookEvent.objects.get()
    assert record.type == "checkout.session.completed"
    assert record.processed_at is not None and not record.processing_error
    event = record.payload
    assert event["id"].startswith("evt_")
    assert (event["object"], event["livemode"]) == ("event", False)
    session = event["data"]["object"]
    assert session["id"] == sim_order.stripe_checkout_session_id
    assert session["object"] == "checkout.session"
    assert (session["status"], session["payment_status"]) == ("complete", "paid")
    assert (session["amount_total"], session["currency"]) == (1234567, "nzd")
    assert session["client_reference_id"] == sim_order.order_number
    assert session["metadata"] == {
        "diamond_id": str(sim_order.diamond_id),
        "order_id": str(sim_order.pk),
        "order_number": sim_order.order_number,
    }
    assert session["payment_intent"].startswith("pi_sim_")
    assert session["success_url"] == f"{STORE}{success_url(sim_order)}"
    assert session["cancel_url"] == f"{STORE}/diamonds/{sim_order.diamond_id}/"
    sim_order.refresh_from_db()
    assert (sim_order.status, sim_order.payment_status) == (Status.CONFIRMED, PaymentStatus.PAID)
    assert sim_order.feed_order_status == FeedOrderStatus.SUCCESS
    assert sim_order.stripe_payment_intent_id == session["payment_intent"]
    sim_order.diamond.refresh_from_db()
    assert sim_order.diamond.availability == Availability.SOLD

    page = shopper_client.get(f"/checkout/success/?order={sim_order.order_number}")
    assert "Payment Successful" in page.content.decode()


@pytest.mark.django_db
def test_a_delayed_payment_waits_then_settles(sim_order, shopper_client):
    started = press(shopper_client, sim_order, "delayed")

    assert started.status_code == 303
    assert started["Location"] == page_path(sim_order)
    sim_order.refresh_from_db()
    assert sim_order.status == Status.PENDING_PAYMENT
    assert sim_order.events.filter(kind="payment_processing").exists()
    processing = shopper_client.get(page_path(sim_order)).content.decode()
    assert "Settle the transfer" in processing and "Fail the transfer" in processing
    assert "Pay now" not in processing

    settled = press(shopper_client, sim_order, "settle")

    assert settled["Location"] == success_url(sim_order)
    assert list(WebhookEvent.objects.order_by("received_at").values_list("type", flat=True)) == [
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
    ]
    sim_order.refresh_from_db()
    assert (sim_order.status, sim_order.payment_status) == (Status.PAID, PaymentStatus.PAID)


@pytest.mark.django_db
def test_a_delayed_payment_that_fails_releases_the_diamond(sim_order, shopper_client):
    press(shopper_client, sim_order, "delayed")

    failed = press(shopper_client, sim_order, "fail")

    assert failed["Location"] == page_path(sim_order)
    sim_order.refresh_from_db()
    assert (sim_order.status, sim_order.payment_status) == (Status.FAILED, PaymentStatus.FAILED)
    sim_order.diamond.refresh_from_db()
    assert sim_order.diamond.availability == Availability.AVAILABLE
    page = shopper_client.get(page_path(sim_order)).content.decode()
    assert "This test checkout is closed" in page
    assert "Pay now" not in page


@pytest.mark.django_db
def test_letting_the_session_expire_returns_to_the_diamond_page(sim_order, shopper_client):
    response = press(shopper_client, sim_order, "expire")

    assert response.status_code == 303
    assert response["Location"] == f"/diamonds/{sim_order.diamond_id}/"
    assert WebhookEvent.objects.get().type == "checkout.session.expired"
    sim_order.refresh_from_db()
    assert (sim_order.status, sim_order.payment_status) == (Status.EXPIRED, PaymentStatus.EXPIRED)
    sim_order.diamond.refresh_from_db()
    assert sim_order.diamond.availability == Availability.AVAILABLE


@pytest.mark.django_db
def test_a_closed_checkout_sends_nothing_more(sim_order, shopper_client):
    press(shopper_client, sim_order, "expire")

    response = press(shopper_client, sim_order, "pay")

    assert response["Location"] == page_path(sim_order)
    assert messages_of(response) == ["This test checkout is closed; nothing was sent."]
    assert WebhookEvent.objects.count() == 1
    sim_order.refresh_from_db()
    assert sim_order.status == Status.EXPIRED


@pytest.mark.django_db
def test_an_unknown_action_is_reported_on_the_page(sim_order, shopper_client):
    response = press(shopper_client, sim_order, "steal")

    assert response["Location"] == page_path(sim_order)
    assert messages_of(response) == ["Unknown simulator action 'steal'."]
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_only_the_orders_shopper_sees_the_test_checkout(sim_order, other_shopper):
    assert login(other_shopper).get(page_path(sim_order)).status_code == 404
    assert press(login(other_shopper), sim_order, "pay").status_code == 404
    anonymous = Client().get(page_path(sim_order))
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [{"DEBUG": False}, {"STRIPE_SECRET_KEY": "sk_test_real", "STRIPE_WEBHOOK_SECRET": "x"}],
)
def test_the_simulator_is_404_when_it_is_off(sim_order, shopper_client, settings, change):
    for name, value in change.items():
        setattr(settings, name, value)

    assert shopper_client.get(page_path(sim_order)).status_code == 404
    assert press(shopper_client, sim_order, "pay").status_code == 404
    sim_order.refresh_from_db()
    assert sim_order.status == Status.PENDING_PAYMENT


@pytest.mark.django_db
def test_pay_now_authorises_and_the_supplier_confirmation_captures(
    sim_order, shopper_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        press(shopper_client, sim_order, "pay")

    record = WebhookEvent.objects.get()
    session = record.payload["data"]["object"]
    assert (session["status"], session["payment_status"]) == ("complete", "unpaid")
    sim_order.refresh_from_db()
    assert (sim_order.status, sim_order.payment_status) == (Status.CONFIRMED, PaymentStatus.PAID)
    kinds = list(sim_order.events.values_list("kind", flat=True))
    assert kinds[-3:] == ["authorized", "supplier_confirmed", "captured"]
    intent = payment_gateway().payment_intent_retrieve(sim_order.stripe_payment_intent_id)
    assert (intent["status"], intent["amount_received"]) == ("succeeded", 1234567)


@pytest.mark.django_db
def test_refunding_a_simulated_payment_stays_local(
    sim_order, shopper_client, staff, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # authorised, then captured
        press(shopper_client, sim_order, "pay")
    sim_order.refresh_from_db()

    refund_id = order_refund(order=sim_order, actor=staff, release_diamond=True)

    assert refund_id.startswith("re_sim_")
    sim_order.refresh_from_db()
    assert sim_order.payment_status == PaymentStatus.REFUNDED
    # Listed as Stripe lists a charge's refunds (what `charge.refunded` makes us ask for).
    (listed,) = payment_gateway().refunds_for_charge(sim_order.stripe_charge_id)
    assert (listed["id"], listed["object"], listed["status"]) == (refund_id, "refund", "succeeded")
    assert listed["amount"] == sim_order.amount_cents
    assert payment_gateway().refund_retrieve(refund_id) == listed


def test_signatures_are_computed_exactly_as_stripe_does():
    payload = json.dumps({"id": "evt_1", "object": "event"}).encode()

    header = signature_header(payload, SIMULATOR_WEBHOOK_SECRET, timestamp=1_700_000_000)

    assert header == sign(payload, SIMULATOR_WEBHOOK_SECRET, timestamp=1_700_000_000)
    fresh = signature_header(payload, SIMULATOR_WEBHOOK_SECRET)
    assert stripe.WebhookSignature.verify_header(
        payload.decode(), fresh, SIMULATOR_WEBHOOK_SECRET, 300
    )


@pytest.mark.django_db
def test_the_simulator_keeps_its_own_sessions_and_lapses_them_like_stripe(sim_order):
    session = payment_gateway().checkout_session_retrieve(sim_order.stripe_checkout_session_id)
    assert (session["status"], session["payment_status"]) == ("open", "unpaid")
    assert session["metadata"]["order_id"] == str(sim_order.pk)

    SimulatedCheckout.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    lapsed = payment_gateway().checkout_session_retrieve(sim_order.stripe_checkout_session_id)

    assert lapsed["status"] == "expired"


@pytest.mark.parametrize("configured", ["", "whsec_new_one", "whsec_new_one, whsec_old_one"])
def test_the_simulator_pays_whatever_secrets_are_configured(
    sim_order, shopper_client, settings, configured
):
    settings.STRIPE_WEBHOOK_SECRET = configured

    assert press(shopper_client, sim_order, "pay").status_code == 303

    record = WebhookEvent.objects.get()
    assert record.processed_at is not None and not record.processing_error


def test_while_a_secret_is_rolled_the_header_carries_one_signature_per_secret():
    payload = b'{"id": "evt_1", "object": "event"}'

    header = signature_header(payload, "whsec_new", "whsec_old", timestamp=1_700_000_000)

    new, old = (sign(payload, s, timestamp=1_700_000_000) for s in ("whsec_new", "whsec_old"))
    assert header == f"{new},{old.split(',')[1]}"
    fresh = signature_header(payload, "whsec_new", "whsec_old")
    for secret in ("whsec_new", "whsec_old"):
        assert stripe.WebhookSignature.verify_header(payload.decode(), fresh, secret, 300)
