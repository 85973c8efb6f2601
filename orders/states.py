"""The order's state machine: every rule about which states an order may be in, how it moves
between them, what each move does to the diamond, what needs ops, and what the shopper is told.

An order's state is four columns, `(status, payment_status, feed_order_status,
fulfilment_status)`. `LEGAL`
lists every combination an order may be in (the database refuses any other, see
`legal_states_q`). `TRANSITIONS` is the one table of moves: the states a move may start from,
the columns it sets, its effect on the diamond and the kind of timeline entry it writes.
`orders.services.order_transition` applies a move as one guarded conditional UPDATE built from
this table, so the admin, reconciliation, the webhook and the views ask this module
(`may(...)`, `refusal(...)`) instead of restating the rules.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from functools import reduce
from itertools import product

from django.conf import settings
from django.db import models
from django.db.models import Q


class Status(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", "Pending payment"
    PAID = "paid", "Paid"
    CONFIRMED = "confirmed", "Confirmed"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    # Card payments are authorised at Checkout and captured once the supplier confirms.
    AUTHORIZED = "authorized", "Authorized"
    PAID = "paid", "Paid"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"
    # The authorisation was released: nothing was charged.
    VOIDED = "voided", "Voided"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
    REFUNDED = "refunded", "Refunded"


class FeedOrderStatus(models.TextChoices):
    NOT_ATTEMPTED = "not_attempted", "Not attempted"
    PENDING = "pending", "Pending"
    SUCCESS = "success", "Success"
    FAILED = "failed", "Failed"
    # The supplier call timed out or its worker stopped mid-call: the supplier may have the
    # order, so a blind retry could buy the stone twice.
    UNKNOWN = "unknown", "Outcome unknown"


class FulfilmentStatus(models.TextChoices):
    """The stone's way to the customer (and back), once the supplier confirmed the order."""

    NOT_STARTED = "not_started", "Not started"
    # The supplier confirmed: the stone is on its way to us.
    AWAITING_STONE = "awaiting_stone", "Awaiting the stone"
    # We have it and checked it against its grading report.
    RECEIVED = "received", "Received"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    RETURN_REQUESTED = "return_requested", "Return requested"
    RETURN_APPROVED = "return_approved", "Return approved"
    RETURNED = "returned", "Returned"


S, P, F, FU = Status, PaymentStatus, FeedOrderStatus, FulfilmentStatus
ANY_FEED = frozenset(F.values)
# Once the supplier confirmed, every step of the stone's way (a confirmed order has started).
UNDER_WAY = frozenset(FU.values) - {FU.NOT_STARTED}
# The steps where ops have something to do (the dashboard's queues); at rest: delivered.
IN_HAND = tuple(sorted(UNDER_WAY - {FU.DELIVERED}))
CAPTURED = (P.PAID, P.PARTIALLY_REFUNDED)  # the money taken

# ---------------------------------------------------------------- legal combinations

_BEFORE_FULFILMENT: frozenset[tuple[str, str, str]] = frozenset(
    {
        (S.PENDING_PAYMENT, P.PENDING, F.NOT_ATTEMPTED),
        (S.FAILED, P.FAILED, F.NOT_ATTEMPTED),
        (S.EXPIRED, P.EXPIRED, F.NOT_ATTEMPTED),
        # Paid (or authorised, the money held): the supplier order is queued or running,
        # failed, unknown, or never placed because the paid amount did not match the order.
        *(
            (S.PAID, payment, feed)
            for payment in (P.PAID, P.AUTHORIZED, P.PARTIALLY_REFUNDED)
            for feed in (F.PENDING, F.FAILED, F.UNKNOWN, F.NOT_ATTEMPTED)
        ),
        # The supplier confirmed, the capture has not (yet) succeeded.
        (S.PAID, P.AUTHORIZED, F.SUCCESS),
        # A refund or a void leaves the supplier order as it was (one in flight may land).
        *((S.CANCELLED, P.REFUNDED, feed) for feed in F.values),
        *((S.CANCELLED, P.VOIDED, feed) for feed in F.values),
    }
)

