"""Bad input, sent as an attacker would (logged in, with a valid CSRF token): every answer is a
clear 4xx that stores nothing — never a 500, and for a webhook never a 5xx that Stripe would
retry for three days."""

import json

import pytest
from django.test import Client

from orders.models import Order
from payments.models import WebhookEvent
from tests.doubles.stripe import WEBHOOK_PATH, sign, stripe_event
from tests.factories import PASSWORD, OrderFactory

pytestmark = pytest.mark.django_db

CHECKOUT = "/api/v2/checkout/create"


@pytest.fixture
def attacker(shopper, stripe_api):
    """A logged-in shopper's client that passes Django's real CSRF check."""
    client = Client(enforce_csrf_checks=True)
    assert client.login(username=shopper.username, password=PASSWORD)
    client.get("/account/orders/")  # any page with a form sets the CSRF cookie
    client.defaults["HTTP_X_CSRFTOKEN"] = client.cookies["csrftoken"].value
    return client


def checkout(client, body: bytes):
    return client.post(CHECKOUT, data=body, content_type="application/json")


def assert_json_400(response):
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] and len(error["message"]) > 10
    assert not Order.objects.exists()


def test_the_attacker_client_is_a_real_csrf_checked_client(attacker, shopper):
    without_token = Client(enforce_csrf_checks=True)
    without_token.force_login(shopper)
    assert checkout(without_token, b"{}").status_code == 403
    assert checkout(attacker, b"{}").status_code == 400  # past CSRF, refused as input


@pytest.mark.parametrize("depth", [100, 1000, 100_000])
def test_deeply_nested_json_is_a_400(attacker, depth):
    assert_json_400(checkout(attacker, b"[" * depth + b"]" * depth))


def test_deep_nesting_inside_a_field_is_a_400(attacker, demo_diamond):
    nested = "[" * 5000 + "]" * 5000
    body = f'{{"diamond_id": "{demo_diamond.pk}", "comments": {nested}}}'.encode()
    assert_json_400(checkout(attacker, body))


@pytest.mark.parametrize("field", ["reference", "comments"])
@pytest.mark.parametrize("escape", ["\\u0000", "\\ud800", "\\udfff", "a\\ud800b"])
def test_nul_or_a_lone_surrogate_in_a_text_field_is_a_400(attacker, demo_diamond, field, escape):
    body = f'{{"diamond_id": "{demo_diamond.pk}", "{field}": "x{escape}y"}}'.encode()
    assert_json_400(checkout(attacker, body))


def test_a_lone_surrogate_in_a_key_or_the_diamond_id_is_a_400(attacker, demo_diamond):
    assert_json_400(checkout(attacker, f'{{"diamond_id": "{demo_diamond.pk}\\ud800"}}'.encode()))
    assert_json_400(
        checkout(attacker, f'{{"diamond_id": "{demo_diamond.pk}", "\\ud800": 1}}'.encode())
    )


def test_a_paired_surrogate_escape_is_ordinary_text(attacker, demo_diamond):
    body = f'{{"diamond_id": "{demo_diamond.pk}", "comments": "ring \\ud83d\\udc8d"}}'.encode()
    response = checkout(attacker, body)
    assert response.status_code == 201, response.content
    assert Order.objects.get().comments == "ring \U0001f48d"


@pytest.mark.parametrize("order", ["\x00", "DO-\x00", "D" * 5000])
def test_the_success_page_with_an_unusable_order_number_is_a_4xx(attacker, order):
    OrderFactory()
    # U+0000 is refused before any view (400); any other unknown number is not found (404)
    expected = 400 if "\x00" in order else 404
    assert attacker.get("/checkout/success/", {"order": order}).status_code == expected


def test_the_success_page_with_a_percent_encoded_nul_is_a_400(attacker):
    assert attacker.get("/checkout/success/?order=%00").status_code == 400
    assert attacker.get("/checkout/success/?order=DO-1&session_id=%00").status_code == 400
    # a surrogate's UTF-8 form is not UTF-8: Django decodes it to U+FFFD
    assert attacker.get("/checkout/success/?order=%ED%A0%80").status_code == 404


