"""Checkout asks for a shipping address and a phone number; `shipping_from_session` reads them
from either of Stripe's shapes, and from sessions that have none."""

import json

import pytest
import stripe

from gateway.stripe_api import StripeGateway
from gateway.stripe_objects import checkout_session_with_legacy_shipping
from orders.models import Order
from payments.shipping import ADDRESS_FIELDS, shipping_from_session

ADDRESS = {
    "line1": "12 Queen Street",
    "line2": "Level 3",
    "city": "Auckland",
    "state": "Auckland",
    "postal_code": "1010",
    "country": "NZ",
}
SHIPPING = {"name": "Aroha Smith", "address": ADDRESS}
EXPECTED = {
    "shipping_name": "Aroha Smith",
    "shipping_address": ADDRESS,
    "shipping_phone": "+6421555123",
}
NOTHING = {"shipping_name": "", "shipping_address": {}, "shipping_phone": ""}


def start_checkout(client, diamond) -> Order:
    response = client.post(
        "/api/v2/checkout/create",
        data=json.dumps({"diamond_id": str(diamond.pk)}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return Order.objects.get(order_number=response.json()["orderNumber"])


@pytest.mark.django_db
def test_checkout_asks_stripe_for_the_address_and_phone(stripe_api, shopper_client, demo_diamond):
    start_checkout(shopper_client, demo_diamond)

    (call,) = stripe_api.calls("POST", "/v1/checkout/sessions")
    assert call["params"]["shipping_address_collection"] == {"allowed_countries": ["NZ"]}
    assert call["params"]["phone_number_collection"] == {"enabled": "true"}


@pytest.mark.django_db
def test_the_allowed_countries_come_from_the_setting(
    stripe_api, settings, shopper_client, demo_diamond
):
    settings.SHIPPING_COUNTRIES = ["NZ", "AU"]
    start_checkout(shopper_client, demo_diamond)

    (call,) = stripe_api.calls("POST", "/v1/checkout/sessions")
    assert call["params"]["shipping_address_collection"] == {"allowed_countries": ["NZ", "AU"]}


@pytest.mark.django_db
def test_the_current_shape_through_the_sdk(stripe_api, shopper_client, demo_diamond):
    """The session as the SDK hands it over (a StripeObject of the pinned API version)."""
    order = start_checkout(shopper_client, demo_diamond)
    stripe_api.complete(order.stripe_checkout_session_id, shipping=SHIPPING, phone="+6421555123")

    session = (
        StripeGateway().client().v1.checkout.sessions.retrieve(order.stripe_checkout_session_id)
    )

    assert shipping_from_session(session) == EXPECTED


@pytest.mark.django_db
def test_the_older_api_versions_shape_as_a_stripe_object(stripe_api, shopper_client, demo_diamond):
    """An endpoint pinned to a version before 2025-03-31.basil gets `shipping_details` at the
    session's top level; the SDK's object for it reads the same."""
    order = start_checkout(shopper_client, demo_diamond)
    session = stripe_api.complete(
        order.stripe_checkout_session_id, shipping=SHIPPING, phone="+6421555123"
    )
    legacy = stripe.checkout.Session.construct_from(
        checkout_session_with_legacy_shipping(session), "sk_test_suite"
    )

    assert "collected_information" not in legacy
    assert shipping_from_session(legacy) == EXPECTED


def test_the_current_shape():
    session = {
        "collected_information": {"shipping_details": SHIPPING},
        "customer_details": {"phone": "+6421555123", "name": "Someone Paying"},
    }
    assert shipping_from_session(session) == EXPECTED


def test_the_older_shape():
    session = {"shipping_details": SHIPPING, "customer_details": {"phone": "+6421555123"}}
    assert shipping_from_session(session) == EXPECTED


def test_the_current_shape_wins_when_both_are_there():
    older = {"name": "Old Name", "address": {**ADDRESS, "line1": "1 Old Road"}}
    session = {
        "collected_information": {"shipping_details": SHIPPING},
        "shipping_details": older,
        "customer_details": {"phone": "+6421555123"},
    }
    assert shipping_from_session(session) == EXPECTED


def test_an_empty_current_shape_falls_back_to_the_older_one():
    session = {
        "collected_information": {"shipping_details": None},
        "shipping_details": SHIPPING,
        "customer_details": {"phone": "+6421555123"},
    }
    assert shipping_from_session(session) == EXPECTED


@pytest.mark.parametrize(
    "session",
    [
        {},
        {"collected_information": None, "shipping_details": None, "customer_details": None},
        {"collected_information": {}, "customer_details": {"phone": None}},
        {"shipping_details": {"name": None, "address": None}},
        {"shipping_details": "not a dict", "customer_details": ["nor", "this"]},
        {"collected_information": {"shipping_details": {"address": {"line1": 12}}}},
    ],
)
def test_sessions_without_shipping_details_give_empty_values(session):
    assert shipping_from_session(session) == NOTHING


def test_missing_address_parts_are_empty_strings_and_text_is_trimmed():
    session = {
        "shipping_details": {
            "name": " Kiri ",
            "address": {"line1": " 1 Beach Rd ", "country": "NZ"},
        },
        "customer_details": {"phone": " +64 9 555 0000 "},
    }
    result = shipping_from_session(session)
    assert result["shipping_name"] == "Kiri"
    assert set(result["shipping_address"]) == set(ADDRESS_FIELDS)
    assert result["shipping_address"]["line1"] == "1 Beach Rd"
    assert result["shipping_address"]["line2"] == ""
    assert result["shipping_phone"] == "+64 9 555 0000"


def test_a_phone_without_an_address():
    session = {"customer_details": {"phone": "+6421555123"}}
    assert shipping_from_session(session) == {**NOTHING, "shipping_phone": "+6421555123"}
