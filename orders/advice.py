"""What ops are advised to do about an order, generated from the state table: the reason it
needs attention (`orders.states.ATTENTION_RULES`, which state facts and name no action), then
the admin actions the order offers now (`orders.admin.actions.ORDER_ACTIONS`, each applying
when the state table admits one of its moves). The admin's order page, its flash messages and
the Slack alerts all use this, so advice never names a button the order does not have — an
authorised order whose supplier refused it is told to *Cancel order* (release the hold), never
to refund.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from orders.models import Order, PaymentStatus
from orders.states import attention_rule, refusal


@dataclass(frozen=True)
class OfferedAction:
    name: str
    label: str


# The admin's order actions (`orders.admin.actions.ORDER_ACTIONS`, which is checked to match):
# name, button label, the state-table moves any of which makes it apply, and whether it is
# offered only while the order needs attention.
ACTIONS = (
    ("retry", "Retry feed order", ("feed_order_retried",), False),
    ("capture", "Capture payment", ("captured",), False),
    ("cancel", "Cancel order", ("voided", "refunded"), False),
    ("refund", "Refund", ("refunded", "partially_refunded"), False),
    ("resolve", "Mark resolved", ("resolved",), True),
    ("receive-stone", "Receive stone", ("stone_received",), False),
    ("ship", "Ship", ("shipped",), False),
    ("deliver", "Mark delivered", ("delivered",), False),
    ("approve-return", "Approve return", ("return_approved",), False),
    ("receive-return", "Receive return", ("returned",), False),
)


def order_offered_actions(*, order: Order, now: datetime | None = None) -> list[OfferedAction]:
    """The admin actions that apply to `order` now (whoever may run them), asked of the
    state table as the admin's buttons are."""
    now = now or timezone.now()
    offered = []
    for name, label, moves, when_attention in ACTIONS:
        if all(refusal(order, move, now) is not None for move in moves):
            continue
        if when_attention and attention_rule(order, now) is None:
            continue
        offered.append(OfferedAction(name, label))
    return offered


def _what_it_does(action, order: Order) -> str:
    if action.name == "cancel":
        if order.payment_status == PaymentStatus.AUTHORIZED:
            return "releases the hold on the card: nothing charged"
        return "refunds the payment in full"
    return {
        "retry": "places the supplier order again",
        "capture": "charges the held payment",
        "refund": "returns all or part of the payment",
        "resolve": "closes the case with a note",
        "approve-return": "emails the customer how to send the stone back",
        "receive-return": "refunds what is left once the stone is back",
    }.get(action.name, "")


def order_next_steps(*, order: Order, now: datetime | None = None) -> str:
    """The actions the order offers now, in one sentence ("" when none)."""
    parts = []
    for action in order_offered_actions(order=order, now=now):
        does = _what_it_does(action, order)
        parts.append(f"{action.label} ({does})" if does else action.label)
    if not parts:
        return ""
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]
    return f"You can: {listed}."


def order_advice(*, order: Order, now: datetime | None = None) -> str:
    """Why the order needs ops (if it does) and what they can do about it now."""
    now = now or timezone.now()
    rule = attention_rule(order, now)
    steps = order_next_steps(order=order, now=now)
    return " ".join(part for part in ((rule.sentence if rule else ""), steps) if part)
