"""The New Zealand GST tax invoice of an order: which orders have one, what it says, its PDF.

**Which orders.** An order has a tax invoice once money was taken for it: charged at Checkout
or captured after the supplier confirmed (`payment_status` paid, partially refunded or
refunded — a refund does not take the invoice away, it is credited on it). An authorised card
has not been charged, so an order whose payment is only held (or was released) has none. Nor
has a payment that did not match the order's amount or currency (no supplier order is ever
placed for it, `feed_order_status` stays `not_attempted`): an invoice would state a price that
was not charged; ops refund it.

**What it says** (the IRD's taxable supply information for a supply over $1,000): the words
"Tax invoice", the seller's name, address and GST number (`STORE_NAME`, `STORE_ADDRESS`,
`GST_NUMBER`), the invoice number (the order number) and date (the day the money was taken,
in the store's time zone), the buyer's name and address (the order's shipping name and
address; the account's email when the order has no address), the stone, its GST-inclusive
price and the GST it contains, each refund as a credit line (its date, amount and the GST in
it), and the net total.

**GST** is 3/23 of a GST-inclusive amount (15% on top of the price without it), computed with
`Decimal` and rounded half up to the cent (`ROUND_HALF_UP`), line by line: the sale, then each
refund. The net GST is the sale's GST less each refund's, so the document adds up as printed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import timezone

from catalog.models import Diamond
from core.money import money_display
from orders.models import FeedOrderStatus, Order, PaymentStatus
from orders.selectors.shopper import order_shipping_name, shipping_address_lines

# Money taken (and kept, or refunded since): the payment states that have an invoice.
INVOICED_PAYMENTS = (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)
# The timeline entries `orders.services.order_mark_refunded` writes for a refund.
REFUND_EVENTS = ("refunded", "partially_refunded")
GST_FRACTION = Decimal(3) / Decimal(23)
STYLESHEET = "css/invoice.css"


def gst_in_cents(cents: int) -> int:
    """The GST contained in a GST-inclusive amount: 3/23 of it, rounded half up to the cent."""
    return int((Decimal(cents) * GST_FRACTION).quantize(Decimal(1), rounding=ROUND_HALF_UP))


# ---------------------------------------------------------------- GST numbers

IRD_WEIGHTS = ((3, 2, 7, 6, 5, 4, 3, 2), (7, 4, 3, 2, 5, 2, 7, 6))


def gst_number_format(value: str) -> str | None:
    """A GST number (the business's IRD number) as printed, `49-091-850` or `123-456-789`;
    None when `value` is not one.

    The IRD's modulus-11 check: 8 or 9 digits (dashes and spaces allowed) between 10,000,000
    and 150,000,000; the base number (all but the last digit, padded to 8) weighted
    3,2,7,6,5,4,3,2 gives the check digit 11 - (sum mod 11) (0 when the remainder is 0); when
    that is 10 the weights 7,4,3,2,5,2,7,6 are used instead, and 10 again is invalid.
    """
    digits = "".join(ch for ch in value if ch not in " -")
    if not (digits.isascii() and digits.isdigit() and len(digits) in (8, 9)):
        return None
    if not 10_000_000 <= int(digits) <= 150_000_000:
        return None
    base, check = digits[:-1].zfill(8), int(digits[-1])
    for weights in IRD_WEIGHTS:
        remainder = sum(int(d) * w for d, w in zip(base, weights, strict=True)) % 11
        expected = 0 if remainder == 0 else 11 - remainder
        if expected != 10:
            break
    if expected != check:
        return None
    return f"{digits[:-6]}-{digits[-6:-3]}-{digits[-3:]}"


# ---------------------------------------------------------------- refunds


@dataclass(frozen=True)
class Refund:
    at: datetime
    amount_cents: int
    # Stripe's refund id (`re_…`) when the store made the refund; empty for one only seen in
    # a `charge.refunded` event (made in the Stripe Dashboard).
    refund_id: str


def order_refunds(*, order: Order) -> list[Refund]:
    """Each refund of `order`, as far as the order records them (`amount_refunded_cents`).

    The one place a refund's own amount is worked out. Each refund's timeline entry keeps the
    total refunded so far (`data["amount_refunded_cents"]`), which only grows: a refund is
    that total less the one before, taken in order of the totals (not of the entries' times,
    which concurrent refunds may write out of order). Entries beyond the order's recorded total
    are left out, so an order read as it was (the confirmed email's, rendered later by the
    worker) lists the refunds it had then.
    """
    entries = sorted(
        (int(event.data["amount_refunded_cents"]), event.created_at, event.data.get("refund", ""))
        for event in order.events.filter(kind__in=REFUND_EVENTS)
    )
    refunds, before = [], 0
    for total, at, refund_id in entries:
        if total <= order.amount_refunded_cents:
            refunds.append(Refund(at=at, amount_cents=total - before, refund_id=refund_id))
            before = total
    return refunds


# ---------------------------------------------------------------- the invoice


@dataclass(frozen=True)
class InvoiceLine:
    """A GST-inclusive amount and the GST in it (a credit line's amount is what it takes off)."""

    on: date | None
    amount_cents: int
    gst_cents: int
    currency: str

    @classmethod
    def of(cls, cents: int, currency: str, on: date | None = None) -> InvoiceLine:
        return cls(on=on, amount_cents=cents, gst_cents=gst_in_cents(cents), currency=currency)

    @property
    def amount_display(self) -> str:
        return money_display(self.amount_cents, self.currency)

    @property
    def gst_display(self) -> str:
        return money_display(self.gst_cents, self.currency)


@dataclass(frozen=True)
class Invoice:
    number: str
    issued_on: date
    seller_name: str
    seller_address_lines: list[str]
    gst_number: str
    buyer_name: str
    buyer_lines: list[str]
    diamond: Diamond
    sale: InvoiceLine
    credits: list[InvoiceLine]

    @property
    def net(self) -> InvoiceLine:
        """The sale less its refunds; its GST is the sale's less the refunds', as printed."""
        return InvoiceLine(
            on=None,
            amount_cents=self.sale.amount_cents - sum(c.amount_cents for c in self.credits),
            gst_cents=self.sale.gst_cents - sum(c.gst_cents for c in self.credits),
            currency=self.sale.currency,
        )

    @property
    def filename(self) -> str:
        return f"tax-invoice-{self.number}.pdf"


def order_has_invoice(*, order: Order) -> bool:
    """Money was taken for the order's price (see the module's docstring)."""
    return (
        order.payment_status in INVOICED_PAYMENTS
        and order.feed_order_status != FeedOrderStatus.NOT_ATTEMPTED
    )


def order_invoice(*, order: Order) -> Invoice | None:
    """The tax invoice of `order` as it stands (its refunds credited); None when it has none."""
    if not order_has_invoice(order=order):
        return None
    user = order.user
    name = order_shipping_name(order=order)
    address = shipping_address_lines(order=order)[1:]  # the lines after the name
    return Invoice(
        number=order.order_number,
        issued_on=timezone.localdate(order.captured_at or order.paid_at),
        seller_name=settings.STORE_NAME.strip(),
        seller_address_lines=[
            line.strip() for line in settings.STORE_ADDRESS.split(",") if line.strip()
        ],
        gst_number=gst_number_format(settings.GST_NUMBER) or settings.GST_NUMBER.strip(),
        buyer_name=name,
        buyer_lines=address or [user.email],
        diamond=order.diamond,
        sale=InvoiceLine.of(order.amount_cents, order.currency),
        credits=[
            InvoiceLine.of(refund.amount_cents, order.currency, on=timezone.localdate(refund.at))
            for refund in order_refunds(order=order)
        ],
    )


# ---------------------------------------------------------------- the PDF


def invoice_pdf(*, invoice: Invoice) -> bytes:
    """The invoice as a PDF (A4), made by WeasyPrint from the page's own document and
    stylesheet. Nothing is fetched: the document names no outside resource, and the fetcher
    allows no protocol."""
    # WeasyPrint (and Pango through it) loads only when a PDF is made: half a second that
    # every other command and process would otherwise pay at start-up.
    from weasyprint import HTML

    html = render_to_string("orders/invoice_document.html", {"invoice": invoice})
    return HTML(string=html, url_fetcher=_no_fetcher()).write_pdf(stylesheets=[_stylesheet()])


@functools.cache
def _no_fetcher():
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols=())


@functools.cache
def _stylesheet():
    """The stylesheet, parsed once per process (a fifth of a PDF's making, every time)."""
    from weasyprint import CSS

    with open(finders.find(STYLESHEET), encoding="utf-8") as stylesheet:
        return CSS(string=stylesheet.read(), url_fetcher=_no_fetcher())
