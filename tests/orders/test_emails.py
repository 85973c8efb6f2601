"""The order emails' content: what each says, in plain text and HTML, store-branded, and never
a word about the supplier ("feed") side of an order."""

import re
from decimal import Decimal

import pytest

from orders.emails import KINDS, order_email_render
from orders.models import Status
from tests.factories import DiamondFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

FEED_ERROR = "GraphQL error from Nivoda: offer OFFER-77 withdrawn (supplier timeout)"
ADDRESS = {
    "line1": "12 Queen Street",
    "line2": "Level 3",
    "city": "Auckland",
    "state": "",
    "postal_code": "1010",
    "country": "NZ",
}


@pytest.fixture
def order(settings):
    settings.STOREFRONT_URL = "https://store.example"
    settings.STORE_CONTACT_EMAIL = "care@store.example"
    order = OrderFactory(
        user=UserFactory(username="aroha", first_name="Aroha"),
        diamond=DiamondFactory(
            shape="OVAL", carats=Decimal("1.50"), color="F", clarity="VS1", lab="GIA"
        ),
        order_number="DO-20261201-0008",
        amount_cents=1234500,
        status=Status.PAID,
        payment_status="paid",
        feed_order_status="failed",
        feed_order_error=FEED_ERROR,
    )
    # The order's shipping fields (added with fulfilment) — set on the instance here.
    order.shipping_name = "Aroha Smith"
    order.shipping_address = ADDRESS
    order.shipping_phone = "+64 21 555 123"
    return order


def test_payment_received_has_number_stone_amount_and_address(order):
    subject, text, html = order_email_render(kind="payment_received", order=order)

    assert subject == "We've received your payment — order DO-20261201-0008"
    for body in (text, html):
        assert "DO-20261201-0008" in body
        assert "Oval 1.50ct diamond" in body
        assert "$12,345.00 NZD" in body
        assert "Aroha Smith" in body
        assert "12 Queen Street" in body and "Level 3" in body
        assert "Auckland 1010" in body and "New Zealand" in body
        assert "+64 21 555 123" in body
        assert "https://store.example/account/orders/DO-20261201-0008/" in body
        assert "care@store.example" in body
    assert "Kia ora Aroha," in text


@pytest.mark.parametrize(
    ("kind", "subject", "says"),
    [
        (
            "payment_processing",
            "Your payment is processing — order DO-20261201-0008",
            "please don't pay again",
        ),
        (
            "payment_failed",
            "Your payment didn't go through — order DO-20261201-0008",
            "you have not been charged",
        ),
        (
            "order_confirmed",
            "Your order is confirmed — order DO-20261201-0008",
            "prepared for insured shipping",
        ),
    ],
)
def test_each_email_says_what_happened(order, kind, subject, says):
    rendered_subject, text, html = order_email_render(kind=kind, order=order)
    assert rendered_subject == subject
    for body in (text, html):
        assert says in body
        assert "DO-20261201-0008" in body and "$12,345.00 NZD" in body


def test_refund_issued_says_the_amount(order):
    order.status, order.payment_status = Status.CANCELLED, "refunded"

    subject, text, html = order_email_render(kind="refund_issued", order=order)

    assert subject == "Your refund of $12,345.00 NZD — order DO-20261201-0008"
    assert "We've refunded $12,345.00 NZD" in text
    assert "We've refunded $12,345.00 NZD" in html


def test_a_partial_refund_says_its_own_amount(order):
    subject, text, _ = order_email_render(kind="refund_issued", order=order, refund_cents=50000)
    assert "$500.00 NZD" in subject
    assert "We've refunded $500.00 NZD" in text


@pytest.mark.parametrize("kind", KINDS)
def test_no_email_mentions_the_supplier_side(order, kind):
    subject, text, html = order_email_render(kind=kind, order=order)
    everything = f"{subject}\n{text}\n{html}"
    for word in ("feed", "Feed", "supplier", "Supplier", "Nivoda", "GraphQL", "OFFER-77"):
        assert word not in everything, (kind, word)


@pytest.mark.parametrize("kind", KINDS)
def test_every_email_is_store_branded_plain_text_and_html(order, kind):
    subject, text, html = order_email_render(kind=kind, order=order)
    assert "\n" not in subject
    assert text.rstrip().endswith("Diamond Store")
    assert not re.search(r"<[a-z/][^>]*>", text), "HTML tags in the plain-text part"
    assert "\n\n\n" not in text, "runs of blank lines in the plain-text part"
    assert html.lstrip().startswith("<!DOCTYPE html>")
    assert "Diamond Store" in html
    assert 'href="https://store.example/account/orders/DO-20261201-0008/"' in html


def test_without_a_shipping_address_the_mail_just_leaves_it_out(order):
    order.shipping_address = {}
    _, text, html = order_email_render(kind="payment_received", order=order)
    assert "Shipping to" not in text and "Shipping to" not in html


def test_shopper_text_is_escaped_in_html(order):
    order.shipping_name = "<script>alert(1)</script>"
    _, text, html = order_email_render(kind="payment_received", order=order)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "<script>alert(1)</script>" in text  # plain text is not HTML


def test_an_unknown_kind_is_refused(order):
    with pytest.raises(ValueError, match="Unknown order email"):
        order_email_render(kind="feed_failure", order=order)
