import json
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from catalog.models import Availability
from gateway.base import checkout_lifetime
from orders.models import Order, PaymentStatus, Status
from payments.services import MESSAGES
from tests.factories import DiamondFactory, OrderFactory
from tests.payments.conftest import login

FORM_URL = "/checkout/create/"
API_URL = "/api/v2/checkout/create"
SESSIONS = "/v1/checkout/sessions"


def api_post(client, data, **extra):
    body = data if isinstance(data, (str, bytes)) else json.dumps(data)
    return client.post(API_URL, data=body, content_type="application/json", **extra)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def error_of(response) -> tuple[int, str]:
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["message"]
    return response.status_code, body["error"]["code"]


# ---------------------------------------------------------------- happy paths


@pytest.mark.django_db
def test_form_checkout_reserves_the_diamond_and_sees_the_shopper_off_to_stripe(
    stripe_api, settings, shopper, shopper_client, demo_diamond
):
    settings.STOREFRONT_URL = "https://shop.example.com"
    before = int(time.time())

    response = shopper_client.post(FORM_URL, {"diamond_id": str(demo_diamond.pk)})

    after = int(time.time())
    order = Order.objects.get()
    assert response.status_code == 303
    assert response["Location"] == order.stripe_checkout_url
    assert order.stripe_checkout_url.startswith("https://checkout.stripe.com/c/pay/cs_test_")
    assert order.status == Status.PENDING_PAYMENT
    assert order.payment_status == PaymentStatus.PENDING
    assert order.user == shopper
    assert order.amount_cents == 1234567
    assert order.currency == "nzd"
    assert order.order_number.startswith(f"DO-{timezone.now():%Y%m%d}-")
    demo_diamond.refresh_from_db()
    assert demo_diamond.availability == Availability.RESERVED

    (call,) = stripe_api.calls("POST", SESSIONS)
    params = call["params"]
    assert call["headers"]["idempotency-key"] == order.idempotency_key
    assert call["headers"]["authorization"] == "Bearer sk_test_suite"
    assert params["mode"] == "payment"
    assert params["currency"] == "nzd"
    assert params["line_items"] == [
        {
            "price_data": {
                "currency": "nzd",
                "unit_amount": "1234567",
                "product_data": {"name": "Oval 1.50ct Diamond"},
            },
            "quantity": "1",
        }
    ]
    assert params["client_reference_id"] == order.order_number
    assert params["metadata"] == {
        "diamond_id": str(demo_diamond.pk),
        "order_id": str(order.pk),
        "order_number": order.order_number,
    }
    assert params["customer_email"] == shopper.email
    assert params["success_url"] == (
        "https://shop.example.com/checkout/success/"
        f"?order={order.order_number}&session_id={{CHECKOUT_SESSION_ID}}"
    )
    assert params["cancel_url"] == f"https://shop.example.com/diamonds/{demo_diamond.pk}/"
    expires_at = int(params["expires_at"])
    # 30 minutes is under Stripe's minimum plus 5 minutes after the SDK's 2 retries (70 s).
    assert before + 35 * 60 + 70 <= expires_at <= after + 35 * 60 + 70
    session = stripe_api.sessions[order.stripe_checkout_session_id]
    assert session["amount_total"] == order.amount_cents
    assert order.events.filter(kind="checkout_session_created").exists()


@pytest.mark.django_db
def test_json_checkout_answers_201_with_url_and_order_number(
    stripe_api, shopper_client, demo_diamond
):
    response = api_post(
        shopper_client,
        {"diamond_id": str(demo_diamond.pk), "reference": " Gift ", "comments": "Ring size N"},
    )

    assert response.status_code == 201
    order = Order.objects.get()
    assert response.json() == {
        "checkoutUrl": order.stripe_checkout_url,
        "orderNumber": order.order_number,
    }
    assert (order.reference, order.comments) == ("Gift", "Ring size N")
    (call,) = stripe_api.calls("POST", SESSIONS)
    assert call["headers"]["idempotency-key"] == order.idempotency_key
    assert call["params"]["client_reference_id"] == order.order_number


