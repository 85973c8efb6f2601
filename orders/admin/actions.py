"""The order actions ops run: which apply (asked of the state table), what each does to the
customer's money (said on its confirmation page), its form, and its true outcome afterwards.

Each action is one or more moves of `orders.states.TRANSITIONS`. One `OrderAction` serves both
the order page's button (one order) and the orders list's bulk action (the selected orders):
the same permission, the same refusal, the same form, the same run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.contrib import messages
from django.utils import timezone

from core.money import money_display
from orders.admin.forms import (
    ApproveReturnForm,
    CancelForm,
    ReceiveReturnForm,
    ReceiveStoneForm,
    RefundForm,
    ResolveForm,
    ShipForm,
)
from orders.advice import order_next_steps
from orders.carriers import carrier_choices, carrier_name, order_tracking_url
from orders.fulfilment import (
    FulfilmentError,
    order_mark_delivered,
    order_return_approve,
    order_return_receive,
    order_ship,
    order_stone_receive,
)
from orders.models import FeedOrderStatus, Order, PaymentStatus, Status
from orders.money import PaymentActionError, order_cancel, order_capture, order_refund
from orders.services import order_feed_order_retry, order_resolve
from orders.states import (
    HELD,
    attention_rule,
    outcome_unknown,
    refusal,
    supplier_order_never_placed,
)


@dataclass(frozen=True)
class Outcome:
    level: int
    message: str

    @property
    def done(self) -> bool:
        return self.level in (messages.SUCCESS, messages.INFO)


@dataclass(frozen=True)
class OrderAction:
    name: str  # the URL's last part, and the bulk action's name
    label: str  # the button
    done: str  # the outcome report's heading ("Retried the feed order")
    moves: tuple[str, ...]  # state-table moves, any of which makes it apply
    permission: str
    run: Callable[..., Outcome]  # (order=, actor=, data=) → its true outcome
    effect: Callable[[Order], list[str]]  # what it does to the money, for the confirmation
    form: Callable[..., forms.Form | None] = lambda order, data, bulk: None
    # Orders whose last supplier attempt has an unknown outcome: the confirmation says so.
    warns: Callable[[Order, object], bool] = lambda order, now: False
    destructive: bool = False
    # Offered only while the order needs attention (resolving takes it off that list).
    when_attention: bool = False
    # Offered in the orders list for several orders at once (not when each needs its own
    # answer, as a tracking number).
    bulk: bool = True

    def refusal(self, order: Order, now) -> str | None:
        """Why it does not apply now, in ops' words; None when it does."""
        reasons = [refusal(order, move, now) for move in self.moves]
        if all(reason is not None for reason in reasons):
            return reasons[0]
        if self.when_attention and attention_rule(order, now) is None:
            return "it does not need attention"
        return None

    def applies(self, order: Order, now) -> bool:
        return self.refusal(order, now) is None


def refundable_cents(order: Order) -> int:
    return max(order.amount_cents - order.amount_refunded_cents, 0)


# ---------------------------------------------------------------- what each does to the money


def _retry_effect(order: Order) -> list[str]:
    held = order.payment_status == PaymentStatus.AUTHORIZED
    lines = [
        f"No money moves. The customer's payment of {order.amount_display} stays "
        f"{'held (authorised, not charged)' if held else 'taken'}.",
        f"A new supplier order for the stone is placed with the {order.feed} feed.",
    ]
    if held:
        lines.append("If the supplier confirms, the held payment is captured (charged).")
    return lines


def _capture_effect(order: Order) -> list[str]:
    return [
        f"The customer's card is charged {order.amount_display} now: the held authorisation "
        "is captured.",
        "The order becomes confirmed.",
    ]


def _cancel_effect(order: Order) -> list[str]:
    if order.payment_status == PaymentStatus.AUTHORIZED:
        return [
            f"The authorisation of {order.amount_display} is released: the customer is not "
            "charged and the store pays no card fees.",
            "The order is cancelled; the diamond goes back on sale if the supplier order was "
            "never placed.",
        ]
    return [
        f"The customer is refunded {money_display(refundable_cents(order), order.currency)} "
        "through Stripe (it takes 5-10 days to reach their card) and the order is cancelled.",
        "If the supplier order was placed, cancel it with the supplier as well.",
    ]


def _refund_effect(order: Order) -> list[str]:
    rest = money_display(refundable_cents(order), order.currency)
    return [
        f"Money goes back to the customer's card through Stripe: {rest} unless you enter a "
        "smaller amount.",
        "It takes 5-10 days to reach their card. A full refund cancels the order.",
        "If the supplier order was placed, cancel it with the supplier as well: a refund does "
        "not cancel it.",
    ]


