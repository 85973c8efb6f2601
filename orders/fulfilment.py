"""From confirmed to delivered, and back: the stone's way to the customer as services.

Each is one move of the state table (`orders.states.TRANSITIONS`, applied by
`orders.transitions.order_transition`): it returns whether this caller made it, so a repeated
click or a concurrent one changes nothing. The shopper's emails follow from the timeline entry
(`orders.emails.EMAIL_FOR_EVENT`), once each; Slack #ops hears of a shipment and of a return
request. *Receive return* refunds through the one refund path (`orders.money.order_refund`),
outside the move's transaction.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from orders.alerts import alert_return_requested, alert_stone_shipped
from orders.carriers import carrier_name, order_tracking_url
from orders.models import Order
from orders.money import order_refund
from orders.states import DiamondEffect
from orders.transitions import order_transition


class FulfilmentError(Exception):
    """A move was refused; the message is written for whoever asked."""


def order_stone_receive(*, order: Order, actor, note: str = "") -> bool:
    """The stone reached us and was checked against its grading report."""
    now = timezone.now()
    message = "The stone arrived and matches its grading report."
    return order_transition(
        order,
        "stone_received",
        received_at=now,
        actor=actor,
        message=f"{message} {note}".strip(),
        now=now,
    )


def order_ship(*, order: Order, actor, carrier: str, tracking_number: str) -> bool:
    """Shipped with `carrier` (a code of `CARRIERS`): the shopper's *on its way* email (with
    the tracking link) and Slack #ops follow."""
    now = timezone.now()
    tracking_number = tracking_number.strip()
    with transaction.atomic():
        changed = order_transition(
            order,
            "shipped",
            shipped_at=now,
            carrier=carrier,
            tracking_number=tracking_number,
            actor=actor,
            message=f"Shipped with {carrier_name(carrier)}, tracking number {tracking_number}.",
            data={"carrier": carrier, "tracking_number": tracking_number},
            now=now,
        )
        if changed:
            alert_stone_shipped(order=order, tracking_url=order_tracking_url(order))
    return changed


def order_mark_delivered(*, order: Order, actor) -> bool:
    now = timezone.now()
    return order_transition(
        order,
        "delivered",
        delivered_at=now,
        actor=actor,
        message="Delivered to the customer.",
        now=now,
    )


def order_return_request(*, order: Order, actor, reason: str) -> bool:
    """The shopper asks to return the stone (within `RETURN_DAYS` of delivery, a guard of the
    move): the order needs ops again, and Slack #ops hears of it."""
    now = timezone.now()
    reason = reason.strip()
    with transaction.atomic():
        changed = order_transition(
            order,
            "return_requested",
            return_reason=reason,
            return_requested_at=now,
            # A return reopens an order ops had closed.
            resolved_at=None,
            resolved_by=None,
            actor=actor,
            message=f"The customer asked to return the stone: {reason}",
            now=now,
        )
        if changed:
            alert_return_requested(order=order)
    return changed


def order_return_approve(*, order: Order, actor, note: str = "") -> bool:
    """The shopper is emailed how to send the stone back."""
    return order_transition(
        order,
        "return_approved",
        actor=actor,
        message=f"Return approved. {note}".strip(),
    )


def order_return_receive(*, order: Order, actor, restock: bool, note: str = "") -> str:
    """The stone came back: the order is returned (and the stone back on sale when `restock`),
    then what is left of the payment is refunded through the one refund path. Returns the
    refund id; raises FulfilmentError when the return was not open, and
    `orders.money.PaymentActionError` when the refund failed (the order stays returned and
    needs attention: refund it)."""
    now = timezone.now()
    where = "back on sale" if restock else "kept off sale"
    if not order_transition(
        order,
        "returned",
        returned_at=now,
        diamond=DiamondEffect.RESTOCK if restock else DiamondEffect.NONE,
        actor=actor,
        message=f"The returned stone arrived; it is {where}. {note}".strip(),
        data={"restock": restock},
        now=now,
    ):
        raise FulfilmentError(
            f"{order.display_number}: no return to receive; the stone is "
            f"{order.get_fulfilment_status_display().lower()}."
        )
    return order_refund(
        order=order, actor=actor, release_diamond=False, reason="The stone was returned."
    )