@pytest.mark.django_db
def test_amounts_never_come_from_the_client(stripe_api, shopper_client, demo_diamond):
    response = api_post(
        shopper_client,
        {"diamond_id": str(demo_diamond.pk), "amount": 1, "amount_cents": 1, "price": "1.00"},
    )

    assert response.status_code == 201
    assert Order.objects.get().amount_cents == 1234567
    (call,) = stripe_api.calls("POST", SESSIONS)
    assert call["params"]["line_items"][0]["price_data"]["unit_amount"] == "1234567"


@pytest.mark.django_db
def test_supplier_cost_is_charged_when_there_is_no_retail_price(
    stripe_api, shopper_client, make_diamond
):
    diamond = make_diamond(price_model_nzd=None, price_nzd=Decimal("999.995"))

    response = api_post(shopper_client, {"diamond_id": str(diamond.pk)})

    assert response.status_code == 201
    assert Order.objects.get().amount_cents == 100000


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("minutes", "lifetime"),
    [
        # Stripe's 30 minutes, 5 of margin, and the SDK's 2 retries (30 s each + 5 s backoff).
        (30, 35 * 60 + 2 * 35),
        (120, 120 * 60),
        (24 * 60, 24 * 3600),
    ],
)
def test_session_expiry_follows_the_setting_within_stripes_limits(
    stripe_api, settings, shopper_client, demo_diamond, minutes, lifetime
):
    settings.CHECKOUT_EXPIRY_MINUTES = minutes
    settings.STRIPE_MAX_NETWORK_RETRIES, settings.STRIPE_TIMEOUT_SECONDS = 2, 30
    before = int(time.time())

    api_post(shopper_client, {"diamond_id": str(demo_diamond.pk)})

    after = int(time.time())
    (call,) = stripe_api.calls("POST", SESSIONS)
    assert before + lifetime <= int(call["params"]["expires_at"]) <= after + lifetime


@pytest.mark.django_db
def test_expires_at_keeps_five_minutes_of_margin_when_the_last_retry_reaches_stripe(
    stripe_api, settings, shopper_client, demo_diamond
):
    """Two attempts lost after waiting out the whole 30 s timeout: the SDK's last retry, with
    the same `expires_at`, reaches Stripe over a minute after it was built."""
    settings.CHECKOUT_EXPIRY_MINUTES = 30
    settings.STRIPE_MAX_NETWORK_RETRIES, settings.STRIPE_TIMEOUT_SECONDS = 2, 30
    stripe_api.fail("POST", SESSIONS, status=503, times=2, elapsed=30)

    response = api_post(shopper_client, {"diamond_id": str(demo_diamond.pk)})

    assert response.status_code == 201
    attempts = stripe_api.calls("POST", SESSIONS)
    assert len(attempts) == 3
    assert len({a["params"]["expires_at"] for a in attempts}) == 1
    assert attempts[-1]["at"] - attempts[0]["at"] >= 60
    for attempt in attempts:
        assert int(attempt["params"]["expires_at"]) - attempt["at"] >= 35 * 60


@pytest.mark.django_db
def test_no_customer_email_is_sent_for_a_shopper_without_one(
    stripe_api, shopper, shopper_client, demo_diamond
):
    shopper.email = ""
    shopper.save()

    api_post(shopper_client, {"diamond_id": str(demo_diamond.pk)})

    (call,) = stripe_api.calls("POST", SESSIONS)
    assert "customer_email" not in call["params"]


# ---------------------------------------------------------------- login and CSRF


@pytest.mark.django_db
def test_form_checkout_sends_anonymous_shoppers_to_log_in_first(stripe_api, demo_diamond):
    response = Client().post(FORM_URL, {"diamond_id": str(demo_diamond.pk)})

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next=/diamonds/{demo_diamond.pk}/"
    assert not Order.objects.exists()
    assert not stripe_api.requests