def money_at_stake(order: Order) -> str | None:
    """ "release" or "refund" when the customer's money is held or taken by a paid order with
    no supplier order: resolving it must say what happens to that money. None otherwise."""
    if order.status != Status.PAID:
        return None
    if order.payment_status not in HELD or not supplier_order_never_placed(order):
        return None
    return "release" if order.payment_status == PaymentStatus.AUTHORIZED else "refund"


def _resolve_effect(order: Order) -> list[str]:
    stake = money_at_stake(order)
    if stake is not None:
        held = "held on the customer's card" if stake == "release" else "taken"
        return [
            f"{order.amount_display} is {held} and no supplier order exists: choose below "
            "whether to give it back (the order is cancelled) or keep it, and say why.",
            "The order then leaves the needs-attention list; your note is added to the "
            "timeline with your name.",
        ]
    return [
        "No money moves. The order leaves the needs-attention list; its state is kept and "
        "your note is added to the timeline with your name."
    ]


def _resolve_form(order: Order, data, bulk: bool) -> ResolveForm:
    return ResolveForm(data, money=money_at_stake(order), amount=order.amount_display)


# ---------------------------------------------------------------- forms


def _refund_form(order: Order, data, bulk: bool) -> RefundForm:
    """One order: any amount up to the rest; several: each refunded in full."""
    return RefundForm(data, rest_cents=refundable_cents(order), partial=not bulk)


# ---------------------------------------------------------------- running one, truthfully


def _retry_outcome(order: Order) -> Outcome:
    """What the retry led to, from the order as it is now."""
    if order.feed_order_status == FeedOrderStatus.SUCCESS:
        return Outcome(
            messages.SUCCESS,
            f"{order.display_number}: retried; the supplier confirmed, feed order "
            f"{order.feed_order_id}.",
        )
    if order.feed_order_status in (FeedOrderStatus.FAILED, FeedOrderStatus.UNKNOWN):
        first_line = (order.feed_order_error or "no error recorded").splitlines()[0]
        steps = order_next_steps(order=order)
        return Outcome(
            messages.WARNING,
            f"{order.display_number}: retried, but the feed order failed again: {first_line}"
            + (f" {steps}" if steps else ""),
        )
    return Outcome(
        messages.INFO,
        f"{order.display_number}: retry queued; the worker places the feed order shortly. "
        "Reload this page for its outcome.",
    )


def run_retry(*, order: Order, actor, data: dict) -> Outcome:
    if not order_feed_order_retry(order=order, actor=actor, reason="Retried from the admin."):
        return Outcome(
            messages.WARNING,
            f"{order.display_number}: not retried: its state changed meanwhile; check the "
            "timeline.",
        )
    return _retry_outcome(Order.objects.get(pk=order.pk))


def run_refund(*, order: Order, actor, data: dict) -> Outcome:
    try:
        refund_id = order_refund(
            order=order,
            actor=actor,
            release_diamond=data["release_diamond"],
            reason=data["reason"],
            amount_cents=data.get("amount_cents"),
        )
    except PaymentActionError as exc:
        return Outcome(messages.ERROR, str(exc))
    fresh = Order.objects.select_related("diamond").get(pk=order.pk)
    refunded = money_display(fresh.refunded_cents, fresh.currency)
    if fresh.payment_status == PaymentStatus.REFUNDED:
        diamond = (
            "the diamond is back on sale"
            if fresh.diamond.availability == "available"
            else f"the diamond is {fresh.diamond.get_availability_display().lower()}"
        )
        return Outcome(
            messages.SUCCESS,
            f"{fresh.display_number}: refunded in full ({refunded}, refund {refund_id}); the "
            f"order is cancelled and {diamond}.",
        )
    if fresh.refunded_cents:
        kept = money_display(refundable_cents(fresh), fresh.currency)
        return Outcome(
            messages.SUCCESS,
            f"{fresh.display_number}: refunded {refunded} so far (refund {refund_id}); "
            f"{kept} is kept.",
        )
    return Outcome(
        messages.WARNING,
        f"{fresh.display_number}: Stripe accepted refund {refund_id}, but the order does not "
        "show it yet; check the timeline.",
    )


def run_capture(*, order: Order, actor, data: dict) -> Outcome:
    try:
        result = order_capture(order=order, actor=actor)
    except PaymentActionError as exc:
        return Outcome(messages.ERROR, str(exc))
    fresh = Order.objects.get(pk=order.pk)
    if fresh.payment_status == PaymentStatus.PAID:
        return Outcome(
            messages.SUCCESS,
            f"{fresh.display_number}: captured {fresh.amount_display}; the order is "
            f"{fresh.get_status_display().lower()}.",
        )
    return Outcome(
        messages.WARNING,
        f"{fresh.display_number}: the capture did not complete (Stripe: {result}); the "
        f"payment is {fresh.get_payment_status_display().lower()}.",
    )


