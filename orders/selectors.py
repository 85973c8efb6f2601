"""Reads of orders: for shoppers (their own orders, in customer words) and for ops.

`order_shopper_status` is what every shopper page and email shows for an order. Its words
are the state table's (`orders.states.shopper_status`); it adds what only a read can know:
whether the checkout is still open, what was refunded, the badge's tone. Internal detail (the
feed order's state and errors, payment intent ids) never reaches a shopper: a paid order is
"Processing" whatever the supplier order did.
"""

from __future__ import annotations

import contextlib
import re
import uuid
import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone

from accounts.selectors import customer_name
from catalog.models import Availability, Diamond, Feed
from orders.models import FeedOrderStatus, Order, OrderEvent, PaymentStatus, Status
from orders.states import ATTENTION_RULES, OPEN_DISPUTE_STATUSES, attention_q, shopper_status

# The timeline kind `order_note_awaiting_payment` writes: Checkout completed by a delayed
# payment method (e.g. a bank debit) that settles later.
PAYMENT_PROCESSING_EVENT = "payment_processing"


@dataclass(frozen=True)
class ShopperStatus:
    label: str  # the words in the badge
    detail: str  # one or two calm sentences under it
    can_complete_payment: bool  # offer *Complete payment* (the checkout is still open)
    tone: str = "neutral"  # badge colour: ok, pending, bad, neutral


def order_payment_processing(*, order: Order) -> bool:
    """Checkout was completed with a delayed payment method that has not settled yet."""
    if order.status != Status.PENDING_PAYMENT:
        return False
    annotated = getattr(order, "payment_processing", None)
    if annotated is not None:
        return bool(annotated)
    return order.events.filter(kind=PAYMENT_PROCESSING_EVENT).exists()


def order_checkout_open_until(*, order: Order) -> datetime:
    return order.created_at + timedelta(minutes=settings.CHECKOUT_EXPIRY_MINUTES)


def order_refunded_cents(*, order: Order) -> int:
    """What was refunded: the order's own record once it keeps one, else all of it when the
    payment is marked refunded."""
    recorded = getattr(order, "amount_refunded_cents", None)
    if recorded:
        return int(recorded)
    return order.amount_cents if order.payment_status == PaymentStatus.REFUNDED else 0


def time_zone_label() -> str:
    """How shopper pages name the zone their times are in."""
    return {"Pacific/Auckland": "New Zealand time", "UTC": "UTC"}.get(
        settings.TIME_ZONE, f"{settings.TIME_ZONE} time"
    )


def money_display(cents: int, currency: str = "nzd") -> str:
    return f"${cents / 100:,.2f} {currency.upper()}"


# The badge colour for each of the state table's shopper labels.
TONES = {
    "Awaiting payment": "pending",
    "Payment processing": "pending",
    "Processing": "ok",
    "Confirmed": "ok",
    "Payment failed": "bad",
    "Checkout expired": "bad",
    "Cancelled": "neutral",
}


def order_shopper_status(*, order: Order) -> ShopperStatus:
    """The shopper's words for `order`: the state table's, plus what only a read knows."""
    words = shopper_status(order, payment_processing=order_payment_processing(order=order))
    detail, can_complete = words.detail, words.can_complete_payment
    closed = can_complete and timezone.now() >= order_checkout_open_until(order=order)
    if order.status == Status.PENDING_PAYMENT and closed:
        can_complete = False
        detail = "Your checkout has closed without a payment. You have not been charged."
    if order.status == Status.CANCELLED:
        refunded = order_refunded_cents(order=order)
        detail = (
            f"This order was cancelled and {money_display(refunded, order.currency)} was "
            "refunded to your payment method. Refunds usually show within 5 to 10 business "
            "days."
            if refunded
            else "This order was cancelled and nothing was charged."
        )
    return ShopperStatus(words.label, detail, can_complete, tone=TONES.get(words.label, "neutral"))


def shipping_address_lines(*, order: Order) -> list[str]:
    """The order's shipping address as a shopper reads it, one line each (empty parts left
    out); `[]` until the order keeps one."""
    address = getattr(order, "shipping_address", None)
    address = address if isinstance(address, dict) else {}

    def part(name: str) -> str:
        value = address.get(name)
        return value.strip() if isinstance(value, str) else ""

    city = " ".join(p for p in (part("city"), part("postal_code")) if p)
    country = COUNTRY_NAMES.get(part("country"), part("country"))
    lines = [part("line1"), part("line2"), city, part("state"), country]
    if not any(lines[:4]):
        return []
    return [line for line in [order_shipping_name(order=order), *lines] if line]