@pytest.mark.django_db
def test_json_checkout_answers_401_in_json_when_not_logged_in(stripe_api, demo_diamond):
    response = api_post(Client(), {"diamond_id": str(demo_diamond.pk)})

    assert error_of(response) == (401, "not_authenticated")
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_json_checkout_enforces_csrf_with_a_json_answer(stripe_api, shopper, demo_diamond):
    client = Client(enforce_csrf_checks=True)
    client.force_login(shopper)
    client.get(demo_diamond.get_absolute_url())  # the page with the Confirm & Pay form
    token = client.cookies["csrftoken"].value

    refused = api_post(client, {"diamond_id": str(demo_diamond.pk)})
    accepted = api_post(client, {"diamond_id": str(demo_diamond.pk)}, HTTP_X_CSRFTOKEN=token)

    assert error_of(refused) == (403, "csrf_failed")
    assert accepted.status_code == 201
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_form_checkout_is_csrf_protected(stripe_api, shopper, demo_diamond):
    client = Client(enforce_csrf_checks=True)
    client.force_login(shopper)

    response = client.post(FORM_URL, {"diamond_id": str(demo_diamond.pk)})

    assert response.status_code == 403
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_checkout_only_accepts_post(shopper_client):
    assert shopper_client.get(FORM_URL).status_code == 405
    assert shopper_client.get(API_URL).status_code == 405


# ---------------------------------------------------------------- validation, in order


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [b"{not json", b"\xff\xfe", json.dumps(["diamond_id"]), json.dumps("x"), b""],
)
def test_json_checkout_rejects_a_body_that_is_not_a_json_object(stripe_api, shopper_client, body):
    assert error_of(api_post(shopper_client, body)) == (400, "invalid_json")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "diamond_id", [None, 42, "", "not-a-uuid", "12345678-1234-1234-1234-1234567890zz", ["x"]]
)
def test_an_invalid_diamond_id_is_400(stripe_api, shopper_client, diamond_id):
    data = {} if diamond_id is None else {"diamond_id": diamond_id}

    assert error_of(api_post(shopper_client, data)) == (400, "invalid_diamond_id")
    assert not stripe_api.requests


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields",
    [{"reference": 7}, {"comments": ["a"]}, {"reference": "x" * 101}, {"comments": "x" * 1001}],
)
def test_bad_optional_fields_are_400(stripe_api, shopper_client, demo_diamond, fields):
    response = api_post(shopper_client, {"diamond_id": str(demo_diamond.pk), **fields})

    assert error_of(response) == (400, "invalid_field")
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_form_checkout_with_a_bad_id_goes_back_to_the_catalog_calmly(stripe_api, shopper_client):
    response = shopper_client.post(FORM_URL, {"diamond_id": "../etc/passwd"})

    assert response.status_code == 303
    assert response["Location"] == "/"
    assert messages_of(response) == [MESSAGES["invalid_diamond_id"]]


@pytest.mark.django_db
def test_an_unknown_diamond_is_404(stripe_api, shopper_client):
    response = api_post(shopper_client, {"diamond_id": "6f1c1ae4-58a3-4d1b-9b5e-3c1b0f3c2a10"})

    assert error_of(response) == (404, "diamond_not_found")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "availability", [Availability.SOLD, Availability.ON_HOLD, Availability.UNAVAILABLE]
)
def test_a_diamond_that_is_not_for_sale_is_409(
    stripe_api, shopper_client, make_diamond, availability
):
    diamond = make_diamond(availability=availability, price_model_nzd=None, price_nzd=None)

    response = api_post(shopper_client, {"diamond_id": str(diamond.pk)})

    assert error_of(response) == (409, "diamond_unavailable")
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_a_reserved_diamond_with_a_paid_order_is_409_even_for_its_buyer(
    stripe_api, shopper, shopper_client, make_diamond
):
    diamond = make_diamond(availability=Availability.RESERVED)
    OrderFactory(user=shopper, diamond=diamond, paid=True)

    response = api_post(shopper_client, {"diamond_id": str(diamond.pk)})

    assert error_of(response) == (409, "diamond_unavailable")


