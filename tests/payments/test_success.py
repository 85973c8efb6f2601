import json
import re

import pytest
from django.test import Client

from orders.models import FeedOrderStatus, Order, PaymentStatus, Status
from tests.doubles.stripe import post_event, stripe_event
from tests.factories import OrderFactory, simulated_payment
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
def test_the_owner_of_a_paid_checkout_sees_payment_successful_with_stone_and_amount(
    stripe_api, shopper_client, demo_diamond
):
    order = start_checkout(shopper_client, demo_diamond)
    stripe_api.complete(order.stripe_checkout_session_id)

    response = success_page(shopper_client, order)

    assert response.status_code == 200
    html = response.content.decode()
    # The card is authorised, not charged: the page says so, not "Payment Successful".
    assert "<h1" in html and "Payment Authorised" in html
    assert "Payment Successful" not in html
    assert order.order_number in html
    assert "we charge your card once your diamond is confirmed" in html
    assert "Oval 1.50ct diamond" in html
    assert "$12,345.67 NZD" in html
    assert f'href="/account/orders/{order.order_number}/"' in html
    assert 'href="/">Continue Shopping</a>' in html
    assert "Try again" not in html
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_a_paid_order_is_successful_whatever_the_supplier_order_did(shopper, shopper_client):
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
    assert "Payment received. We&#x27;re preparing your diamond" in html
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
    # The card is authorised (the money held until the supplier confirms).
    assert (order.status, order.payment_status) == (Status.PAID, PaymentStatus.AUTHORIZED)
    assert order.stripe_payment_intent_id == session["payment_intent"]
    assert order.feed_order_status == FeedOrderStatus.PENDING

    success_page(shopper_client, order)
    assert len(retrieve_calls(stripe_api)) == 1  # paid now: Stripe is not asked again


@pytest.mark.django_db
def test_an_unpaid_completed_session_is_payment_processing(
    stripe_api, shopper_client, demo_diamond, settings
):
    settings.CHECKOUT_CAPTURE = "automatic"  # delayed methods: charged when they settle
    order = start_checkout(shopper_client, demo_diamond)
    stripe_api.complete(order.stripe_checkout_session_id, payment_status="unpaid")

    response = success_page(shopper_client, order)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Payment Processing" in html
    assert "Payment Successful" not in html
    assert "Try again" not in html
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
    html = response.content.decode()
    assert "Checking Your Payment" in html  # Stripe was not asked: no promise either way
    assert "Payment Successful" not in html
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
    assert "Checking Your Payment" in response.content.decode()
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

    response = success_page(shopper_client, order)
    assert response.status_code == 200
    assert "Checking Your Payment" in response.content.decode()  # Stripe cannot be asked
    assert not retrieve_calls(stripe_api)


# ---------------------------------------------------------------- the truth, not optimism


def try_again_form(html: str) -> str | None:
    match = re.search(r'<form method="post" action="/checkout/create/">(.*?)</form>', html, re.S)
    return match.group(1) if match else None


@pytest.mark.django_db
def test_a_never_paid_checkout_is_payment_not_completed_and_try_again_resumes_it(
    stripe_api, shopper_client, demo_diamond
):
    order = start_checkout(shopper_client, demo_diamond)  # the session stays open

    response = success_page(shopper_client, order)

    html = response.content.decode()
    assert "Payment Not Completed" in html
    assert "Payment Successful" not in html
    assert "You have not been charged." in html
    assert "Oval 1.50ct diamond" in html and "$12,345.67 NZD" in html
    form = try_again_form(html)
    assert f'name="diamond_id" value="{demo_diamond.pk}"' in form
    assert "Try again" in form

    again = shopper_client.post("/checkout/create/", {"diamond_id": str(demo_diamond.pk)})

    assert again.status_code == 303
    assert again["Location"] == order.stripe_checkout_url  # the same checkout, no new order
    assert Order.objects.count() == 1
    assert len(stripe_api.calls("POST", SESSIONS)) == 1


@pytest.mark.django_db
def test_a_checkout_stripe_expired_before_its_webhook_says_so_and_waits(
    stripe_api, shopper_client, demo_diamond
):
    order = start_checkout(shopper_client, demo_diamond)
    stripe_api.expire(order.stripe_checkout_session_id)

    html = success_page(shopper_client, order).content.decode()

    assert "Checkout Expired" in html
    assert "Payment Successful" not in html
    assert try_again_form(html) is None
    assert "The diamond will be available again in a few minutes." in html


@pytest.mark.django_db
def test_a_failed_payment_says_payment_failed_and_offers_a_new_checkout(
    stripe_api, shopper, shopper_client, demo_diamond
):
    order = start_checkout(shopper_client, demo_diamond)
    signed = stripe_event("checkout.session.async_payment_failed", session_of(stripe_api, order))
    assert post_event(Client(), signed).status_code == 200
    order.refresh_from_db()
    assert order.status == Status.FAILED

    html = success_page(shopper_client, order).content.decode()

    assert "Payment Failed" in html
    assert "Payment Successful" not in html
    assert "you have not been charged" in html
    assert "Try again" in try_again_form(html)
    assert not retrieve_calls(stripe_api)  # the order already knows

    again = shopper_client.post("/checkout/create/", {"diamond_id": str(demo_diamond.pk)})
    assert again.status_code == 303
    assert Order.objects.filter(user=shopper, status=Status.PENDING_PAYMENT).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("availability", ["sold", "unavailable"])
def test_a_failed_payment_for_a_stone_now_gone_says_so_plainly(
    shopper, shopper_client, availability
):
    order = OrderFactory(user=shopper, status=Status.FAILED, payment_status=PaymentStatus.FAILED)
    order.diamond.availability = availability
    order.diamond.save(update_fields=["availability"])

    html = success_page(shopper_client, order).content.decode()

    assert "Payment Failed" in html
    assert try_again_form(html) is None
    assert "Sorry, this diamond is no longer available." in html


@pytest.mark.django_db
def test_a_stone_another_shopper_is_now_checking_out_is_not_offered(
    shopper, shopper_client, other_shopper
):
    order = OrderFactory(user=shopper, status=Status.EXPIRED, payment_status=PaymentStatus.EXPIRED)
    OrderFactory(user=other_shopper, diamond=order.diamond)  # their open checkout

    html = success_page(shopper_client, order).content.decode()

    assert "Checkout Expired" in html
    assert try_again_form(html) is None
    assert "no longer available" in html


@pytest.mark.django_db
def test_a_refunded_order_is_cancelled_with_the_amount(shopper, shopper_client):
    order = OrderFactory(
        user=shopper, status=Status.CANCELLED, payment_status=PaymentStatus.REFUNDED
    )

    html = success_page(shopper_client, order).content.decode()

    assert "Order Cancelled" in html
    assert "$12,345.00 NZD was refunded" in html
    assert "Payment Successful" not in html


@pytest.mark.django_db
def test_with_the_simulator_an_unpaid_order_is_not_completed(settings, shopper, shopper_client):
    settings.DEBUG, settings.STRIPE_SECRET_KEY = True, ""
    order = simulated_payment(OrderFactory(user=shopper))

    html = success_page(shopper_client, order).content.decode()

    assert "Payment Not Completed" in html


def session_of(stripe_api, order) -> dict:
    return {**stripe_api.sessions[order.stripe_checkout_session_id], "payment_status": "unpaid"}