def order_shipping_name(*, order: Order) -> str:
    """Who the stone ships to: the name given at Checkout, else the customer's own."""
    return (order.shipping_name or "").strip() or customer_name(order.user)


COUNTRY_NAMES = {"NZ": "New Zealand", "AU": "Australia"}
ORDER_NUMBER_SHAPE = re.compile(r"[A-Za-z0-9-]{1,20}")

# The timeline entries a shopper may see, in their words. Everything else (feed orders,
# retries, resolutions, mismatches) is for ops only.
SHOPPER_TIMELINE = {
    "checkout_created": "Order placed",
    "payment_processing": "Payment submitted — waiting for it to settle",
    "paid": "Payment received",
    "authorized": "Payment authorised — charged once your diamond is confirmed",
    "captured": "Order confirmed — payment taken",
    "feed_order_succeeded": "Order confirmed",
    "payment_failed": "Payment failed",
    "checkout_expired": "Checkout expired",
    "refunded": "Refund issued",
    "partially_refunded": "Partial refund issued",
    "voided": "Order cancelled — nothing charged",
}


def order_shopper_timeline(*, order: Order) -> list[tuple[datetime, str]]:
    """When each shopper-visible step happened, oldest first, each step once."""
    seen, steps = set(), []
    for event in order.events.filter(kind__in=SHOPPER_TIMELINE).order_by("created_at", "id"):
        if event.kind not in seen:
            seen.add(event.kind)
            steps.append((event.created_at, SHOPPER_TIMELINE[event.kind]))
    return steps


def order_receipt_url(*, order: Order) -> str:
    """Stripe's receipt for the payment (the charge's `receipt_url`, recorded from the
    `charge.succeeded` / `charge.captured` events), when there is one."""
    url = getattr(order, "stripe_receipt_url", "") or ""
    return url if url.startswith("https://") else ""


def order_list_for_customer(*, user) -> QuerySet[Order]:
    """The shopper's own orders, newest first, with their diamonds."""
    return (
        Order.objects.filter(user=user)
        .select_related("diamond")
        .annotate(
            payment_processing=Exists(
                OrderEvent.objects.filter(order=OuterRef("pk"), kind=PAYMENT_PROCESSING_EVENT)
            )
        )
        .order_by("-created_at", "-order_number")
    )


def order_for_customer(*, user, order_number) -> Order | None:
    """The shopper's own order by number; None for anyone else's (no hint it exists)."""
    if not isinstance(order_number, str) or not ORDER_NUMBER_SHAPE.fullmatch(order_number):
        return None
    return order_list_for_customer(user=user).filter(order_number=order_number).first()


# ---------------------------------------------------------------- the diamond page

RESERVED_BY_OTHER = (
    "Another customer is checking out this diamond. It may become available again shortly."
)
UNAVAILABLE_REASONS = {
    Availability.RESERVED: "This diamond has been reserved by another customer.",
    Availability.SOLD: "This diamond has been sold.",
    Availability.ON_HOLD: (
        "This diamond is on hold with our supplier and can't be purchased right now. "
        "Please check back later."
    ),
    Availability.UNAVAILABLE: "This diamond is no longer available.",
}
NO_PRICE_REASON = "This diamond can't be purchased online right now."


@dataclass(frozen=True)
class PurchaseState:
    """Whether the shopper can buy the stone now and, if not, why (in customer words);
    `order` is the shopper's own order of it, when there is one."""

    purchasable: bool
    reason: str = ""
    own_checkout_open: bool = False
    order: Order | None = None


def diamond_purchase_state(*, diamond: Diamond, user) -> PurchaseState:
    """What the diamond page tells this shopper: their own purchase or open checkout of it,
    "reserved by another customer" only to others."""
    if diamond.availability == Availability.AVAILABLE:
        price = diamond.price
        if price is None or price <= Decimal("0"):
            return PurchaseState(purchasable=False, reason=NO_PRICE_REASON)
        return PurchaseState(purchasable=True)
    live = Order.objects.filter(diamond=diamond, status__in=LIVE_STATUSES).order_by("-created_at")
    own = live.filter(user=user).first() if user.is_authenticated else None
    if own is not None and own.status == Status.PENDING_PAYMENT:
        if order_payment_processing(order=own):
            reason = (
                f"Your payment for this diamond is being processed — order {own.order_number}. "
                "We'll email you as soon as it clears."
            )
            return PurchaseState(purchasable=False, reason=reason, order=own)
        reason = (
            f"Your checkout is open — order {own.order_number}. The diamond is held for you "
            "while you complete the payment."
        )
        return PurchaseState(purchasable=False, reason=reason, own_checkout_open=True, order=own)
    if own is not None:
        return PurchaseState(
            purchasable=False,
            reason=f"You bought this diamond — order {own.order_number}.",
            order=own,
        )
    if (
        diamond.availability == Availability.RESERVED
        and live.filter(status=Status.PENDING_PAYMENT).exists()
    ):
        return PurchaseState(purchasable=False, reason=RESERVED_BY_OTHER)
    return PurchaseState(
        purchasable=False,
        reason=UNAVAILABLE_REASONS.get(
            diamond.availability, UNAVAILABLE_REASONS[Availability.UNAVAILABLE]
        ),
    )


