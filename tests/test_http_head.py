"""Every GET page also answers HEAD (uptime checkers and link checkers send HEAD)."""

import pytest

from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def test_head_healthz_answers_200_with_no_body(client):
    response = client.head("/healthz")
    assert response.status_code == 200
    assert response.content == b""


def test_head_catalog_pages_answer_200(client, diamond):
    for path in ("/", diamond.get_absolute_url(), "/compare/", "/guide/"):
        assert client.head(path).status_code == 200, path


def test_head_my_orders_answers_200(client, shopper):
    client.force_login(shopper)
    assert client.head("/account/orders/").status_code == 200


def test_head_the_success_page_answers_200(client, shopper, settings):
    settings.STRIPE_SECRET_KEY = ""
    order = OrderFactory(user=shopper)
    client.force_login(shopper)
    assert client.head("/checkout/success/", {"order": order.order_number}).status_code == 200


def test_other_methods_are_still_refused(client):
    assert client.put("/healthz").status_code == 405
    assert client.delete("/healthz").status_code == 405
