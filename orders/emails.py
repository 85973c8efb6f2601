"""The order emails' content: subject, plain text and HTML, in the store's voice.

`order_email_render(kind=…, order=…)` renders one of KINDS from `templates/emails/<kind>.txt`
and `.html` (the HTML extends `emails/base.html`). It only renders; sending goes through the
notifications outbox. The shopper's words come from `orders.selectors` — never a feed or
supplier detail, which no template is given.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from orders.models import Order
from orders.selectors import (
    money_display,
    order_refunded_cents,
    order_shopper_status,
    shipping_address_lines,
    time_zone_label,
)

SUBJECTS = {
    "payment_received": "We've received your payment — order {number}",
    "payment_processing": "Your payment is processing — order {number}",
    "payment_failed": "Your payment didn't go through — order {number}",
    "order_confirmed": "Your order is confirmed — order {number}",
    "refund_issued": "Your refund of {refund} — order {number}",
}
KINDS = tuple(SUBJECTS)
BLANK_LINES = re.compile(r"\n\s*\n(\s*\n)+")


def order_email_context(*, order: Order, refund_cents: int | None = None) -> dict:
    diamond = order.diamond
    refund = order_refunded_cents(order=order) if refund_cents is None else refund_cents
    user = order.user
    return {
        "order": order,
        "order_number": order.display_number,
        "greeting_name": (user.first_name or user.get_username()).strip(),
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
        "status": order_shopper_status(order=order),
        "shipping_lines": shipping_address_lines(order=order),
        "shipping_phone": getattr(order, "shipping_phone", "") or "",
        "order_url": f"{settings.STOREFRONT_URL}"
        f"{reverse('orders:detail', args=[order.order_number])}",
        "shop_url": f"{settings.STOREFRONT_URL}/",
        "contact_url": f"{settings.STOREFRONT_URL}/pages/contact/",
        "store_contact_email": settings.STORE_CONTACT_EMAIL,
        "time_zone_label": time_zone_label(),
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
    text = render_to_string(f"emails/{kind}.txt", context)
    text = BLANK_LINES.sub("\n\n", text).strip() + "\n"  # includes leave blank runs
    html = render_to_string(f"emails/{kind}.html", context)
    return subject, text, html