@pytest.mark.django_db
def test_the_feed_saying_unavailable_is_409_and_marks_the_diamond(stripe_api, shopper_client):
    # A demo stone the demo feed does not (or no longer) carry.
    diamond = DiamondFactory(supplier_stone_id="WITHDRAWN-1", price_model_nzd=None)

    response = api_post(shopper_client, {"diamond_id": str(diamond.pk)})

    assert error_of(response) == (409, "diamond_unavailable")
    diamond.refresh_from_db()
    assert diamond.availability == Availability.UNAVAILABLE
    assert not Order.objects.exists()
    assert not stripe_api.requests


@pytest.mark.django_db
def test_a_feed_error_during_the_availability_check_is_a_calm_503(stripe_api, shopper_client):
    diamond = DiamondFactory(feed="retired-supplier")

    response = api_post(shopper_client, {"diamond_id": str(diamond.pk)})

    assert error_of(response) == (503, "availability_unknown")
    diamond.refresh_from_db()
    assert diamond.availability == Availability.AVAILABLE
    assert not Order.objects.exists()


def nivoda_diamond(nivoda_api, **diamond_changes):
    stone = nivoda_api.add_stone(diamond=diamond_changes)
    return DiamondFactory(
        feed="nivoda", supplier_stone_id=stone["diamond"]["id"], offer_id=stone["id"]
    )


@pytest.mark.django_db
def test_a_nivoda_stone_is_checked_live_before_checkout(stripe_api, nivoda_api, shopper_client):
    diamond = nivoda_diamond(nivoda_api)

    response = api_post(shopper_client, {"diamond_id": str(diamond.pk)})

    assert response.status_code == 201
    (call,) = nivoda_api.calls("get_diamond_by_id")
    assert call.variables["id"] == diamond.supplier_stone_id


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "marked"),
    [
        ({"availability": "SOLD"}, Availability.UNAVAILABLE),
        ({"HoldId": "hold-elsewhere"}, Availability.ON_HOLD),
    ],
)
def test_a_nivoda_stone_gone_elsewhere_is_409_and_marked(
    stripe_api, nivoda_api, shopper_client, changes, marked
):
    diamond = nivoda_diamond(nivoda_api, **changes)

    response = api_post(shopper_client, {"diamond_id": str(diamond.pk)})

    assert error_of(response) == (409, "diamond_unavailable")
    diamond.refresh_from_db()
    assert diamond.availability == marked
    assert not Order.objects.exists()
    assert not stripe_api.requests


@pytest.mark.django_db
def test_nivoda_failing_the_availability_check_is_a_calm_503(
    stripe_api, nivoda_api, shopper_client, caplog
):
    diamond = nivoda_diamond(nivoda_api)
    nivoda_api.fail("graphql_error", operation="get_diamond_by_id", times=5, message="Boom")

    response = api_post(shopper_client, {"diamond_id": str(diamond.pk)})
    form = shopper_client.post(FORM_URL, {"diamond_id": str(diamond.pk)})

    assert error_of(response) == (503, "availability_unknown")
    assert messages_of(form) == [MESSAGES["availability_unknown"]]
    diamond.refresh_from_db()
    assert diamond.availability == Availability.AVAILABLE
    assert not Order.objects.exists()
    assert diamond.supplier_stone_id in caplog.text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("price_model_nzd", "price_nzd"),
    [(None, None), (Decimal("0"), Decimal("500")), (None, Decimal("0")), (Decimal("0.004"), None)],
)
def test_a_missing_or_non_positive_price_is_422(
    stripe_api, shopper_client, make_diamond, price_model_nzd, price_nzd
):
    diamond = make_diamond(price_model_nzd=price_model_nzd, price_nzd=price_nzd)

    response = api_post(shopper_client, {"diamond_id": str(diamond.pk)})

    assert error_of(response) == (422, "price_unavailable")
    diamond.refresh_from_db()
    assert diamond.availability == Availability.AVAILABLE
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_the_price_is_checked_before_the_rate_limit(
    stripe_api, settings, shopper, shopper_client, make_diamond
):
    settings.CHECKOUT_RATE_LIMIT = "1/1h"
    OrderFactory(user=shopper, expired=True)
    diamond = make_diamond(price_model_nzd=None, price_nzd=None)

    response = api_post(shopper_client, {"diamond_id": str(diamond.pk)})

    assert error_of(response) == (422, "price_unavailable")


