"""The shopper's own order page, `/account/orders/<order_number>/`, and the shopper words it
shares with every other shopper page."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html import unescape
from types import SimpleNamespace

import pytest
from django.test import Client
from django.utils import timezone

from gateway.base import checkout_lifetime
from orders.models import OrderEvent, Status
from orders.selectors.shopper import order_receipt_url, order_shopper_status, shipping_address_lines
from orders.services import (
    order_create,
)
from tests.factories import DiamondFactory, OrderFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

FEED_ERROR = "GraphQL error: supplier timeout, outcome unknown"


def url(order) -> str:
    return f"/account/orders/{order.order_number}/"


def text(response) -> str:
    html = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", unescape(html))


@pytest.fixture
def owner_client(client, shopper):
    client.force_login(shopper)
    return client


def paid_order(shopper, **fields):
    diamond = DiamondFactory(
        shape="OVAL", carats=Decimal("1.50"), color="F", clarity="VS1", availability="reserved"
    )
    defaults = {
        "user": shopper,
        "diamond": diamond,
        "order_number": "DO-20260315-0042",
        "amount_cents": 1234500,
        "status": Status.PAID,
        "payment_status": "paid",
        "feed_order_status": "failed",
        "feed_order_error": FEED_ERROR,
        "created_at": datetime(2026, 3, 15, 23, 30, tzinfo=UTC),
        "paid_at": datetime(2026, 3, 15, 23, 32, tzinfo=UTC),
    }
    return OrderFactory(**(defaults | fields))


def test_the_owner_sees_stone_amount_status_dates_and_contact(owner_client, shopper, settings):
    settings.STORE_CONTACT_EMAIL = "care@store.example"
    order = paid_order(shopper)

    response = owner_client.get(url(order))

    assert response.status_code == 200
    page = text(response)
    assert "Order DO-20260315-0042" in page
    assert "Oval 1.50ct diamond" in page
    html = response.content.decode()
    assert re.search(r'<img [^>]*alt="(Photo of the|Illustration of a) oval diamond"', html)
    assert "$12,345.00 NZD" in page
    assert "Processing" in page
    # 23:30 UTC on 15 March is 12:30 pm on the 16th in Auckland (NZDT, +13)
    assert "16 Mar 2026, 12:30 p.m." in page
    assert "Times are New Zealand time." in page
    assert "care@store.example" in page
    assert 'href="/pages/contact/"' in response.content.decode()
    for internal in ("GraphQL", "supplier", "feed", "Feed", "cs_test_factory"):
        assert internal not in page


def test_the_page_is_the_owners_alone(shopper, owner_client):
    order = paid_order(shopper)
    stranger, staff = Client(), Client()
    stranger.force_login(UserFactory())
    staff.force_login(StaffFactory())

    assert owner_client.get(url(order)).status_code == 200
    assert stranger.get(url(order)).status_code == 404
    assert staff.get(url(order)).status_code == 404
    assert owner_client.get("/account/orders/DO-20990101-0001/").status_code == 404
    assert owner_client.get("/account/orders/%00/").status_code == 404
    assert owner_client.get("/account/orders/" + "D" * 300 + "/").status_code == 404
    assert owner_client.head(url(order)).status_code == 200


def test_anonymous_visitors_are_asked_to_log_in(shopper):
    order = paid_order(shopper)
    response = Client().get(url(order))
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url(order)}"


def test_the_orders_list_links_to_each_order_page(owner_client, shopper):
    order = paid_order(shopper)
    html = owner_client.get("/account/orders/").content.decode()
    assert f'href="{url(order)}"' in html
    assert 'class="order-number"' in html


def test_a_refunded_order_says_cancelled_with_the_refunded_amount(owner_client, shopper):
    order = paid_order(shopper, status=Status.CANCELLED, payment_status="refunded")

    page = text(owner_client.get(url(order)))

    assert "Cancelled" in page
    assert "Refunded $12,345.00 NZD" in page
    assert "$12,345.00 NZD was refunded to your payment method" in page


def test_a_delayed_payment_is_processing_with_no_second_payment_offered(owner_client, shopper):
    """The issue: after a delayed payment, *My orders* offered *Complete payment*."""
    order = OrderFactory(user=shopper)
    OrderEvent.objects.create(order=order, kind="payment_processing", message="settles later")

    for page_url in ("/account/orders/", url(order)):
        html = owner_client.get(page_url).content.decode()
        assert "Payment processing" in html
        assert "Complete payment" not in html
        assert 'action="/checkout/create/"' not in html


def test_an_open_checkout_offers_to_complete_payment_and_one_past_expires_at_is_expired(
    owner_client, shopper
):
    order = OrderFactory(user=shopper)
    assert "Complete payment" in owner_client.get(url(order)).content.decode()

    order.created_at = timezone.now() - checkout_lifetime() - timedelta(minutes=1)
    order.save(update_fields=["created_at"])
    page = text(owner_client.get(url(order)))
    assert "Complete payment" not in page and "Awaiting payment" not in page
    assert "Checkout expired" in page
    assert "The checkout expired before payment. Nothing was charged." in page


def test_the_timeline_shows_shopper_steps_only(owner_client, shopper):
    order = paid_order(shopper)
    for kind in ("checkout_created", "paid", "feed_order_failed", "feed_order_retried"):
        OrderEvent.objects.create(order=order, kind=kind, message=f"{kind}: {FEED_ERROR}")

    page = text(owner_client.get(url(order)))

    assert "Order placed" in page and "Payment received" in page
    assert "retried" not in page and "GraphQL" not in page


def test_without_a_shipping_address_the_page_says_so(owner_client, shopper):
    page = text(owner_client.get(url(paid_order(shopper))))
    assert "We don't have a shipping address for this order" in page
    assert "Please contact us so we can arrange delivery." in page


# ---------------------------------------------------------------- the pieces, on their own


def test_shipping_address_lines_from_the_orders_fields():
    order = SimpleNamespace(
        shipping_name="Aroha Smith",
        shipping_address={
            "line1": "12 Queen Street",
            "line2": "",
            "city": "Auckland",
            "state": "",
            "postal_code": "1010",
            "country": "NZ",
        },
    )
    assert shipping_address_lines(order=order) == [
        "Aroha Smith",
        "12 Queen Street",
        "Auckland 1010",
        "New Zealand",
    ]


@pytest.mark.parametrize("address", [None, {}, "12 Queen St", {"country": "NZ"}])
def test_no_usable_address_gives_no_lines(address):
    order = SimpleNamespace(shipping_name="Aroha", shipping_address=address)
    assert shipping_address_lines(order=order) == []


def test_the_receipt_link_is_shown_only_when_the_order_has_one():
    assert order_receipt_url(order=SimpleNamespace()) == ""
    receipt = "https://pay.stripe.com/receipts/payment/abc"
    assert order_receipt_url(order=SimpleNamespace(stripe_receipt_url=receipt)) == receipt
    assert order_receipt_url(order=SimpleNamespace(stripe_receipt_url="javascript:x")) == ""


def test_a_partial_refund_recorded_on_the_order_is_the_amount_shown():
    order = OrderFactory.build(status=Status.CANCELLED, payment_status="paid")
    order.amount_refunded_cents = 50000
    assert "$500.00 NZD was refunded" in order_shopper_status(order=order).detail


def test_order_numbers_keep_the_utc_date_in_a_new_zealand_store(monkeypatch, settings, diamond):
    """At 23:30 UTC on 15 March it is already the 16th in Auckland; the number says the 15th."""
    assert settings.TIME_ZONE == "Pacific/Auckland"
    moment = datetime(2026, 3, 15, 23, 30, tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: moment)

    order = order_create(user=UserFactory(), diamond=diamond, amount_cents=100)

    assert order.order_number == "DO-20260315-0001"
    assert timezone.localtime(order.created_at).date().isoformat() == "2026-03-16"


def test_a_delayed_payment_says_where_its_shipping_address_is(owner_client, shopper):
    order = OrderFactory(user=shopper)
    OrderEvent.objects.create(order=order, kind="payment_processing")
    page = text(owner_client.get(url(order)))
    assert "Payment processing" in page
    assert "We don't have a shipping address" not in page
    assert "The shipping address you gave at checkout shows here once your payment clears." in page