@pytest.mark.parametrize(
    "content_type", ["multipart/form-data; boundary=x", "application/x-www-form-urlencoded"]
)
def test_the_json_checkout_sent_as_a_form_is_a_json_415(attacker, demo_diamond, content_type):
    """The CSRF check parsed a multipart body, then the view could not read it: a 500."""
    body = (
        b'--x\r\nContent-Disposition: form-data; name="diamond_id"\r\n\r\n'
        + str(demo_diamond.pk).encode()
        + b"\r\n--x--\r\n"
        if content_type.startswith("multipart")
        else f"diamond_id={demo_diamond.pk}".encode()
    )
    response = attacker.post(CHECKOUT, data=body, content_type=content_type)
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert not Order.objects.exists()


def test_an_oversized_json_checkout_is_a_json_413_logged_as_a_warning(attacker, caplog):
    body = b'{"diamond_id": "x", "comments": "' + b"x" * 3_000_000 + b'"}'
    response = checkout(attacker, body)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert {r.levelname for r in caplog.records} <= {"WARNING", "INFO"}
    assert not [r for r in caplog.records if r.exc_info]


def test_the_simulator_with_a_nul_session_id_is_a_404(attacker, settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.DEBUG = True
    assert attacker.get("/checkout/simulator/cs_%00/").status_code == 404


# ---------------------------------------------------------------- signed webhooks


def signed(client, body: bytes):
    signature = sign(body, "whsec_test_suite")
    return client.post(
        WEBHOOK_PATH, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )


def event_body(**obj) -> bytes:
    return json.dumps(stripe_event("customer.created", {"object": "customer", **obj})).encode()


@pytest.mark.parametrize("depth", [65, 1000, 10_000])
def test_a_signed_body_nested_deep_is_a_400(client, depth):
    nested = "[" * depth + "]" * depth
    body = event_body(blob="PLACEHOLDER").replace(b'"PLACEHOLDER"', nested.encode())
    response = signed(client, body)
    assert response.status_code == 400
    assert response.json()["message"] == "Invalid payload."
    assert not WebhookEvent.objects.exists()


def test_a_signed_body_nested_within_the_limit_is_stored(client):
    nested = "[" * 40 + "]" * 40
    body = event_body(blob="PLACEHOLDER").replace(b'"PLACEHOLDER"', nested.encode())
    assert signed(client, body).status_code == 200
    assert WebhookEvent.objects.count() == 1


@pytest.mark.parametrize("escape", [b"\\ud800", b"\\udc00", b"\\u0000"])
def test_a_signed_body_with_a_lone_surrogate_or_nul_is_a_400(client, escape):
    body = event_body(name="PLACEHOLDER").replace(b"PLACEHOLDER", b"a" + escape + b"b")
    response = signed(client, body)
    assert response.status_code == 400
    assert response.json()["message"] == "Invalid payload."
    assert not WebhookEvent.objects.exists()


def test_a_lone_surrogate_in_a_key_is_a_400(client):
    body = event_body(name="x").replace(b'"name"', b'"\\ud800"')
    assert signed(client, body).status_code == 400
    assert not WebhookEvent.objects.exists()


def test_a_300_character_event_id_is_a_400_not_a_retry(client):
    event = stripe_event("customer.created", {"object": "customer"}, event_id="evt_" + "a" * 296)
    response = signed(client, json.dumps(event).encode())
    assert response.status_code == 400
    assert response.json()["message"] == "Not a Stripe event."
    assert not WebhookEvent.objects.exists()


def test_a_255_character_event_id_is_stored(client):
    event = stripe_event("customer.created", {"object": "customer"}, event_id="evt_" + "a" * 251)
    assert signed(client, json.dumps(event).encode()).status_code == 200
    assert WebhookEvent.objects.get().stripe_event_id == event["id"]