@pytest.mark.django_db
def test_the_rate_limit_answers_429_counting_the_shoppers_recent_checkouts(
    stripe_api, settings, shopper, shopper_client, other_shopper, make_diamond
):
    settings.CHECKOUT_RATE_LIMIT = "2/10m"
    old = OrderFactory(user=shopper, expired=True)
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(minutes=11))
    OrderFactory(user=other_shopper, expired=True)
    diamonds = [make_diamond() for _ in range(3)]

    answers = [
        api_post(shopper_client, {"diamond_id": str(d.pk)}).status_code for d in diamonds[:2]
    ]
    limited = api_post(shopper_client, {"diamond_id": str(diamonds[2].pk)})
    form = shopper_client.post(FORM_URL, {"diamond_id": str(diamonds[2].pk)})

    assert answers == [201, 201]
    assert error_of(limited) == (429, "rate_limited")
    assert messages_of(form) == [MESSAGES["rate_limited"]]
    assert form["Location"] == f"/diamonds/{diamonds[2].pk}/"
    diamonds[2].refresh_from_db()
    assert diamonds[2].availability == Availability.AVAILABLE
    assert len(stripe_api.calls("POST", SESSIONS)) == 2


# ---------------------------------------------------------------- reservations


@pytest.mark.django_db
def test_the_same_shopper_clicking_again_goes_back_to_the_same_session(
    stripe_api, shopper_client, demo_diamond
):
    first = shopper_client.post(FORM_URL, {"diamond_id": str(demo_diamond.pk)})
    second = shopper_client.post(FORM_URL, {"diamond_id": str(demo_diamond.pk)})
    third = api_post(shopper_client, {"diamond_id": str(demo_diamond.pk)})

    order = Order.objects.get()
    assert first["Location"] == second["Location"] == order.stripe_checkout_url
    assert third.status_code == 201
    assert third.json() == {
        "checkoutUrl": order.stripe_checkout_url,
        "orderNumber": order.order_number,
    }
    assert len(stripe_api.calls("POST", SESSIONS)) == 1


@pytest.mark.django_db
def test_another_shopper_gets_409_while_a_checkout_is_open(
    stripe_api, shopper_client, other_shopper, demo_diamond
):
    shopper_client.post(FORM_URL, {"diamond_id": str(demo_diamond.pk)})
    other = login(other_shopper)

    api = api_post(other, {"diamond_id": str(demo_diamond.pk)})
    form = other.post(FORM_URL, {"diamond_id": str(demo_diamond.pk)})

    assert error_of(api) == (409, "diamond_reserved")
    assert api.json()["error"]["message"] == MESSAGES["diamond_reserved"]
    assert form.status_code == 303
    assert form["Location"] == f"/diamonds/{demo_diamond.pk}/"
    assert messages_of(form) == [MESSAGES["diamond_reserved"]]
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_an_open_checkout_past_its_expiry_is_not_resumed(stripe_api, shopper_client, demo_diamond):
    api_post(shopper_client, {"diamond_id": str(demo_diamond.pk)})
    Order.objects.update(created_at=timezone.now() - checkout_lifetime() - timedelta(minutes=1))

    response = api_post(shopper_client, {"diamond_id": str(demo_diamond.pk)})

    assert error_of(response) == (409, "checkout_expiring")
    assert len(stripe_api.calls("POST", SESSIONS)) == 1


@pytest.mark.django_db
def test_a_checkout_whose_session_is_not_attached_yet_is_409_in_progress(
    stripe_api, shopper, shopper_client, make_diamond
):
    diamond = make_diamond(availability=Availability.RESERVED)
    OrderFactory(user=shopper, diamond=diamond, stripe_checkout_session_id=None)

    response = api_post(shopper_client, {"diamond_id": str(diamond.pk)})

    assert error_of(response) == (409, "checkout_in_progress")


