import json

import pytest
from django.test import Client

from orders.models import FeedOrderStatus, Order, PaymentStatus, Status
from tests.factories import OrderFactory
from tests.payments.conftest import login

SUCCESS = "/checkout/success/"
SESSIONS = "/v1/checkout/sessions"


def start_checkout(client, diamond) -> Order:
    response = client.post(
        "/api/v2/checkout/create",
        data=json.dumps({"diamond_id": str(diamond.pk)}),
        content_type="application/json",
    )
    assert response.status_code == 201
    return Order.objects.get(order_number=response.json()["orderNumber"])


def success_page(client, order, session_id=None):
    session_id = order.stripe_checkout_session_id if session_id is None else session_id
    return client.get(SUCCESS, {"order": order.order_number, "session_id": session_id})


def retrieve_calls(stripe_api):
    return stripe_api.calls("GET", f"{SESSIONS}/")


@pytest.mark.django_db
def test_the_owner_sees_the_optimistic_success_page(stripe_api, shopper_client, demo_diamond):
    order = start_checkout(shopper_client, demo_diamond)

    response = success_page(shopper_client, order)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1" in html and "Payment Successful" in html
    assert order.order_number in html
    assert "Your diamond order is being processed." in html
    assert 'href="/">Continue Shopping</a>' in html
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_the_page_is_the_same_whatever_happened_to_the_order(shopper, shopper_client):
    order = OrderFactory(
        user=shopper,
        status=Status.PAID,
        payment_status=PaymentStatus.PAID,
        feed_order_status=FeedOrderStatus.FAILED,
        feed_order_error="Supplier said no: stone withdrawn",
    )

    response = success_page(shopper_client, order)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Payment Successful" in html
    assert "Your diamond order is being processed." in html
    assert "withdrawn" not in html


@pytest.mark.django_db
def test_anyone_else_gets_404_with_no_hint_the_order_exists(
    stripe_api, shopper_client, other_shopper, demo_diamond, staff
):
    order = start_checkout(shopper_client, demo_diamond)

    assert success_page(login(other_shopper), order).status_code == 404
    assert success_page(login(staff), order).status_code == 404
    assert shopper_client.get(SUCCESS, {"order": "DO-20990101-0001"}).status_code == 404
    assert shopper_client.get(SUCCESS).status_code == 404
    assert not retrieve_calls(stripe_api)


@pytest.mark.django_db
def test_anonymous_visitors_are_asked_to_log_in(shopper):
    order = OrderFactory(user=shopper)

    response = success_page(Client(), order)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/checkout/success/")


@pytest.mark.django_db
def test_the_success_page_fulfils_a_paid_session_without_waiting_for_the_webhook(
    stripe_api, shopper_client, demo_diamond
):
    order = start_checkout(shopper_client, demo_diamond)
    session = stripe_api.complete(order.stripe_checkout_session_id)

    response = success_page(shopper_client, order)

    assert response.status_code == 200
    (call,) = retrieve_calls(stripe_api)
    assert call["path"] == f"{SESSIONS}/{order.stripe_checkout_session_id}"
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (Status.PAID, PaymentStatus.PAID)
    assert order.stripe_payment_intent_id == session["payment_intent"]
    assert order.feed_order_status == FeedOrderStatus.PENDING

    success_page(shopper_client, order)
    assert len(retrieve_calls(stripe_api)) == 1  # paid now: Stripe is not asked again


@pytest.mark.django_db
def test_an_unpaid_session_leaves_the_order_pending(stripe_api, shopper_client, demo_diamond):
    order = start_checkout(shopper_client, demo_diamond)
    stripe_api.complete(order.stripe_checkout_session_id, payment_status="unpaid")

    response = success_page(shopper_client, order)

    assert response.status_code == 200
    assert "Payment Successful" in response.content.decode()
    assert len(retrieve_calls(stripe_api)) == 1
    order.refresh_from_db()
    assert order.status == Status.PENDING_PAYMENT


@pytest.mark.django_db
def test_a_session_id_that_is_not_the_orders_is_not_looked_up(
    stripe_api, shopper_client, demo_diamond, make_diamond
):
    order = start_checkout(shopper_client, demo_diamond)
    other = start_checkout(shopper_client, make_diamond())
    stripe_api.complete(other.stripe_checkout_session_id)

    response = success_page(shopper_client, order, session_id=other.stripe_checkout_session_id)

    assert response.status_code == 200
    assert not retrieve_calls(stripe_api)
    order.refresh_from_db()
    assert order.status == Status.PENDING_PAYMENT


@pytest.mark.django_db
def test_stripe_failing_on_the_success_page_still_shows_the_page(
    stripe_api, shopper_client, demo_diamond, caplog
):
    order = start_checkout(shopper_client, demo_diamond)
    stripe_api.complete(order.stripe_checkout_session_id)
    stripe_api.fail("GET", SESSIONS, status=400, message="No such checkout.session")

    response = success_page(shopper_client, order)

    assert response.status_code == 200
    assert "Payment Successful" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Status.PENDING_PAYMENT
    assert order.order_number in caplog.text
    assert "No such checkout.session" in caplog.text


@pytest.mark.django_db
def test_without_a_stripe_key_the_success_page_never_calls_stripe(
    stripe_api, settings, shopper_client, demo_diamond
):
    order = start_checkout(shopper_client, demo_diamond)
    stripe_api.complete(order.stripe_checkout_session_id)
    settings.STRIPE_SECRET_KEY = ""

    assert success_page(shopper_client, order).status_code == 200
    assert not retrieve_calls(stripe_api)
