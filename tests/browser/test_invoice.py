"""The tax invoice in a real browser: a shopper buys a stone (authorised, then captured once the
supplier confirms), opens the invoice from the order page, reads it on a desktop and a phone,
and downloads its PDF, whose text is read back."""

import io

import pytest
from pypdf import PdfReader

from core.money import money_display
from orders.models import Order, PaymentStatus
from tests.browser.conftest import login, pay_in_simulator, screenshot
from tests.browser.test_after_paying import PHONE, click, heading, no_sideways_scroll
from tests.browser.test_catalog import axe_violations
from tests.browser.test_journeys import (
    SIGN_UP_PASSWORD,
    open_confirm_pay,
    proceed_to_simulator,
    sign_up,
)
from tests.orders.test_invoices import pdf_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def gst_half_up(cents: int) -> int:
    """3/23 of `cents`, rounded half up, in integers: floor(3c/23 + 1/2) = (6c + 23) // 46."""
    return (6 * cents + 23) // 46


def test_the_shopper_reads_and_downloads_the_tax_invoice(new_page, live_server, stones):
    stone = stones["DEMO-0006"]
    page = new_page()
    sign_up(page, "tama")
    page.goto(stone.get_absolute_url())
    proceed_to_simulator(page, open_confirm_pay(page, stone))
    number = pay_in_simulator(page)
    order = Order.objects.get(order_number=number)
    assert order.payment_status == PaymentStatus.PAID  # captured once the supplier confirmed

    page.goto(f"/account/orders/{number}/")
    click(page, "link", "view it")

    assert heading(page) == "Tax invoice"
    invoice = page.locator("main").inner_text()
    gst = money_display(gst_half_up(order.amount_cents))
    for words in (
        "Diamond Store Limited",
        "GST number 49-091-850",
        number,
        order.shipping_name,
        "1 Queen Street",
        f"{stone.shape.title()} {stone.carats:.2f}ct",
        order.amount_display,
        gst,
    ):
        assert words in invoice, words
    screenshot(page, "invoice")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    assert download.value.suggested_filename == f"tax-invoice-{number}.pdf"
    with open(download.value.path(), "rb") as pdf:
        content = pdf.read()
    assert len(PdfReader(io.BytesIO(content)).pages) == 1
    text = pdf_text(content)
    for words in ("Tax invoice", "GST number 49-091-850", order.shipping_name, gst, number):
        assert words in text, words

    # On a phone, and axe-core's WCAG checks at both widths (axe adds inline styles, which the
    # store's policy forbids: this page bypasses it).
    phone = new_page(viewport=PHONE, bypass_csp=True)
    login(
        phone,
        live_server,
        order.user,
        password=SIGN_UP_PASSWORD,
        next_url=f"/account/orders/{number}/invoice/",
    )
    assert heading(phone) == "Tax invoice"
    assert no_sideways_scroll(phone)
    assert phone.get_by_text(gst).first.is_visible()
    assert axe_violations(phone) == []
    phone.set_viewport_size({"width": 1280, "height": 900})
    assert axe_violations(phone) == []
