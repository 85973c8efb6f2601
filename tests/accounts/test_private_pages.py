"""Every page answered to a logged-in person carries `Cache-Control: private, no-store`
(accounts.middleware): no shared cache keeps a shopper's name, orders or account, and the
browser does not store them on disk."""

import pytest
from django.test import Client
from django.utils.cache import get_max_age

from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def cache_control(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part}


@pytest.fixture
def logged_in(client, shopper):
    client.force_login(shopper)
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/account/",
        "/account/orders/",
        "/account/orders/{number}/",
        "/checkout/success/?order={number}&session_id={session}",
        "/accounts/welcome/",
        "/accounts/password_change/",
        "/accounts/password_change/done/",
        "/",
        "/compare/",
        "/diamonds/{diamond}/",
        "/pages/contact/",
    ],
)
def test_every_page_for_a_logged_in_shopper_is_private_and_not_stored(logged_in, shopper, path):
    order = OrderFactory(user=shopper, confirmed=True)
    url = path.format(
        number=order.order_number,
        session=order.stripe_checkout_session_id,
        diamond=order.diamond_id,
    )

    response = logged_in.get(url)

    assert response.status_code == 200, url
    assert {"private", "no-store"} <= cache_control(response), url
    assert "public" not in cache_control(response)
    assert not get_max_age(response), url


def test_a_page_that_said_public_says_private_once_a_shopper_is_logged_in(logged_in):
    """The catalog for a visitor may be cached; for a logged-in shopper it names them."""
    anonymous = Client().get("/")
    mine = logged_in.get("/")

    assert "private" not in cache_control(anonymous)
    assert {"private", "no-store"} <= cache_control(mine)


def test_the_admin_keeps_its_own_never_cache_and_is_private_too(client, staff):
    client.force_login(staff)
    response = client.get("/admin/")
    assert {"private", "no-store", "no-cache", "must-revalidate"} <= cache_control(response)
