"""The shopper's order emails: their content, and handing them to the outbox.

`order_email_render(kind=…, order=…)` renders one of KINDS from `templates/emails/<kind>.txt`
and `.html` (the HTML extends `emails/base.html`). The shopper's words come from
`orders.selectors.shopper` — never a feed or supplier detail, which no template is given.

`order_emails_for_event` is called with every timeline entry (`orders.transitions`): each
entry in EMAIL_FOR_EVENT queues the `order_email_send` task in the same transaction as the state
change (one row; rendering happens in the worker, not in the webhook's transaction), with the
order's payment state as it was then. The task puts one email in the notifications outbox, at
most once per order and kind (the outbox's `dedupe_key`), so a webhook delivered three times
still sends one. The outbox sends it, retrying while the mail server is down; the order never
waits for it.

The *order confirmed* email carries the order's tax invoice as a PDF (`orders.invoices`), made
by the same task and stored with the email in the outbox.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.urls import reverse
from django_tasks import task

from accounts.selectors import customer_name
from core.money import money_display
from core.tasks import enqueue_durably
from notifications.models import Notification
from notifications.outbox import (
    EmailAttachment,
    delivering_here,
    email_message_create,
    email_render,
)
from orders.carriers import carrier_name, order_tracking_url
from orders.invoices import invoice_pdf, order_invoice
from orders.models import Order
from orders.selectors.shopper import order_shopper_status, shipping_address_lines, time_zone_label

SUBJECTS = {
    "payment_received": "We've received your payment — order {number}",
    "payment_processing": "Your payment is processing — order {number}",
    "payment_failed": "Your payment didn't go through — order {number}",
    "order_confirmed": "Your order is confirmed — order {number}",
    "refund_issued": "Your refund of {refund} — order {number}",
    "order_cancelled": "Your order is cancelled — you have not been charged — order {number}",
    "order_shipped": "Your diamond is on its way — order {number}",
    "order_delivered": "Your diamond has been delivered — order {number}",
    "return_approved": "Your return is approved: how to send it back — order {number}",
}
KINDS = tuple(SUBJECTS)
# The emails that carry the order's tax invoice (a PDF).
INVOICE_ATTACHED_TO = ("order_confirmed",)
# The timeline entries that send the shopper an email. Never a feed-order entry: a supplier
# problem is ops' to solve, and the shopper's order stays "Processing" meanwhile.
EMAIL_FOR_EVENT = {
    "paid": "payment_received",
    "authorized": "payment_received",
    "payment_processing": "payment_processing",
    "payment_failed": "payment_failed",
    # Confirmed: the supplier confirmed a captured payment, or the held payment was captured.
    "feed_order_succeeded": "order_confirmed",
    "captured": "order_confirmed",
    "refunded": "refund_issued",
    "partially_refunded": "refund_issued",
    "voided": "order_cancelled",
    # The stone's way (orders/fulfilment.py).
    "shipped": "order_shipped",
    "delivered": "order_delivered",
    "return_approved": "return_approved",
}
logger = logging.getLogger(__name__)


def order_email_context(*, order: Order, refund_cents: int | None = None) -> dict:
    diamond = order.diamond
    refund = order.refunded_cents if refund_cents is None else refund_cents
    user = order.user
    return {
        "order": order,
        "order_number": order.display_number,
        "greeting_name": customer_name(user),
        "stone": f"{diamond.shape.replace('_', ' ').title()} {diamond.carats:.2f}ct diamond",
        "stone_grades": " · ".join(
            part
            for part in (
                f"Colour {diamond.color}" if diamond.color else "",
                f"Clarity {diamond.clarity}" if diamond.clarity else "",
                f"{diamond.lab} certificate" if diamond.lab else "",
            )
            if part
        ),
        "amount": order.amount_display,
        "refund": money_display(refund, order.currency),
        # The total refunded so far, shown beside this refund's amount when they differ.
        "refunded_total": money_display(order.refunded_cents, order.currency)
        if refund != order.refunded_cents
        else "",
        "status": order_shopper_status(order=order),
        "shipping_lines": shipping_address_lines(order=order),
        "shipping_phone": getattr(order, "shipping_phone", "") or "",
        "order_url": f"{settings.STOREFRONT_URL}"
        f"{reverse('orders:detail', args=[order.order_number])}",
        "shop_url": f"{settings.STOREFRONT_URL}/",
        "contact_url": f"{settings.STOREFRONT_URL}/pages/contact/",
        "store_contact_email": settings.STORE_CONTACT_EMAIL,
        "time_zone_label": time_zone_label(),
        # Shipping and returns.
        "carrier_name": carrier_name(order.carrier),
        "tracking_number": order.tracking_number,
        "tracking_url": order_tracking_url(order),
        "return_days": settings.RETURN_DAYS,
        "refund_due": money_display(
            max(order.amount_cents - order.amount_refunded_cents, 0), order.currency
        ),
        "store_name": settings.STORE_NAME,
        "store_address_lines": [
            line.strip() for line in settings.STORE_ADDRESS.split(",") if line.strip()
        ],
    }


def order_email_render(
    *, kind: str, order: Order, refund_cents: int | None = None
) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of the `kind` email about `order`.

    `refund_cents`: for `refund_issued`, the amount of this refund (default: all that the
    order records as refunded).
    """
    if kind not in SUBJECTS:
        raise ValueError(f"Unknown order email {kind!r}; expected one of {', '.join(KINDS)}.")
    context = order_email_context(order=order, refund_cents=refund_cents)
    subject = SUBJECTS[kind].format(number=context["order_number"], refund=context["refund"])
    text, html = email_render(template=f"emails/{kind}", context=context)
    return subject, text, html


