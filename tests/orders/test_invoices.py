"""The GST tax invoice: which orders have one, the owner's page and its PDF (text read back
from the PDF), the GST in awkward amounts, refunds as credit lines that add up to what Stripe
refunded, and the settings' system checks."""

import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.checks import run_checks
from django.test import Client
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from catalog.models import Availability
from orders.invoices import (
    gst_in_cents,
    gst_number_format,
    order_has_invoice,
    order_invoice,
    order_refunds,
)
from orders.models import FeedOrderStatus, Order, PaymentStatus, Status
from orders.money import order_mark_refunded, order_refund
from orders.states import TRANSITIONS
from tests.doubles.stripe import post_event, stripe_event
from tests.factories import DemoDiamondFactory, OrderFactory, UserFactory
from tests.payments.conftest import login
from tests.payments.test_webhooks import session_for
from tests.smtp import message_text, subject_of

MINUS = "\N{MINUS SIGN}"  # a credit line's sign
ADDRESS = {
    "line1": "12 Kauri Road",
    "line2": "Flat 3",
    "city": "Wellington",
    "state": "",
    "postal_code": "6011",
    "country": "NZ",
}


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.fixture
def buyer(db):
    return UserFactory(username="aroha", first_name="Aroha", last_name="Ngata")


@pytest.fixture
def paid_order(buyer):
    """A $10,000 stone charged at Checkout, shipped to the buyer's address."""
    return OrderFactory(
        paid=True,
        user=buyer,
        amount_cents=1_000_000,
        shipping_name="Aroha Ngata",
        shipping_address=ADDRESS,
        diamond__shape="OVAL",
        diamond__carats=Decimal("1.50"),
        diamond__lab_grown=False,
        diamond__certificate_number="2211334455",
    )


# ---------------------------------------------------------------- GST


@pytest.mark.parametrize(
    ("cents", "gst"),
    [
        (1_000_000, 130_435),  # $10,000.00 → $1,304.35 (130,434.78…)
        (1_234_500, 161_022),  # $12,345.00 → $1,610.22 (161,021.74…)
        (1_234_567, 161_030),  # 161,030.48… rounds down
        (1_150, 150),  # $11.50 holds exactly $1.50
        (4, 1),  # 0.52… rounds up
        (1, 0),  # 0.13… rounds down
        (99_999_999, 13_043_478),  # $999,999.99 → 13,043,478.13…
    ],
)
def test_gst_is_three_twenty_thirds_rounded_to_the_cent(cents, gst):
    assert gst_in_cents(cents) == gst


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=10**13))
def test_gst_is_the_nearest_cent_to_three_twenty_thirds(cents):
    # 23 * GST is within 11.5 of 3 * the amount: the nearest cent (a tie, x.5 cents, cannot
    # happen: 6 * cents is never an odd multiple of 23).
    assert abs(23 * gst_in_cents(cents) - 3 * cents) <= 11


# ---------------------------------------------------------------- which orders


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("state", "has_one"),
    [
        ({}, False),  # awaiting payment
        ({"paid": True}, True),  # charged at Checkout
        ({"paid": True, "payment_status": PaymentStatus.AUTHORIZED}, False),  # only held
        ({"confirmed": True}, True),
        ({"confirmed": True, "payment_status": PaymentStatus.PARTIALLY_REFUNDED}, True),
        ({"refunded": True}, True),  # refunded in full: the sale and its credit
        ({"feed_failed": True}, True),  # charged; the supplier's refusal is ops' to solve
        ({"mismatch": True}, False),  # not the order's amount: no supplier order, no invoice
        (
            {"paid": True, "status": Status.CANCELLED, "payment_status": PaymentStatus.VOIDED},
            False,
        ),  # the hold released, nothing charged
        ({"failed": True}, False),
        ({"expired": True}, False),
    ],
)
def test_an_order_has_an_invoice_once_money_was_taken_for_it(state, has_one):
    order = OrderFactory(**state)
    assert order_has_invoice(order=order) is has_one
    assert (order_invoice(order=order) is not None) is has_one


# ---------------------------------------------------------------- the page and its PDF


@pytest.mark.django_db
def test_the_owner_reads_the_tax_invoice(paid_order, buyer):
    response = login(buyer).get(f"/account/orders/{paid_order.order_number}/invoice/")

    assert response.status_code == 200
    page = response.content.decode()
    for words in (
        "Tax invoice",
        "Diamond Store Limited",
        "10 Example Street",
        'GST number <span class="invoice__nowrap">49-091-850</span>',
        paid_order.order_number,
        "Aroha Ngata",
        "12 Kauri Road",
        "Wellington 6011",
        "Oval 1.50ct natural diamond",
        "GIA certificate 2211334455",
        "$10,000.00 NZD",
        "$1,304.35 NZD",
        "Paid in full on",
    ):
        assert words in page, words
    assert "Refund" not in page
    assert response.context["invoice"].issued_on == timezone.localdate(paid_order.paid_at)


