"""The order page's actions: which apply (asked of the state table), what each does to the
customer's money (said on its confirmation page), and its true outcome afterwards.

Each action is one or more moves of `orders.states.TRANSITIONS`; a button is shown when the
user has the action's permission and the state table admits one of its moves now. A move the
table does not know (yet) hides the action.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.utils import timezone

from orders.models import FeedOrderStatus, Order, PaymentStatus
from orders.services import order_feed_order_retry, order_resolve
from orders.states import TRANSITIONS, attention_rule, outcome_unknown, refusal
from payments.services import PaymentActionError, order_cancel, order_capture, order_refund


@dataclass(frozen=True)
class OrderAction:
    name: str  # the URL's last part
    label: str  # the button
    moves: tuple[str, ...]  # state-table moves, any of which makes it apply
    permission: str
    destructive: bool = False
    # Offered only while the order needs attention (resolving takes it off that list).
    when_attention: bool = False

    @property
    def known(self) -> bool:
        """The state table has the action's first move (and so the service behind it)."""
        return self.moves[0] in TRANSITIONS

    def refusal(self, order: Order, now) -> str | None:
        """Why it does not apply now, in ops' words; None when it does."""
        reasons = [refusal(order, move, now) for move in self.moves if move in TRANSITIONS]
        if not reasons:
            return "not available in this version"
        if all(reason is not None for reason in reasons):
            return reasons[0]
        if self.when_attention and attention_rule(order, now) is None:
            return "it does not need attention"
        return None

    def applies(self, order: Order, now) -> bool:
        return self.refusal(order, now) is None


ORDER_ACTIONS = (
    OrderAction("retry", "Retry feed order", ("feed_order_retried",), "orders.retry_feed_order"),
    OrderAction("capture", "Capture payment", ("captured",), "orders.capture_payment"),
    OrderAction(
        "cancel", "Cancel order", ("voided", "refunded"), "orders.cancel_order", destructive=True
    ),
    OrderAction(
        "refund",
        "Refund",
        ("refunded", "partially_refunded"),
        "orders.refund_order",
        destructive=True,
    ),
    OrderAction(
        "resolve", "Mark resolved", ("resolved",), "orders.resolve_order", when_attention=True
    ),
)
ACTIONS_BY_NAME = {action.name: action for action in ORDER_ACTIONS}


def order_actions_for(*, user, order: Order, now=None) -> list[OrderAction]:
    """The actions this user may run on this order now."""
    now = now or timezone.now()
    return [
        action
        for action in ORDER_ACTIONS
        if action.known and user.has_perm(action.permission) and action.applies(order, now)
    ]


def partial_refunds_supported() -> bool:
    return "partially_refunded" in TRANSITIONS


def refundable_cents(order: Order) -> int:
    return max(order.amount_cents - order.amount_refunded_cents, 0)


def money(cents: int, currency: str = "nzd") -> str:
    return f"${cents / 100:,.2f} {currency.upper()}"


# ---------------------------------------------------------------- what it does to the money


def money_effect(action: OrderAction, order: Order) -> list[str]:
    """The confirmation page's sentences: what happens to the customer's money and stone."""
    amount = money(order.amount_cents, order.currency)
    held = order.payment_status == "authorized"
    if action.name == "retry":
        lines = [
            "No money moves. The customer's payment of "
            f"{amount} stays {'held (authorised, not charged)' if held else 'taken'}.",
            f"A new supplier order for the stone is placed with the {order.feed} feed.",
        ]
        if held:
            lines.append("If the supplier confirms, the held payment is captured (charged).")
        return lines
    if action.name == "capture":
        return [
            f"The customer's card is charged {amount} now: the held authorisation is captured.",
            "The order becomes confirmed.",
        ]
    if action.name == "cancel":
        if held:
            return [
                f"The authorisation of {amount} is released: the customer is not charged and "
                "the store pays no card fees.",
                "The order is cancelled; the diamond goes back on sale if the supplier order "
                "was never placed.",
            ]
        return [
            f"The customer is refunded {money(refundable_cents(order), order.currency)} "
            "through Stripe (it takes 5-10 days to reach their card) and the order is "
            "cancelled.",
            "If the supplier order was placed, cancel it with the supplier as well.",
        ]
    if action.name == "refund":
        rest = money(refundable_cents(order), order.currency)
        lines = [
            f"Money goes back to the customer's card through Stripe: {rest}"
            + (" unless you enter a smaller amount." if partial_refunds_supported() else "."),
            "It takes 5-10 days to reach their card. A full refund cancels the order.",
            "If the supplier order was placed, cancel it with the supplier as well: a refund "
            "does not cancel it.",
        ]
        return lines
    return [
        "No money moves. The order leaves the needs-attention list; its state is kept and "
        "your note is added to the timeline with your name."
    ]


def retry_warning(order: Order, now) -> bool:
    """The last attempt's outcome is unknown: a retry could buy the stone twice."""
    return outcome_unknown(order, now)


# ---------------------------------------------------------------- running one, truthfully