LEGAL: frozenset[tuple[str, str, str, str]] = frozenset(
    {
        # Nothing ships before the order is confirmed.
        *((*state, FU.NOT_STARTED) for state in _BEFORE_FULFILMENT),
        # Confirmed: the stone is under way, from awaiting it to back with us after a return
        # (whose refund may not have gone through yet).
        *((S.CONFIRMED, payment, F.SUCCESS, step) for payment in CAPTURED for step in UNDER_WAY),
        # A refund (of a return, or of a confirmed order) keeps the stone's last step.
        *((S.CANCELLED, P.REFUNDED, F.SUCCESS, step) for step in UNDER_WAY),
    }
)


def legal_states_q() -> Q:
    """The legal combinations as a condition, for the table's CheckConstraint."""
    return reduce(
        operator.or_,
        (
            Q(status=s, payment_status=p, feed_order_status=f, fulfilment_status=fu)
            for s, p, f, fu in sorted(LEGAL)
        ),
    )


# ---------------------------------------------------------------- the diamond


class DiamondEffect(Enum):
    NONE = "none"
    RELEASE = "release"  # reserved → available: the stone is on sale again
    SELL = "sell"  # reserved → sold
    RESTOCK = "restock"  # sold → available: a returned stone is on sale again
    REFUSED = "refused"  # reserved → unavailable: the supplier refused it (until an import)


# ---------------------------------------------------------------- transitions