@pytest.mark.django_db
def test_the_invoice_pdf_says_what_the_page_says(paid_order, buyer):
    response = login(buyer).get(
        f"/account/orders/{paid_order.order_number}/invoice/", {"format": "pdf"}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="tax-invoice-{paid_order.order_number}.pdf"'
    )
    text = pdf_text(response.content)
    for words in (
        "Tax invoice",
        "Diamond Store Limited",
        "GST number 49-091-850",
        paid_order.order_number,
        "Aroha Ngata",
        "12 Kauri Road",
        "Oval 1.50ct natural diamond",
        "$10,000.00 NZD",
        "$1,304.35 NZD",
    ):
        assert words in text, words


@pytest.mark.django_db
@pytest.mark.parametrize("query", [{}, {"format": "pdf"}])
def test_anyone_but_the_owner_gets_a_404(paid_order, query):
    url = f"/account/orders/{paid_order.order_number}/invoice/"
    other = login(UserFactory())

    assert other.get(url, query).status_code == 404
    assert other.get(f"/account/orders/{paid_order.order_number}/").status_code == 404
    anonymous = Client().get(url, query)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_an_order_whose_card_is_only_held_has_no_invoice_yet(buyer):
    order = OrderFactory(paid=True, payment_status=PaymentStatus.AUTHORIZED, user=buyer)
    client = login(buyer)

    assert client.get(f"/account/orders/{order.order_number}/invoice/").status_code == 404
    page = client.get(f"/account/orders/{order.order_number}/").content.decode()
    assert "tax invoice" not in page


@pytest.mark.django_db
def test_the_order_page_links_to_the_invoice_and_its_pdf(paid_order, buyer):
    page = login(buyer).get(f"/account/orders/{paid_order.order_number}/").content.decode()

    url = f"/account/orders/{paid_order.order_number}/invoice/"
    assert f'<a href="{url}">view it</a>' in page
    assert f'<a href="{url}?format=pdf" download>download the PDF</a>' in page


@pytest.mark.django_db
def test_without_a_shipping_address_the_invoice_names_the_account_and_its_email(buyer):
    order = OrderFactory(paid=True, user=buyer)

    invoice = order_invoice(order=order)

    assert invoice.buyer_name == "Aroha Ngata"
    assert invoice.buyer_lines == [buyer.email]


# ---------------------------------------------------------------- the confirmed email


@pytest.mark.django_db(transaction=True)
def test_the_order_confirmed_email_carries_the_tax_invoice_pdf(client, smtp_server, buyer):
    order = OrderFactory(
        user=buyer,
        amount_cents=1_000_000,
        diamond=DemoDiamondFactory(availability=Availability.RESERVED),
    )
    shipping = {"shipping_details": {"name": "Aroha Ngata", "address": ADDRESS}}
    session = session_for(order, collected_information=shipping)
    assert (
        post_event(client, stripe_event("checkout.session.completed", session)).status_code == 200
    )

    received, confirmed = sorted(
        smtp_server.wait_for(2), key=lambda m: "confirmed" in subject_of(m)
    )
    assert subject_of(confirmed) == f"Your order is confirmed — order {order.order_number}"
    assert list(received.iter_attachments()) == []
    (attachment,) = confirmed.iter_attachments()
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"tax-invoice-{order.order_number}.pdf"
    text = pdf_text(attachment.get_content())
    for words in ("Tax invoice", "GST number 49-091-850", "Aroha Ngata", "$1,304.35 NZD"):
        assert words in text, words
    assert "Your tax invoice is attached as a PDF" in message_text(confirmed)


# ---------------------------------------------------------------- refunds


@pytest.fixture
def charged_order(stripe_api, buyer, settings):
    """An order charged at Checkout (automatic capture): checkout, Stripe Checkout (the test
    double), the signed webhook."""
    settings.CHECKOUT_CAPTURE = "automatic"
    client = login(buyer)
    stone = DemoDiamondFactory(price_model_nzd=Decimal("12345.67"))
    response = client.post(
        "/api/v2/checkout/create",
        data=json.dumps({"diamond_id": str(stone.pk)}),
        content_type="application/json",
    )
    order = Order.objects.get(order_number=response.json()["orderNumber"])
    session = stripe_api.complete(
        order.stripe_checkout_session_id, shipping={"name": "Aroha Ngata", "address": ADDRESS}
    )
    event = stripe_event("checkout.session.completed", session)
    assert post_event(Client(), event).status_code == 200
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID
    return order