def order_email_dedupe_key(*, order: Order, kind: str) -> str:
    """One email per order and kind; one per refund (each grows the refunded total)."""
    if kind == "refund_issued":
        return f"order-email:{order.pk}:{kind}:{order.amount_refunded_cents}"
    return f"order-email:{order.pk}:{kind}"


def order_email_enqueue(
    *, order: Order, kind: str, refund_cents: int | None = None
) -> Notification | None:
    """Put the `kind` email about `order` in the outbox (once per order and kind).
    `refund_cents`: for `refund_issued`, this refund's amount.

    None when the shopper has no email address or the email is already in the outbox.
    """
    to = (order.user.email or "").strip()
    if not to:
        logger.info("Order %s: no email address for %s; not sent.", order, kind)
        return None
    subject, text, html = order_email_render(kind=kind, order=order, refund_cents=refund_cents)
    return email_message_create(
        to=to,
        subject=subject,
        text=text,
        html=html,
        reference=order.order_number or "",
        dedupe_key=order_email_dedupe_key(order=order, kind=kind),
        attachments=order_email_attachments(kind=kind, order=order),
    )


def order_email_attachments(*, kind: str, order: Order) -> list[EmailAttachment]:
    """The tax invoice's PDF, with the order-confirmed email (a confirmed order's money is
    taken, so it has one)."""
    invoice = order_invoice(order=order) if kind in INVOICE_ATTACHED_TO else None
    if invoice is None:
        return []
    return [EmailAttachment(invoice.filename, invoice_pdf(invoice=invoice), "application/pdf")]


def order_emails_for_event(*, order: Order, event_kind: str, data: dict | None = None) -> None:
    """`data`: the timeline entry's; a refund's names its own amount (`refund_cents`)."""
    kind = EMAIL_FOR_EVENT.get(event_kind)
    if kind:
        refund_cents = (data or {}).get("refund_cents") if kind == "refund_issued" else None
        enqueue_durably(
            order_email_send,
            order_id=str(order.pk),
            kind=kind,
            payment_status=order.payment_status,
            amount_refunded_cents=order.amount_refunded_cents,
            **({"refund_cents": refund_cents} if isinstance(refund_cents, int) else {}),
        )


@task()
def order_email_send(
    order_id: str,
    kind: str,
    payment_status: str,
    amount_refunded_cents: int,
    refund_cents: int | None = None,
) -> bool:
    """Render the email as the order was when it was asked for, put it in the outbox, and
    send it from here (the outbox retries a failure)."""
    order = Order.objects.select_related("user", "diamond").get(pk=order_id)
    order.payment_status = payment_status
    order.amount_refunded_cents = amount_refunded_cents
    with delivering_here():
        return order_email_enqueue(order=order, kind=kind, refund_cents=refund_cents) is not None