@dataclass(frozen=True)
class Transition:
    """One move. `source` holds, per column, the values the move may start from; `target`
    the columns it sets (a column it does not name keeps its value). `guard` names extra
    conditions the services add to the UPDATE (see `GUARDS`)."""

    name: str
    source: dict[str, frozenset[str]]
    target: dict[str, str]
    kind: str
    diamond: DiamondEffect = DiamondEffect.NONE
    guard: tuple[str, ...] = ()
    description: str = ""

    def admits(self, state: tuple[str, ...]) -> bool:
        return all(
            value in self.source.get(column, _ANY[column])
            for column, value in zip(COLUMNS, state, strict=True)
        )

    def apply(self, state: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(
            self.target.get(column, value) for column, value in zip(COLUMNS, state, strict=True)
        )

    def source_q(self) -> Q:
        return Q(**{f"{column}__in": sorted(values) for column, values in self.source.items()})


COLUMNS = ("status", "payment_status", "feed_order_status", "fulfilment_status")
_ANY = {
    "status": frozenset(S.values),
    "payment_status": frozenset(P.values),
    "feed_order_status": ANY_FEED,
    "fulfilment_status": frozenset(FU.values),
}


def _t(
    name, *, status=None, payment=None, feed=None, fulfilment=None, to=None, kind, **options
) -> Transition:
    source = {}
    for column, values in (
        ("status", status),
        ("payment_status", payment),
        ("feed_order_status", feed),
        ("fulfilment_status", fulfilment),
    ):
        if values is not None:
            source[column] = frozenset([values] if isinstance(values, str) else values)
    return Transition(name=name, source=source, target=dict(to or {}), kind=kind, **options)


OPEN = {"status": S.PENDING_PAYMENT, "payment": P.PENDING, "feed": F.NOT_ATTEMPTED}
# The stone's way: the order confirmed (its money taken, not all of it refunded).
ON_ITS_WAY = {"status": S.CONFIRMED, "payment": CAPTURED, "feed": F.SUCCESS}

HELD = (P.PAID, P.AUTHORIZED, P.PARTIALLY_REFUNDED)  # money taken or held
REFUNDABLE = {"status": (S.PAID, S.CONFIRMED), "payment": CAPTURED}
ANSWERED = (F.PENDING, F.UNKNOWN)  # a supplier answer may still arrive
R, SELL = DiamondEffect.RELEASE, DiamondEffect.SELL

# fmt: off
TRANSITIONS: dict[str, Transition] = {t.name: t for t in [
    # checkout
    _t("checkout_failed", **OPEN, to={"status": S.FAILED, "payment_status": P.FAILED},
       kind="checkout_failed", diamond=R,
       description="Stripe could not create the Checkout Session"),
    _t("payment_failed", **OPEN, to={"status": S.FAILED, "payment_status": P.FAILED},
       kind="payment_failed", diamond=R, description="a delayed payment failed"),
    _t("checkout_expired", **OPEN, to={"status": S.EXPIRED, "payment_status": P.EXPIRED},
       kind="checkout_expired", diamond=R, description="the Checkout Session expired unpaid"),
    # payment
    _t("paid", **OPEN,
       to={"status": S.PAID, "payment_status": P.PAID, "feed_order_status": F.PENDING},
       kind="paid", description="payment received; the supplier order is queued"),
    _t("authorized", **OPEN,
       to={"status": S.PAID, "payment_status": P.AUTHORIZED, "feed_order_status": F.PENDING},
       kind="authorized",
       description="the card was authorised (money held); the supplier order is queued"),
    _t("paid_mismatch", **OPEN, to={"status": S.PAID, "payment_status": P.PAID},
       kind="payment_mismatch",
       description="paid, but not the order's amount or currency: no supplier order"),
    _t("authorized_mismatch", **OPEN, to={"status": S.PAID, "payment_status": P.AUTHORIZED},
       kind="payment_mismatch",
       description="authorised, but not the order's amount or currency: no supplier order"),
    # the supplier order
    _t("feed_order_started", status=S.PAID, payment=HELD, feed=F.PENDING, kind="",
       guard=("attempt", "not_started", "no_fraud_hold"),
       description="a worker takes the current attempt on"),
    _t("feed_order_succeeded", status=S.PAID, payment=CAPTURED, feed=ANSWERED,
       to={"status": S.CONFIRMED, "feed_order_status": F.SUCCESS,
           "fulfilment_status": FU.AWAITING_STONE},
       kind="feed_order_succeeded", diamond=SELL, guard=("attempt",),
       description="the supplier confirmed the order (payment already captured)"),
    _t("feed_order_succeeded_to_capture", status=S.PAID, payment=P.AUTHORIZED, feed=ANSWERED,
       to={"feed_order_status": F.SUCCESS}, kind="supplier_confirmed", diamond=SELL,
       guard=("attempt",),
       description="the supplier confirmed the order; the held payment is to be captured"),
    _t("feed_order_succeeded_after_refund", status=S.CANCELLED, feed=ANSWERED,
       to={"feed_order_status": F.SUCCESS}, kind="feed_order_succeeded_after_refund",
       guard=("attempt",),
       description="the supplier confirmed an order that was refunded or voided meanwhile"),
    _t("feed_order_failed", status=(S.PAID, S.CANCELLED), feed=ANSWERED,
       to={"feed_order_status": F.FAILED}, kind="feed_order_failed", guard=("attempt",),
       description="the supplier refused the order"),
    _t("feed_order_unknown", status=(S.PAID, S.CANCELLED), feed=F.PENDING,
       to={"feed_order_status": F.UNKNOWN}, kind="feed_order_unknown", guard=("attempt",),
       description="the supplier call timed out or its worker stopped mid-call"),
    _t("feed_order_stopped", status=S.PAID, feed=F.PENDING,
       to={"feed_order_status": F.FAILED}, kind="feed_order_stopped", guard=("not_started",),
       description="an early fraud warning stopped a supplier order not yet placed"),
    _t("feed_order_retried", status=S.PAID, payment=HELD, feed=(F.FAILED, F.UNKNOWN, F.PENDING),
       to={"feed_order_status": F.PENDING}, kind="feed_order_retried", guard=("retryable",),
       description="a new supplier-order attempt (ops, or a stalled one re-queued)"),
    # the held payment
    _t("captured", status=S.PAID, payment=P.AUTHORIZED, feed=F.SUCCESS,
       to={"status": S.CONFIRMED, "payment_status": P.PAID,
           "fulfilment_status": FU.AWAITING_STONE}, kind="captured",
       description="the held payment was captured: the order is confirmed"),
    _t("capture_failed", status=S.PAID, payment=P.AUTHORIZED, feed=F.SUCCESS,
       kind="capture_failed", description="the capture failed or its outcome is unknown"),
    _t("voided", status=S.PAID, payment=P.AUTHORIZED,
       to={"status": S.CANCELLED, "payment_status": P.VOIDED}, kind="voided",
       description="the authorisation was released: nothing charged"),
    # refunds
    _t("refunded", **REFUNDABLE, to={"status": S.CANCELLED, "payment_status": P.REFUNDED},
       kind="refunded", description="the whole payment went back to the customer"),
    _t("partially_refunded", **REFUNDABLE, to={"payment_status": P.PARTIALLY_REFUNDED},
       kind="partially_refunded", description="part of the payment went back to the customer"),
    # the stone's way to the customer, and back
    _t("stone_received", **ON_ITS_WAY, fulfilment=FU.AWAITING_STONE,
       to={"fulfilment_status": FU.RECEIVED}, kind="stone_received",
       description="ops received the stone and checked it against its grading report"),
    _t("shipped", **ON_ITS_WAY, fulfilment=FU.RECEIVED,
       to={"fulfilment_status": FU.SHIPPED}, kind="shipped",
       description="ops shipped the stone with a carrier and a tracking number"),
    _t("delivered", **ON_ITS_WAY, fulfilment=FU.SHIPPED,
       to={"fulfilment_status": FU.DELIVERED}, kind="delivered",
       description="the carrier delivered the stone"),
    _t("return_requested", **ON_ITS_WAY, fulfilment=FU.DELIVERED,
       to={"fulfilment_status": FU.RETURN_REQUESTED}, kind="return_requested",
       guard=("return_window",),
       description="the shopper asked to return the stone (within RETURN_DAYS of delivery)"),
    _t("return_approved", **ON_ITS_WAY, fulfilment=FU.RETURN_REQUESTED,
       to={"fulfilment_status": FU.RETURN_APPROVED}, kind="return_approved",
       description="ops approved the return; the shopper is told how to send it back"),
    _t("returned", **ON_ITS_WAY, fulfilment=FU.RETURN_APPROVED,
       to={"fulfilment_status": FU.RETURNED}, kind="returned",
       description="the stone came back; the refund follows"),
    # ops
    _t("resolved", kind="resolved", guard=("unresolved",),
       description="ops closed the case with a note"),
]}
# fmt: on

# ---------------------------------------------------------------- needs attention

FEED_ORDER_STALL_AFTER = timedelta(minutes=10)


def return_window() -> timedelta:
    """How long after delivery the shopper may ask to return the stone."""
    return timedelta(days=settings.RETURN_DAYS)


def supplier_overdue_after() -> timedelta:
    """How long the stone may take from the supplier to us before it is overdue."""
    return timedelta(days=settings.SUPPLIER_DAYS)


def authorization_warn_after() -> timedelta:
    return timedelta(hours=settings.AUTHORIZATION_WARN_HOURS)


OPEN_DISPUTE_STATUSES = (
    "warning_needs_response",
    "warning_under_review",
    "needs_response",
    "under_review",
)


@dataclass(frozen=True)
class AttentionRule:
    """Why an unresolved order needs ops: `sentence` states the facts and names no action
    (`orders.advice` adds the actions the order offers now).
    `match`: column → value (or a tuple of values);
    `stale`: a timestamp older than an age (a timedelta, or a function giving one);
    `empty` / `present`: fields that must be null / set; `nonblank`: text that must be set."""

    reason: str
    sentence: str
    match: dict[str, str | tuple[str, ...]]
    stale: tuple[str, timedelta | Callable[[], timedelta]] | None = None
    empty: tuple[str, ...] = field(default=())
    present: tuple[str, ...] = field(default=())
    nonblank: tuple[str, ...] = field(default=())

    def _age(self) -> timedelta:
        after = self.stale[1]
        return after() if callable(after) else after

    def q(self, now: datetime) -> Q:
        condition = Q(resolved_at__isnull=True)
        for name, value in self.match.items():
            lookup = f"{name}__in" if isinstance(value, tuple) else name
            condition &= Q(**{lookup: value})
        if self.stale:
            condition &= Q(**{f"{self.stale[0]}__lt": now - self._age()})
        for name in self.empty:
            condition &= Q(**{f"{name}__isnull": True})
        for name in self.present:
            condition &= Q(**{f"{name}__isnull": False})
        for name in self.nonblank:
            condition &= ~Q(**{name: ""})
        return condition

    def holds(self, order, now: datetime) -> bool:
        if order.resolved_at is not None:
            return False
        for name, value in self.match.items():
            allowed = value if isinstance(value, tuple) else (value,)
            if getattr(order, name) not in allowed:
                return False
        if self.stale:
            value = getattr(order, self.stale[0])
            if value is None or value >= now - self._age():
                return False
        if any(getattr(order, name) is not None for name in self.empty):
            return False
        if any(getattr(order, name) is None for name in self.present):
            return False
        return all(getattr(order, name) for name in self.nonblank)


ATTENTION_RULES = (
    AttentionRule(
        "fraud_warning",
        "Stripe raised an early fraud warning: decide before the supplier order is placed.",
        {"status": (S.PAID, S.CONFIRMED)},
        present=("fraud_warning_at",),
        empty=("fraud_cleared_at",),
    ),
    AttentionRule(
        "dispute_open",
        "The customer disputed the payment: answer it before the evidence is due.",
        {"dispute_status": OPEN_DISPUTE_STATUSES},
    ),
    AttentionRule(
        "stripe_mismatch",
        "Stripe reported something the order's books cannot match.",
        {},
        nonblank=("stripe_mismatch",),
    ),
    AttentionRule(
        "capture_failed",
        "The supplier confirmed, but the held payment could not be captured.",
        {"status": S.PAID, "payment_status": P.AUTHORIZED, "feed_order_status": F.SUCCESS},
        nonblank=("payment_error",),
    ),
    AttentionRule(
        "capture_pending",
        "The supplier confirmed more than 10 minutes ago, but the payment is not captured yet.",
        {"status": S.PAID, "payment_status": P.AUTHORIZED, "feed_order_status": F.SUCCESS},
        stale=("updated_at", FEED_ORDER_STALL_AFTER),
    ),
    AttentionRule(
        "feed_failed",
        "The money is taken or held, but the supplier refused the order.",
        {"status": S.PAID, "feed_order_status": F.FAILED},
    ),
    AttentionRule(
        "feed_unknown",
        "Paid, and the supplier order's outcome is unknown: check with the supplier first.",
        {"status": S.PAID, "feed_order_status": F.UNKNOWN},
    ),
    AttentionRule(
        "feed_stalled",
        "Paid, and the supplier order has been pending for more than 10 minutes.",
        {"status": S.PAID, "feed_order_status": F.PENDING},
        stale=("feed_order_requested_at", FEED_ORDER_STALL_AFTER),
    ),
    AttentionRule(
        "payment_mismatch",
        "Paid, but not the order's amount or currency, so no supplier order was placed.",
        {"status": S.PAID, "feed_order_status": F.NOT_ATTEMPTED},
    ),
    AttentionRule(
        "authorization_expiring",
        "The payment is only authorised and the authorisation expires soon.",
        {"status": S.PAID, "payment_status": P.AUTHORIZED},
        stale=("paid_at", authorization_warn_after),
    ),
    AttentionRule(
        "return_requested",
        "The customer asked to return the stone.",
        {"status": S.CONFIRMED, "fulfilment_status": FU.RETURN_REQUESTED},
    ),
    AttentionRule(
        "return_not_refunded",
        "The returned stone is back with us, but the customer's money has not gone back to them.",
        {"status": S.CONFIRMED, "fulfilment_status": FU.RETURNED},
    ),
    AttentionRule(
        "placed_after_refund",
        "Cancelled, but the supplier order went through: the store has bought the stone.",
        {"status": S.CANCELLED, "feed_order_status": F.SUCCESS},
        empty=("confirmed_at",),
    ),
)


def attention_q(now: datetime) -> Q:
    return reduce(operator.or_, (rule.q(now) for rule in ATTENTION_RULES))


def attention_rule(order, now: datetime) -> AttentionRule | None:
    """The first reason `order` needs attention, or None."""
    return next((rule for rule in ATTENTION_RULES if rule.holds(order, now)), None)


# ---------------------------------------------------------------- questions the rest asks


def supplier_order_never_placed(order) -> bool:
    """No supplier order exists or can still appear: never attempted, refused, or queued but
    not yet taken on by a worker (whose claim a cancelled order then refuses)."""
    if order.feed_order_status in (F.NOT_ATTEMPTED, F.FAILED):
        return True
    return order.feed_order_status == F.PENDING and order.feed_order_started_at is None


def state_of(order) -> tuple[str, str, str, str]:
    return (
        order.status,
        order.payment_status,
        order.feed_order_status,
        order.fulfilment_status,
    )


def refusal(order, name: str, now: datetime) -> str | None:
    """Why `order` may not make move `name` now, in ops' words; None when it may."""
    transition = TRANSITIONS[name]
    if not transition.admits(state_of(order)):
        return _state_refusal(order, name)
    if "unresolved" in transition.guard and order.resolved_at is not None:
        return "it is already resolved"
    if "return_window" in transition.guard and not return_open(order, now):
        return f"returns close {settings.RETURN_DAYS} days after delivery"
    if "retryable" in transition.guard and order.feed_order_status == F.PENDING:
        requested = order.feed_order_requested_at
        if requested is not None and requested >= now - FEED_ORDER_STALL_AFTER:
            return "a feed-order attempt is in progress; wait for it (stalled after 10 minutes)"
    return None


def return_open(order, now: datetime) -> bool:
    """Delivered no more than `RETURN_DAYS` ago (the return window's own test)."""
    delivered = order.delivered_at
    return delivered is not None and delivered >= now - return_window()


def may(order, name: str, now: datetime) -> bool:
    return refusal(order, name, now) is None


def _state_refusal(order, name: str) -> str:
    if name in ("refunded", "partially_refunded") and order.payment_status == P.AUTHORIZED:
        return "the payment is only authorised, not captured: cancel the order to release it"
    if name in ("feed_order_retried", "refunded", "partially_refunded", "voided") and (
        order.payment_status not in HELD
    ):
        return f"payment is {order.get_payment_status_display().lower()}, not paid"
    if name == "captured":
        if order.payment_status != P.AUTHORIZED:
            return f"payment is {order.get_payment_status_display().lower()}, not authorised"
        return "the supplier has not confirmed the order yet"
    if name == "voided":
        return "the payment was captured: refund it instead"
    if name == "feed_order_retried":
        if order.status != S.PAID:
            return f"order is {order.get_status_display().lower()}"
        if order.feed_order_status == F.NOT_ATTEMPTED:
            return (
                "the payment did not match the order, so no supplier order is placed; "
                "refund or resolve"
            )
    if name == "refunded":
        return f"order is {order.get_status_display().lower()}"
    if name in FULFILMENT_MOVES:
        if order.status != S.CONFIRMED:
            return f"order is {order.get_status_display().lower()}"
        return f"the stone is {order.get_fulfilment_status_display().lower()}"
    return (
        f"it is {order.get_status_display().lower()} / "
        f"{order.get_payment_status_display().lower()} / "
        f"{order.get_feed_order_status_display().lower()}"
    )


FULFILMENT_MOVES = (
    "stone_received",
    "shipped",
    "delivered",
    "return_requested",
    "return_approved",
    "returned",
)


def outcome_unknown(order, now: datetime) -> bool:
    """The supplier may already have this order: the last attempt's answer never came, or a
    worker took a (now stalled) attempt on and never reported back."""
    if order.feed_order_status == F.UNKNOWN:
        return True
    return (
        order.feed_order_status == F.PENDING
        and order.feed_order_started_at is not None
        and order.feed_order_requested_at is not None
        and order.feed_order_requested_at < now - FEED_ORDER_STALL_AFTER
    )


# ---------------------------------------------------------------- what the shopper is told


@dataclass(frozen=True)
class ShopperStatus:
    label: str  # the words in the badge
    detail: str = ""  # one or two calm sentences under it
    can_complete_payment: bool = False  # offer *Complete payment* (the checkout is open)

    @property
    def tone(self) -> str:
        """The badge's colour: ok, pending, bad or neutral."""
        return TONES.get(self.label, "neutral")


TONES = {
    "Awaiting payment": "pending",
    "Payment processing": "pending",
    "Processing": "ok",
    "Confirmed": "ok",
    "Payment failed": "bad",
    "Checkout expired": "bad",
    "Cancelled": "neutral",
    "Shipped": "ok",
    "Delivered": "ok",
    "Return requested": "pending",
    "Return approved": "pending",
    "Returned": "neutral",
}


def shopper_status(order, *, payment_processing: bool = False) -> ShopperStatus:
    """The shopper's words for an order (never a supplier error). `payment_processing`: the
    checkout was completed with a delayed method that has not settled yet."""
    if order.status == S.PENDING_PAYMENT:
        if payment_processing:
            return ShopperStatus(
                "Payment processing",
                "Your payment is being processed by your bank. We'll email you when it clears.",
            )
        return ShopperStatus(
            "Awaiting payment",
            "Your checkout is open: complete the payment to buy this diamond.",
            can_complete_payment=True,
        )
    if order.status == S.PAID and order.payment_status == P.AUTHORIZED:
        return ShopperStatus(
            "Processing",
            "Your payment is authorised: we charge your card once your diamond is confirmed.",
        )
    if order.status == S.CANCELLED and order.payment_status == P.VOIDED:
        return ShopperStatus("Cancelled", "This order was cancelled. Your card was not charged.")
    if order.status == S.CONFIRMED and order.fulfilment_status in FULFILMENT_WORDS:
        return FULFILMENT_WORDS[order.fulfilment_status]
    return SHOPPER_WORDS.get(order.status, ShopperStatus("Processing"))


SHOPPER_WORDS = {
    S.PAID: ShopperStatus(
        "Processing", "Payment received. We're preparing your diamond for insured shipping."
    ),
    S.CONFIRMED: ShopperStatus(
        "Confirmed", "Your diamond is confirmed and being prepared for insured shipping."
    ),
    S.FAILED: ShopperStatus(
        "Payment failed", "The payment did not go through. Nothing was charged."
    ),
    S.EXPIRED: ShopperStatus(
        "Checkout expired", "The checkout expired before payment. Nothing was charged."
    ),
    S.CANCELLED: ShopperStatus("Cancelled", "This order was cancelled and refunded."),
}


# A confirmed order on its way to the shopper (or back).
FULFILMENT_WORDS = {
    FU.RECEIVED: ShopperStatus(
        "Confirmed",
        "Your diamond is with us, checked against its grading report, and about "
        "to be shipped insured.",
    ),
    FU.SHIPPED: ShopperStatus(
        "Shipped", "Your diamond is on its way, insured; it needs a signature on delivery."
    ),
    FU.DELIVERED: ShopperStatus("Delivered", "Your diamond has been delivered."),
    FU.RETURN_REQUESTED: ShopperStatus(
        "Return requested",
        "We have your return request and will email you how to send the diamond back.",
    ),
    FU.RETURN_APPROVED: ShopperStatus(
        "Return approved",
        "Send the diamond back as our email explains; we refund you once "
        "it has arrived and been checked.",
    ),
    FU.RETURNED: ShopperStatus(
        "Returned", "We received your diamond back; your refund is on its way."
    ),
}


def all_states() -> list[tuple[str, str, str, str]]:
    """Every combination of the four columns, legal or not (for the tests and the docs)."""
    return list(product(S.values, P.values, F.values, FU.values))


def table_markdown() -> str:
    """The legal combinations and the transition table as Markdown (docs/ARCHITECTURE.md)."""
    lines = [
        "| status | payment_status | feed_order_status | fulfilment_status |",
        "|---|---|---|---|",
    ]
    lines += [f"| `{s}` | `{p}` | `{f}` | `{fu}` |" for s, p, f, fu in sorted(LEGAL)]
    lines += [
        "",
        "| move | from | to | diamond | timeline | guards | what happened |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in TRANSITIONS.values():
        source = "; ".join(
            f"{column} ∈ {{{', '.join(sorted(values))}}}" for column, values in t.source.items()
        )
        target = "; ".join(f"{column} = {value}" for column, value in t.target.items())
        lines.append(
            f"| `{t.name}` | {source or 'any'} | {target or 'unchanged'} | {t.diamond.value} "
            f"| {t.kind or '—'} | {', '.join(t.guard) or '—'} | {t.description} |"
        )
    lines += ["", "| needs attention | when (and not resolved) |", "|---|---|"]
    lines += [f"| `{rule.reason}` | {rule.sentence} |" for rule in ATTENTION_RULES]
    return "\n".join(lines) + "\n"