@dataclass(frozen=True)
class Outcome:
    level: int
    message: str

    @property
    def done(self) -> bool:
        return self.level in (messages.SUCCESS, messages.INFO)


def retry_outcome(order: Order) -> Outcome:
    """What the retry led to, from the order as it is now."""
    if order.feed_order_status == FeedOrderStatus.SUCCESS:
        return Outcome(
            messages.SUCCESS,
            f"{order.display_number}: retried; the supplier confirmed, feed order "
            f"{order.feed_order_id}.",
        )
    if order.feed_order_status in (FeedOrderStatus.FAILED, FeedOrderStatus.UNKNOWN):
        first_line = (order.feed_order_error or "no error recorded").splitlines()[0]
        return Outcome(
            messages.WARNING,
            f"{order.display_number}: retried, but the feed order failed again: {first_line}",
        )
    return Outcome(
        messages.INFO,
        f"{order.display_number}: retry queued; the worker places the feed order shortly. "
        "Reload this page for its outcome.",
    )


def run_retry(*, order: Order, actor) -> Outcome:
    why = refusal(order, "feed_order_retried", timezone.now())
    if why:
        return Outcome(messages.WARNING, f"{order.display_number}: not retried: {why}.")
    if not order_feed_order_retry(order=order, actor=actor, reason="Retried from the admin."):
        return Outcome(
            messages.WARNING,
            f"{order.display_number}: not retried: its state changed meanwhile; check the "
            "timeline.",
        )
    return retry_outcome(Order.objects.get(pk=order.pk))


def run_refund(
    *, order: Order, actor, release_diamond: bool, reason: str, amount_cents: int | None
) -> Outcome:
    kwargs = {"order": order, "actor": actor, "release_diamond": release_diamond, "reason": reason}
    if partial_refunds_supported():
        kwargs["amount_cents"] = amount_cents
    try:
        refund_id = order_refund(**kwargs)
    except PaymentActionError as exc:
        return Outcome(messages.ERROR, str(exc))
    fresh = Order.objects.select_related("diamond").get(pk=order.pk)
    refunded = fresh.amount_refunded_cents or (
        fresh.amount_cents if fresh.payment_status == PaymentStatus.REFUNDED else 0
    )
    if fresh.payment_status == PaymentStatus.REFUNDED:
        diamond = (
            "the diamond is back on sale"
            if fresh.diamond.availability == "available"
            else f"the diamond is {fresh.diamond.get_availability_display().lower()}"
        )
        return Outcome(
            messages.SUCCESS,
            f"{fresh.display_number}: refunded in full ({money(refunded, fresh.currency)}, "
            f"refund {refund_id}); the order is cancelled and {diamond}.",
        )
    if refunded:
        return Outcome(
            messages.SUCCESS,
            f"{fresh.display_number}: refunded {money(refunded, fresh.currency)} so far "
            f"(refund {refund_id}); {money(refundable_cents(fresh), fresh.currency)} is kept.",
        )
    return Outcome(
        messages.WARNING,
        f"{fresh.display_number}: Stripe accepted refund {refund_id}, but the order does not "
        "show it yet; check the timeline.",
    )


def run_capture(*, order: Order, actor) -> Outcome:
    try:
        result = order_capture(order=order, actor=actor)
    except PaymentActionError as exc:
        return Outcome(messages.ERROR, str(exc))
    fresh = Order.objects.get(pk=order.pk)
    if fresh.payment_status == PaymentStatus.PAID:
        return Outcome(
            messages.SUCCESS,
            f"{fresh.display_number}: captured {money(fresh.amount_cents, fresh.currency)}; "
            f"the order is {fresh.get_status_display().lower()}.",
        )
    return Outcome(
        messages.WARNING,
        f"{fresh.display_number}: the capture did not complete (Stripe: {result}); the "
        f"payment is {fresh.get_payment_status_display().lower()}.",
    )


def run_cancel(*, order: Order, actor, reason: str) -> Outcome:
    try:
        result = order_cancel(order=order, actor=actor, reason=reason)
    except PaymentActionError as exc:
        return Outcome(messages.ERROR, str(exc))
    fresh = Order.objects.get(pk=order.pk)
    if fresh.status != "cancelled":
        return Outcome(
            messages.WARNING,
            f"{fresh.display_number}: not cancelled; the order is "
            f"{fresh.get_status_display().lower()}.",
        )
    if fresh.payment_status == "voided":
        money_text = "the authorisation was released and the customer was not charged"
    else:
        money_text = f"the payment is {fresh.get_payment_status_display().lower()}"
    reference = f" (Stripe {result})" if result else ""
    return Outcome(messages.SUCCESS, f"{fresh.display_number}: cancelled; {money_text}{reference}.")


def run_resolve(*, order: Order, actor, note: str) -> Outcome:
    if order_resolve(order=order, actor=actor, note=note):
        return Outcome(messages.SUCCESS, f"{order.display_number}: marked resolved.")
    return Outcome(messages.INFO, f"{order.display_number}: already resolved; left as it was.")
