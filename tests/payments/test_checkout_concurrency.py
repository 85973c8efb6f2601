"""Concurrent checkouts from real threads, each with its own client and database connection."""

import json

import pytest
from django.test import Client

from catalog.models import Availability
from orders.models import Order, Status
from tests.factories import UserFactory
from tests.threads import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SESSIONS = "/v1/checkout/sessions"


def run_together(jobs):
    """Run each (user, diamond) checkout in its own thread, all released at once."""

    def checkout(job):
        user, diamond = job
        client = Client()
        client.force_login(user)
        response = client.post(
            "/api/v2/checkout/create",
            data=json.dumps({"diamond_id": str(diamond.pk)}),
            content_type="application/json",
        )
        return response.status_code, response.json()

    return at_once(checkout, jobs)


def test_one_of_many_shoppers_wins_a_diamond_the_rest_get_409(
    postgres_only, stripe_api, make_diamond
):
    diamond = make_diamond()
    shoppers = [UserFactory() for _ in range(6)]

    answers = run_together([(shopper, diamond) for shopper in shoppers])

    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [409] * 5
    assert {body["error"]["code"] for status, body in answers if status == 409} == {
        "diamond_reserved"
    }
    order = Order.objects.get()
    (winner,) = [body for status, body in answers if status == 201]
    assert winner["orderNumber"] == order.order_number
    assert order.status == Status.PENDING_PAYMENT
    assert len(stripe_api.calls("POST", SESSIONS)) == 1
    diamond.refresh_from_db()
    assert diamond.availability == Availability.RESERVED


def test_concurrent_checkouts_get_unique_consecutive_order_numbers(
    postgres_only, stripe_api, make_diamond
):
    jobs = [(UserFactory(), make_diamond()) for _ in range(8)]

    answers = run_together(jobs)

    assert [status for status, _ in answers] == [201] * 8
    numbers = sorted(body["orderNumber"] for _, body in answers)
    prefixes = {number.rsplit("-", 1)[0] for number in numbers}
    assert len(prefixes) == 1
    counters = [int(number.rsplit("-", 1)[1]) for number in numbers]
    assert counters == list(range(counters[0], counters[0] + 8))
    assert sorted(Order.objects.values_list("order_number", flat=True)) == numbers


def test_a_double_click_makes_one_order_and_one_stripe_session(
    postgres_only, stripe_api, shopper, make_diamond
):
    diamond = make_diamond()

    answers = run_together([(shopper, diamond), (shopper, diamond)])

    order = Order.objects.get()
    assert len(stripe_api.calls("POST", SESSIONS)) == 1
    for status, body in answers:
        if status == 201:
            assert body == {
                "checkoutUrl": order.stripe_checkout_url,
                "orderNumber": order.order_number,
            }
        else:
            # The second click arrived while the first was still talking to Stripe.
            assert (status, body["error"]["code"]) == (409, "checkout_in_progress")
    assert 201 in [status for status, _ in answers]