# ---------------------------------------------------------------- Stripe failures


@pytest.mark.django_db
def test_stripe_refusing_the_session_fails_the_order_and_frees_the_diamond(
    stripe_api, shopper_client, demo_diamond, caplog
):
    stripe_api.fail("POST", SESSIONS, status=400, message="Invalid currency: xyz")

    response = shopper_client.post(FORM_URL, {"diamond_id": str(demo_diamond.pk)})

    assert response.status_code == 303
    assert response["Location"] == f"/diamonds/{demo_diamond.pk}/"
    assert messages_of(response) == [MESSAGES["payment_provider_unavailable"]]
    order = Order.objects.get()
    assert (order.status, order.payment_status) == (Status.FAILED, PaymentStatus.FAILED)
    assert not order.stripe_checkout_session_id
    demo_diamond.refresh_from_db()
    assert demo_diamond.availability == Availability.AVAILABLE
    failed = order.events.get(kind="checkout_failed")
    assert "Invalid currency: xyz" in failed.message
    assert "HTTP 400" in failed.message
    assert order.order_number in caplog.text
    assert "Invalid currency: xyz" in caplog.text


@pytest.mark.django_db
def test_a_session_without_a_checkout_url_fails_the_order_calmly_and_frees_the_diamond(
    stripe_api, shopper_client, demo_diamond
):
    stripe_api.omit_next_session_url = True

    response = shopper_client.post(FORM_URL, {"diamond_id": str(demo_diamond.pk)})

    assert response.status_code == 303
    assert response["Location"] == f"/diamonds/{demo_diamond.pk}/"
    assert messages_of(response) == [MESSAGES["payment_provider_unavailable"]]
    order = Order.objects.get()
    assert (order.status, order.payment_status) == (Status.FAILED, PaymentStatus.FAILED)
    assert "without a checkout URL" in order.events.get(kind="checkout_failed").message
    demo_diamond.refresh_from_db()
    assert demo_diamond.availability == Availability.AVAILABLE


@pytest.mark.django_db
def test_stripe_failure_on_the_json_api_is_503_and_a_retry_starts_afresh(
    stripe_api, settings, shopper_client, demo_diamond
):
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    stripe_api.fail("POST", SESSIONS, status=500, times=1)

    failed = api_post(shopper_client, {"diamond_id": str(demo_diamond.pk)})
    retried = api_post(shopper_client, {"diamond_id": str(demo_diamond.pk)})

    assert error_of(failed) == (503, "payment_provider_unavailable")
    assert "Traceback" not in failed.content.decode()
    assert retried.status_code == 201
    first, second = Order.objects.order_by("created_at")
    assert first.status == Status.FAILED
    assert second.status == Status.PENDING_PAYMENT
    assert retried.json()["orderNumber"] == second.order_number
    assert first.order_number != second.order_number


@pytest.mark.django_db
def test_stripe_unreachable_is_a_calm_503(settings, shopper_client, demo_diamond):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    settings.STRIPE_MAX_NETWORK_RETRIES = 0

    response = api_post(shopper_client, {"diamond_id": str(demo_diamond.pk)})

    assert error_of(response) == (503, "payment_provider_unavailable")
    order = Order.objects.get()
    assert order.status == Status.FAILED
    assert "APIConnectionError" in order.events.get(kind="checkout_failed").message
    demo_diamond.refresh_from_db()
    assert demo_diamond.availability == Availability.AVAILABLE


@pytest.mark.django_db
def test_a_transient_stripe_error_is_retried_with_the_same_idempotency_key(
    stripe_api, shopper_client, demo_diamond
):
    stripe_api.fail("POST", SESSIONS, status=500, times=1)

    response = api_post(shopper_client, {"diamond_id": str(demo_diamond.pk)})

    assert response.status_code == 201
    order = Order.objects.get()
    calls = stripe_api.calls("POST", SESSIONS)
    assert len(calls) == 2
    assert {c["headers"]["idempotency-key"] for c in calls} == {order.idempotency_key}
    assert len(stripe_api.sessions) == 1
