"""One function names the customer (`accounts.selectors.customer_name`): the full name given
at sign-up, in every email's greeting and as the name the stone ships to when Checkout gave
none; the username for an account without one; "Deleted customer" once deleted."""

import pytest

from accounts.selectors import DELETED_CUSTOMER, customer_name
from orders.emails import order_email_render
from orders.models import Order
from orders.selectors.shopper import shipping_address_lines
from tests.factories import PASSWORD, DemoDiamondFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

ADDRESS = {"line1": "12 Kauri Street", "city": "Wellington", "postal_code": "6011", "country": "NZ"}


def test_the_full_name_else_the_username():
    assert customer_name(UserFactory(username="aroha", first_name="Aroha Ngata")) == "Aroha Ngata"
    assert customer_name(UserFactory(username="walker2")) == "walker2"


def test_a_deleted_customer_is_named_as_such(client):
    user = UserFactory(first_name="Aroha Ngata")
    client.force_login(user)
    client.post("/account/delete/", {"password": PASSWORD})
    user.refresh_from_db()
    assert customer_name(user) == DELETED_CUSTOMER


def test_emails_greet_the_customer_by_their_full_name():
    order = OrderFactory(user=UserFactory(first_name="Aroha Ngata"), paid=True)
    for kind in ("payment_received", "order_confirmed"):
        _subject, text, html = order_email_render(kind=kind, order=order)
        assert text.startswith("Kia ora Aroha Ngata,")
        assert "Kia ora Aroha Ngata," in html


def test_the_stone_ships_to_the_customer_when_checkout_gave_no_name():
    user = UserFactory(first_name="Aroha Ngata")
    unnamed = OrderFactory(user=user, paid=True, shipping_address=ADDRESS)
    named = OrderFactory(user=user, paid=True, shipping_address=ADDRESS, shipping_name="Mere Tui")

    assert shipping_address_lines(order=unnamed)[0] == "Aroha Ngata"
    assert shipping_address_lines(order=named)[0] == "Mere Tui"
    assert "Aroha Ngata" in order_email_render(kind="payment_received", order=unnamed)[1]


def test_the_payment_simulator_collects_the_customer_s_name(client, settings):
    settings.DEBUG, settings.STRIPE_SECRET_KEY, settings.STRIPE_WEBHOOK_SECRET = True, "", ""
    user = UserFactory(first_name="Aroha Ngata")
    client.force_login(user)
    client.post("/checkout/create/", {"diamond_id": str(DemoDiamondFactory().pk)})
    order = Order.objects.get(user=user)

    client.post(order.stripe_checkout_url, {"action": "pay"})  # the test checkout page

    order.refresh_from_db()
    assert order.shipping_name == "Aroha Ngata"


def test_the_welcome_page_uses_it_too(client):
    client.force_login(UserFactory(first_name="Aroha Ngata"))
    assert "Welcome, Aroha Ngata" in client.get("/accounts/welcome/").content.decode()