@pytest.mark.django_db
def test_a_refund_and_a_partial_refund_are_credit_lines_adding_up_to_what_stripe_refunded(
    stripe_api, charged_order, buyer, staff
):
    partial = order_refund(order=charged_order, actor=staff, amount_cents=234_567)
    rest = order_refund(order=charged_order, actor=staff, release_diamond=False)
    # Stripe reports the refunds again (charge.refunded): nothing more is credited.
    charge = stripe_api.charge_for(charged_order.stripe_checkout_session_id)
    charge_event = stripe_event("charge.refunded", charge)
    assert post_event(Client(), charge_event).status_code == 200

    charged_order.refresh_from_db()
    refunded_by_stripe = [refund["amount"] for refund in stripe_api.refunds.values()]
    assert [(r.refund_id, r.amount_cents) for r in order_refunds(order=charged_order)] == [
        (partial, 234_567),
        (rest, 1_234_567 - 234_567),
    ]
    invoice = order_invoice(order=charged_order)
    assert [line.amount_cents for line in invoice.credits] == [234_567, 1_000_000]
    assert sum(line.amount_cents for line in invoice.credits) == sum(refunded_by_stripe)
    assert [line.gst_cents for line in invoice.credits] == [30_596, 130_435]
    assert (invoice.net.amount_cents, invoice.net.gst_cents) == (0, 161_030 - 30_596 - 130_435)

    page = login(buyer).get(f"/account/orders/{charged_order.order_number}/invoice/")
    text = page.content.decode()
    for amount in ("$2,345.67 NZD", "$305.96 NZD", "$10,000.00 NZD", "$1,304.35 NZD"):
        assert f"{MINUS}{amount}" in text, amount
    assert "Net total after refunds, incl. GST" in text
    pdf = pdf_text(
        login(buyer)
        .get(f"/account/orders/{charged_order.order_number}/invoice/", {"format": "pdf"})
        .content
    )
    assert "Refund" in pdf
    assert f"{MINUS}$2,345.67 NZD" in pdf


@pytest.mark.django_db
def test_each_refund_is_its_total_less_the_one_before_whatever_order_the_entries_were_written(
    paid_order,
):
    assert order_mark_refunded(order=paid_order, amount_refunded_cents=100_00, refund_id="re_1")
    assert order_mark_refunded(order=paid_order, amount_refunded_cents=300_00, refund_id="re_2")
    first, second = paid_order.events.filter(kind="partially_refunded").order_by("id")
    # Two refunds at once: the larger total's entry can carry the earlier time.
    second.created_at = first.created_at - timedelta(seconds=1)
    second.save(update_fields=["created_at"])

    refunds = order_refunds(order=paid_order)

    assert [(r.refund_id, r.amount_cents) for r in refunds] == [("re_1", 100_00), ("re_2", 200_00)]


@pytest.mark.django_db
def test_an_order_read_as_it_was_lists_only_the_refunds_it_had_then(paid_order):
    order_mark_refunded(order=paid_order, amount_refunded_cents=100_00, refund_id="re_1")
    order_mark_refunded(order=paid_order, amount_refunded_cents=300_00, refund_id="re_2")
    as_it_was = Order.objects.get(pk=paid_order.pk)
    as_it_was.amount_refunded_cents = 100_00  # what the confirmed email's task was handed

    assert [r.refund_id for r in order_refunds(order=as_it_was)] == ["re_1"]


# ---------------------------------------------------------------- the system checks


def check_ids() -> set[str]:
    return {message.id for message in run_checks() if message.id.startswith("orders.")}


@pytest.mark.parametrize(
    ("value", "printed"),
    [
        ("49091850", "49-091-850"),
        ("49-098-576", "49-098-576"),
        ("4909185-0", "49-091-850"),
        ("136410132", "136-410-132"),  # a check digit from the second set of weights
        (" 136 410 132 ", "136-410-132"),
        ("136410133", None),  # a wrong check digit
        ("123-456-789", None),
        ("9125568", None),  # too short
        ("150000001", None),  # beyond the IRD's range
        ("4909185O", None),  # a letter O
        ("", None),
    ],
)
def test_gst_numbers_are_checked_with_the_irds_check_digit(value, printed):
    assert gst_number_format(value) == printed


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, set()),
        ({"GST_NUMBER": ""}, {"orders.E001"}),
        ({"GST_NUMBER": "  "}, {"orders.E001"}),
        ({"GST_NUMBER": "123-456-789"}, {"orders.E002"}),
        ({"STORE_ADDRESS": ""}, {"orders.E003"}),
        ({"STORE_NAME": " "}, {"orders.E003"}),
        ({"DEBUG": True, "GST_NUMBER": "", "STORE_ADDRESS": ""}, set()),
    ],
)
def test_the_invoice_settings_are_checked_when_debug_is_off(settings, changes, expected):
    settings.DEBUG = False
    for name, value in changes.items():
        setattr(settings, name, value)
    assert check_ids() == expected


def test_a_feed_order_status_other_than_not_attempted_is_what_marks_a_matching_payment():
    # The rule `order_has_invoice` leans on: every move that takes money for the order's own
    # amount queues its supplier order, so only a mismatched payment stays `not_attempted`.
    for name in ("paid", "authorized"):
        assert TRANSITIONS[name].target["feed_order_status"] == FeedOrderStatus.PENDING
    for name in ("paid_mismatch", "authorized_mismatch"):
        assert "feed_order_status" not in TRANSITIONS[name].target