def run_cancel(*, order: Order, actor, data: dict) -> Outcome:
    try:
        result = order_cancel(order=order, actor=actor, reason=data["reason"])
    except PaymentActionError as exc:
        return Outcome(messages.ERROR, str(exc))
    fresh = Order.objects.get(pk=order.pk)
    if fresh.status != "cancelled":
        return Outcome(
            messages.WARNING,
            f"{fresh.display_number}: not cancelled; the order is "
            f"{fresh.get_status_display().lower()}.",
        )
    if fresh.payment_status == PaymentStatus.VOIDED:
        money_text = "the authorisation was released and the customer was not charged"
    else:
        money_text = f"the payment is {fresh.get_payment_status_display().lower()}"
    reference = f" (Stripe {result})" if result else ""
    return Outcome(messages.SUCCESS, f"{fresh.display_number}: cancelled; {money_text}{reference}.")


def run_resolve(*, order: Order, actor, data: dict) -> Outcome:
    stake, choice = money_at_stake(order), data.get("money")
    if stake is None:
        choice = None
    elif choice is None:
        return Outcome(
            messages.WARNING,
            f"{order.display_number}: not resolved: the customer's money is "
            f"{'held' if stake == 'release' else 'taken'} and no supplier order exists; "
            "resolve it on its own page to say what happens to the money.",
        )
    if choice in ("release", "refund"):
        given_back = run_cancel(order=order, actor=actor, data={"reason": data["note"]})
        if not given_back.done:
            return given_back
        order = Order.objects.get(pk=order.pk)
    elif choice == "keep":
        data = {**data, "note": f"Money kept: {data['note']}"}
    if order_resolve(order=order, actor=actor, note=data["note"]):
        if choice in ("release", "refund"):
            return Outcome(
                messages.SUCCESS,
                f"{order.display_number}: cancelled ("
                f"{'hold released' if choice == 'release' else 'refunded in full'}) and marked "
                "resolved.",
            )
        return Outcome(messages.SUCCESS, f"{order.display_number}: marked resolved.")
    return Outcome(messages.INFO, f"{order.display_number}: already resolved; left as it was.")


# ---------------------------------------------------------------- the stone's way


def _no_money(*lines: str) -> Callable[[Order], list[str]]:
    return lambda order: ["No money moves.", *lines]


def _receive_return_effect(order: Order) -> list[str]:
    rest = money_display(refundable_cents(order), order.currency)
    return [
        f"The customer is refunded {rest} (what is left of the payment) through Stripe, once; "
        "it takes 5-10 days to reach their card. The refund cancels the order.",
        "The customer is emailed that the refund is on its way.",
        "The stone goes back on sale only if you choose so below.",
    ]


def _fulfilment_outcome(order: Order, changed: bool, done: str) -> Outcome:
    fresh = Order.objects.get(pk=order.pk)
    if changed:
        return Outcome(messages.SUCCESS, f"{fresh.display_number}: {done}")
    return Outcome(
        messages.WARNING,
        f"{fresh.display_number}: not changed: the stone is "
        f"{fresh.get_fulfilment_status_display().lower()} (its state changed meanwhile).",
    )


def run_receive_stone(*, order: Order, actor, data: dict) -> Outcome:
    changed = order_stone_receive(order=order, actor=actor, note=data.get("note", ""))
    return _fulfilment_outcome(order, changed, "the stone is received and checked; ship it next.")


def run_ship(*, order: Order, actor, data: dict) -> Outcome:
    changed = order_ship(
        order=order,
        actor=actor,
        carrier=data["carrier"],
        tracking_number=data["tracking_number"],
    )
    fresh = Order.objects.get(pk=order.pk)
    link = order_tracking_url(fresh)
    return _fulfilment_outcome(
        order,
        changed,
        f"shipped with {carrier_name(fresh.carrier)}, tracking number "
        f"{fresh.tracking_number}{f' ({link})' if link else ''}; the customer is emailed the "
        "tracking link.",
    )


def run_deliver(*, order: Order, actor, data: dict) -> Outcome:
    changed = order_mark_delivered(order=order, actor=actor)
    return _fulfilment_outcome(order, changed, "delivered; the customer is emailed.")


def run_approve_return(*, order: Order, actor, data: dict) -> Outcome:
    changed = order_return_approve(order=order, actor=actor, note=data.get("note", ""))
    return _fulfilment_outcome(
        order, changed, "return approved; the customer is emailed how to send the stone back."
    )


