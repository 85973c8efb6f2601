"""A shopper who deletes their account (`accounts`): what their orders keep, and what stops
the deletion for now. Connected to `accounts.signals` in OrdersConfig.ready.

- **In progress** (the deletion waits): a checkout still open or a payment still settling,
  a paid order whose supplier order or capture is not settled yet (money held or taken for
  a stone not confirmed), or an open dispute.
- **Erased from every order**: the phone number, the shopper's own reference and comments,
  Stripe's receipt link, and the person's name, email address, username, phone and street
  address wherever ops' notes or the timeline quote them.
- **Kept** on an order whose money was taken (paid, partly or wholly refunded): the name and
  address the tax invoice must show, for the seven years New Zealand requires. An order that
  never took money (failed, expired, voided) loses its name and address too.
- A "customer deleted" line on each order's timeline tells ops what happened.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.dispatch import receiver

from accounts.signals import deletion_blockers, personal_data_erase
from orders.models import Order, PaymentStatus, Status
from orders.selectors.shopper import order_checkout_closed, order_payment_processing
from orders.states import OPEN_DISPUTE_STATUSES
from orders.transitions import order_event_record

INVOICED = (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)
ERASED = "[deleted]"
CUSTOMER_DELETED = "customer_deleted"


def order_in_progress(*, order: Order) -> bool:
    if order.status == Status.PAID or order.dispute_status in OPEN_DISPUTE_STATUSES:
        return True
    if order.status == Status.PENDING_PAYMENT:
        return not order_checkout_closed(order=order) or order_payment_processing(order=order)
    return False


def order_deletion_blockers(*, user) -> list[str]:
    """The shopper's orders still in progress, as one reason to wait (in their words)."""
    numbers = [
        order.display_number
        for order in Order.objects.filter(user=user).order_by("created_at")
        if order_in_progress(order=order)
    ]
    if not numbers:
        return []
    many = len(numbers) > 1
    listed = ", ".join(numbers[:-1]) + f" and {numbers[-1]}" if many else numbers[0]
    return [
        f"{'Orders' if many else 'Order'} {listed} {'are' if many else 'is'} still in progress. "
        f"You can delete your account once {'they are' if many else 'it is'} confirmed or "
        f"closed — or write to us at {settings.STORE_CONTACT_EMAIL} and we will help."
    ]


def _scrubber(*texts: str):
    """A function that replaces each of `texts` (any case) with ERASED; short or empty ones
    are left out (they would match ordinary words)."""
    words = sorted({t.strip() for t in texts if t and len(t.strip()) >= 3}, key=len, reverse=True)
    if not words:
        return lambda text: text
    pattern = re.compile("|".join(re.escape(word) for word in words), re.IGNORECASE)
    return lambda text: pattern.sub(ERASED, text) if text else text


def orders_personal_data_erase(*, user) -> int:
    """Erase the shopper's personal data from their orders and timelines (see the module's
    docstring for what stays); returns how many orders they had."""
    orders = Order.objects.filter(user=user)
    quoted = [user.email, user.get_full_name(), user.get_username()]
    for name, phone, address in orders.values_list(
        "shipping_name", "shipping_phone", "shipping_address"
    ):
        address = address if isinstance(address, dict) else {}
        quoted += [name, phone, str(address.get("line1") or ""), str(address.get("line2") or "")]
    scrub = _scrubber(*quoted)
    for order in orders.prefetch_related("events"):
        for event in order.events.all():
            message = scrub(event.message)
            if message != event.message:
                type(event).objects.filter(pk=event.pk).update(message=message)
        invoiced = order.payment_status in INVOICED and order.paid_at is not None
        Order.objects.filter(pk=order.pk).update(
            shipping_phone="",
            reference="",
            comments="",
            stripe_receipt_url="",
            resolution_note=scrub(order.resolution_note),
            **({} if invoiced else {"shipping_name": "", "shipping_address": {}}),
        )
        order_event_record(
            order=order,
            kind=CUSTOMER_DELETED,
            message=(
                "The customer deleted their account: their personal data is erased"
                + (", except the name and address the tax invoice keeps." if invoiced else ".")
            ),
        )
    return orders.count()


@receiver(deletion_blockers)
def _orders_in_progress(sender, user, **kwargs) -> list[str]:
    return order_deletion_blockers(user=user)


@receiver(personal_data_erase)
def _erase_from_orders(sender, user, **kwargs) -> None:
    orders_personal_data_erase(user=user)