# An order that holds or has bought its diamond.
LIVE_STATUSES = (Status.PENDING_PAYMENT, Status.PAID, Status.CONFIRMED)


# ---------------------------------------------------------------- ops


def order_list_for_ops() -> QuerySet[Order]:
    """Every order with what the dashboard shows, and `attention` for sorting those first."""
    return Order.objects.select_related("user", "diamond", "resolved_by").annotate(
        attention_first=Case(
            When(attention_q(timezone.now()), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def orders_needing_attention_count() -> int:
    return Order.objects.needs_attention().count()


def attention_filter_url() -> str:
    return reverse("admin:orders_order_changelist") + "?needs_attention=yes"


def order_search_q(term: str) -> Q:
    """Orders whose identifiers equal `term`, each compared on its indexed column: order
    number (any case), Checkout Session id, payment intent, diamond id, the supplier's stone
    id, or the customer's email (any case). Stones and customers are looked up first, so the
    orders are found through their indexes, never by scanning every order."""
    q = (
        Q(order_number__in={term, term.upper()})
        | Q(stripe_checkout_session_id=term)
        | Q(stripe_payment_intent_id=term)
    )
    with contextlib.suppress(ValueError):
        q |= Q(diamond_id=uuid.UUID(term))
    stones = Diamond.objects.filter(feed__in=Feed.values, supplier_stone_id=term)
    q |= Q(diamond_id__in=list(stones.values_list("pk", flat=True)))
    if "@" in term:
        customers = get_user_model().objects.filter(email__iexact=term)
        q |= Q(user_id__in=list(customers.values_list("pk", flat=True)))
    return q


def order_timeline(*, order: Order) -> QuerySet[OrderEvent]:
    return order.events.select_related("actor").order_by("created_at", "id")


# ---------------------------------------------------------------- ops: the dashboard

# Money the store has taken and keeps (net of refunds): captured payments.
CAPTURED_PAYMENT = ("paid", "partially_refunded")
CHART_DAYS = 30
# A payment lands at most this long after its checkout started (a Checkout Session lives 24
# hours at most; a delayed method settles within days): the period figures look no further
# back than that before their first day.
PAYMENT_WITHIN = timedelta(days=31)


def store_timezone() -> zoneinfo.ZoneInfo:
    """The store's own time zone (settings.TIME_ZONE): the dashboard's days are its days."""
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def store_day_start(day: date) -> datetime:
    """Midnight at the start of `day` in the store's time zone (DST-safe)."""
    return datetime.combine(day, time.min, tzinfo=store_timezone())


def store_period(days: int, now: datetime) -> tuple[datetime, datetime]:
    """The last `days` store days, today included: [start, end of today)."""
    today = timezone.localtime(now, store_timezone()).date()
    return store_day_start(today - timedelta(days=days - 1)), store_day_start(
        today + timedelta(days=1)
    )


@dataclass(frozen=True)
class Figure:
    label: str
    value: object
    url: str = ""
    note: str = ""
    alert: bool = False
    short: str = ""


@dataclass(frozen=True)
class DayPoint:
    day: date
    orders: int
    revenue_cents: int


@dataclass(frozen=True)
class Dashboard:
    now: datetime
    timezone_name: str
    attention_total: int
    attention: list[Figure]
    periods: list[dict]
    figures: list[Figure]
    days: list[DayPoint]
    funnel: list[tuple[str, int, str]]
    extras: dict = field(default_factory=dict)


def _filter_url(**params) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return reverse("admin:orders_order_changelist") + (f"?{query}" if query else "")


def _rule(reason: str):
    return next((rule for rule in ATTENTION_RULES if rule.reason == reason), None)


def open_dispute_q() -> Q:
    return Q(dispute_status__in=OPEN_DISPUTE_STATUSES)


def authorization_expiring_q(now: datetime) -> Q | None:
    """Authorised payments the state table says are close to expiring (its own rule)."""
    rule = _rule("authorization_expiring")
    return None if rule is None else rule.q(now)


PERIODS = (("today", "Today", 1), ("7d", "Last 7 days", 7), ("30d", "Last 30 days", 30))


def ops_dashboard(*, now: datetime | None = None) -> Dashboard:
    """Every figure on the ops dashboard, from four aggregate queries whatever the number of
    orders: the order counters (with the feed attempts), the needs-attention counts, the 30
    days' series, the median."""
    now = now or timezone.now()
    tz = store_timezone()
    net = F("amount_cents") - F("amount_refunded_cents")
    captured = Q(payment_status__in=CAPTURED_PAYMENT)
    windows = {key: store_period(days, now) for key, _, days in PERIODS}
    start30, end = windows["30d"]

    # The period figures read only orders whose checkout started at most PAYMENT_WITHIN before
    # the 30 days (the `created_at` index), not the whole table.
    recent = Order.objects.filter(created_at__gte=start30 - PAYMENT_WITHIN)
    counters = {
        "created_30d": Count("pk", filter=Q(created_at__gte=start30, created_at__lt=end)),
        "created_30d_paid": Count(
            "pk",
            filter=Q(created_at__gte=start30, created_at__lt=end, paid_at__isnull=False),
        ),
        "created_30d_confirmed": Count(
            "pk",
            filter=Q(created_at__gte=start30, created_at__lt=end, confirmed_at__isnull=False),
        ),
        "confirmed_30d": Count(
            "pk",
            filter=Q(
                paid_at__gte=start30,
                paid_at__lt=end,
                confirmed_at__isnull=False,
                confirmed_at__gte=F("paid_at"),
            ),
        ),
    }
    # Needs attention, open checkouts and open disputes: each rule is tested only on the (few)
    # orders that match one of these, not on every order.
    attention = {
        "attention_total": Count("pk", filter=attention_q(now)),
        "open_checkouts": Count("pk", filter=Q(status=Status.PENDING_PAYMENT)),
        "open_disputes": Count("pk", filter=open_dispute_q()),
    }
    for rule in ATTENTION_RULES:
        attention[f"rule_{rule.reason}"] = Count("pk", filter=rule.q(now))
    # Supplier-order attempts for orders paid in the last 30 days: every attempt but a
    # current one still pending was answered; all but one success per order failed (a
    # refusal, an unknown outcome, or an attempt that stalled and was retried).
    paid30 = Q(paid_at__gte=start30, paid_at__lt=end)
    counters["attempts_30d"] = Sum("feed_order_attempt", filter=paid30)
    counters["in_flight_30d"] = Count(
        "pk", filter=paid30 & Q(feed_order_status=FeedOrderStatus.PENDING, feed_order_attempt__gt=0)
    )
    counters["placed_30d"] = Count(
        "pk", filter=paid30 & Q(feed_order_status=FeedOrderStatus.SUCCESS)
    )
    for key, (start, stop) in windows.items():
        window = Q(paid_at__gte=start, paid_at__lt=stop)
        counters[f"paid_{key}"] = Count("pk", filter=window)
        counters[f"revenue_{key}"] = Sum(net, filter=window & captured)
    expiring = authorization_expiring_q(now)
    if expiring is not None:
        attention["authorizations_expiring"] = Count("pk", filter=expiring)
    watched = attention_q(now) | Q(status=Status.PENDING_PAYMENT) | open_dispute_q()
    totals = {
        **recent.aggregate(**counters),
        **Order.objects.filter(watched).aggregate(**attention),
    }

    per_day = {
        row["day"]: row
        for row in recent.filter(paid_at__gte=start30, paid_at__lt=end)
        .annotate(day=TruncDate("paid_at", tzinfo=tz))
        .values("day")
        .annotate(orders=Count("pk"), revenue=Sum(net, filter=captured))
        .order_by("day")
    }
    first_day = timezone.localtime(start30, tz).date()
    days = [
        DayPoint(
            day=day,
            orders=per_day.get(day, {}).get("orders", 0),
            revenue_cents=per_day.get(day, {}).get("revenue") or 0,
        )
        for day in (first_day + timedelta(days=i) for i in range(CHART_DAYS))
    ]

    median = _median_to_confirmed(recent, start30, end, totals["confirmed_30d"])
    answered = (totals["attempts_30d"] or 0) - totals["in_flight_30d"]
    attempts = {"answered": answered, "failed": answered - totals["placed_30d"]}
    return _dashboard(now, totals, days, median, attempts, windows)


def _median_to_confirmed(orders, start, end, count: int) -> timedelta | None:
    """The median of confirmed_at - paid_at over orders paid in the window (one query: the
    middle one or two rows by duration)."""
    if not count:
        return None
    took = ExpressionWrapper(F("confirmed_at") - F("paid_at"), output_field=DurationField())
    middle = (count - 1) // 2
    rows = list(
        orders.filter(
            paid_at__gte=start,
            paid_at__lt=end,
            confirmed_at__isnull=False,
            confirmed_at__gte=F("paid_at"),
        )
        .annotate(took=took)
        .order_by("took")
        .values_list("took", flat=True)[middle : middle + (1 if count % 2 else 2)]
    )
    if not rows:
        return None
    return sum(rows, timedelta()) / len(rows)


def _period_param(key: str) -> str:
    return f"paid={key}"


def _dashboard(now, totals, days, median, attempts, windows) -> Dashboard:
    attention = [
        Figure(
            label=rule.sentence,
            value=totals[f"rule_{rule.reason}"],
            url=_filter_url(needs_attention=rule.reason),
            alert=bool(totals[f"rule_{rule.reason}"]),
            short=rule.reason.replace("_", " ").capitalize(),
        )
        for rule in ATTENTION_RULES
    ]
    periods = [
        {
            "key": key,
            "label": label,
            "paid": totals[f"paid_{key}"],
            "revenue_cents": totals[f"revenue_{key}"] or 0,
            "url": _filter_url(paid=key),
        }
        for key, label, _ in PERIODS
    ]
    answered, failed = attempts["answered"], attempts["failed"]
    figures = [
        Figure(
            "Open checkouts",
            totals["open_checkouts"],
            _filter_url(status__exact=Status.PENDING_PAYMENT),
            "Awaiting payment; the diamond is reserved meanwhile.",
        ),
        Figure(
            "Median time from payment to confirmed",
            format_duration(median),
            _filter_url(paid="30d", status__exact=Status.CONFIRMED),
            f"Orders paid in the last 30 days ({totals['confirmed_30d']} confirmed).",
        ),
        Figure(
            "Feed-order failure rate",
            "—" if not answered else f"{failed / answered:.0%}",
            _filter_url(paid="30d", feed_order_status__exact=FeedOrderStatus.FAILED),
            f"{failed} of {answered} supplier-order attempts for orders paid in the last 30 "
            "days failed.",
            alert=bool(failed),
        ),
    ]
    figures.append(
        Figure(
            "Open disputes",
            totals["open_disputes"],
            _filter_url(dispute="open"),
            "Answer each before its evidence is due.",
            alert=bool(totals["open_disputes"]),
        )
    )
    if "authorizations_expiring" in totals:
        figures.append(
            Figure(
                "Authorisations near expiry",
                totals["authorizations_expiring"],
                _filter_url(needs_attention="authorization_expiring"),
                "Held payments to capture or cancel before the card issuer releases them.",
                alert=bool(totals["authorizations_expiring"]),
            )
        )
    funnel = [
        ("Checkouts started", totals["created_30d"], _filter_url(created="30d")),
        ("Paid", totals["created_30d_paid"], _filter_url(created="30d", paid="any")),
        (
            "Confirmed by the supplier",
            totals["created_30d_confirmed"],
            _filter_url(created="30d", status__exact=Status.CONFIRMED),
        ),
    ]
    return Dashboard(
        now=now,
        timezone_name=settings.TIME_ZONE,
        attention_total=totals["attention_total"],
        attention=attention,
        periods=periods,
        figures=figures,
        days=days,
        funnel=funnel,
    )


def format_duration(value: timedelta | None) -> str:
    if value is None:
        return "—"
    seconds = int(value.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds and minutes < 10 else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"


def paid_period_q(key: str, now: datetime) -> Q | None:
    """Orders paid in one of the dashboard's periods (store days), for the list filter."""
    days = {k: d for k, _, d in PERIODS}.get(key)
    if days is None:
        return Q(paid_at__isnull=False) if key == "any" else None
    start, end = store_period(days, now)
    return Q(paid_at__gte=start, paid_at__lt=end)


def created_period_q(key: str, now: datetime) -> Q | None:
    days = {k: d for k, _, d in PERIODS}.get(key)
    if days is None:
        return None
    start, end = store_period(days, now)
    return Q(created_at__gte=start, created_at__lt=end)