def run_receive_return(*, order: Order, actor, data: dict) -> Outcome:
    try:
        refund_id = order_return_receive(
            order=order, actor=actor, restock=data["restock"], note=data.get("note", "")
        )
    except FulfilmentError as exc:
        return Outcome(messages.WARNING, str(exc))
    except PaymentActionError as exc:
        return Outcome(
            messages.ERROR,
            f"{order.display_number}: the return is received, but the refund failed: {exc} "
            "The order needs attention: refund it.",
        )
    fresh = Order.objects.select_related("diamond").get(pk=order.pk)
    diamond = fresh.diamond.get_availability_display().lower()
    return Outcome(
        messages.SUCCESS,
        f"{fresh.display_number}: return received; refunded "
        f"{money_display(fresh.refunded_cents, fresh.currency)} in all (refund {refund_id}); "
        f"the order is {fresh.get_status_display().lower()} and the diamond is {diamond}.",
    )


ORDER_ACTIONS = (
    OrderAction(
        "retry",
        "Retry feed order",
        "Retried the feed order",
        ("feed_order_retried",),
        "orders.retry_feed_order",
        run=run_retry,
        effect=_retry_effect,
        warns=outcome_unknown,
    ),
    OrderAction(
        "capture",
        "Capture payment",
        "Captured",
        ("captured",),
        "orders.capture_payment",
        run=run_capture,
        effect=_capture_effect,
    ),
    OrderAction(
        "cancel",
        "Cancel order",
        "Cancelled",
        ("voided", "refunded"),
        "orders.cancel_order",
        run=run_cancel,
        effect=_cancel_effect,
        form=lambda order, data, bulk: CancelForm(data),
        destructive=True,
    ),
    OrderAction(
        "refund",
        "Refund",
        "Refunded",
        ("refunded", "partially_refunded"),
        "orders.refund_order",
        run=run_refund,
        effect=_refund_effect,
        form=_refund_form,
        destructive=True,
    ),
    OrderAction(
        "resolve",
        "Mark resolved",
        "Marked resolved",
        ("resolved",),
        "orders.resolve_order",
        run=run_resolve,
        effect=_resolve_effect,
        form=_resolve_form,
        when_attention=True,
    ),
    # The stone's way (orders/fulfilment.py).
    OrderAction(
        "receive-stone",
        "Receive stone",
        "Received the stone",
        ("stone_received",),
        "orders.fulfil_order",
        run=run_receive_stone,
        effect=_no_money(
            "The stone is recorded as with us, checked against its grading report; it can be "
            "shipped next. The customer's order page shows it."
        ),
        form=lambda order, data, bulk: ReceiveStoneForm(data),
    ),
    OrderAction(
        "ship",
        "Ship",
        "Shipped",
        ("shipped",),
        "orders.fulfil_order",
        run=run_ship,
        effect=_no_money(
            "The order is shipped with the carrier and tracking number you enter.",
            "The customer is emailed that their diamond is on its way, with the tracking link; "
            "Slack #ops is told.",
        ),
        form=lambda order, data, bulk: ShipForm(data, carriers=carrier_choices()),
        bulk=False,
    ),
    OrderAction(
        "deliver",
        "Mark delivered",
        "Marked delivered",
        ("delivered",),
        "orders.fulfil_order",
        run=run_deliver,
        effect=lambda order: [
            "No money moves.",
            "The order is delivered; the customer is emailed, and may ask to return the stone "
            f"within {settings.RETURN_DAYS} days.",
        ],
    ),
    OrderAction(
        "approve-return",
        "Approve return",
        "Approved the return",
        ("return_approved",),
        "orders.fulfil_order",
        run=run_approve_return,
        effect=_no_money(
            "The customer is emailed how to send the stone back. The refund follows when you "
            "receive it (Receive return)."
        ),
        form=lambda order, data, bulk: ApproveReturnForm(data),
    ),
    OrderAction(
        "receive-return",
        "Receive return",
        "Received the return",
        ("returned",),
        "orders.fulfil_order",
        run=run_receive_return,
        effect=_receive_return_effect,
        form=lambda order, data, bulk: ReceiveReturnForm(data),
        destructive=True,
    ),
)
ACTIONS_BY_NAME = {action.name: action for action in ORDER_ACTIONS}


def order_actions_for(*, user, order: Order, now=None) -> list[OrderAction]:
    """The actions this user may run on this order now."""
    now = now or timezone.now()
    return [
        action
        for action in ORDER_ACTIONS
        if user.has_perm(action.permission) and action.applies(order, now)
    ]
