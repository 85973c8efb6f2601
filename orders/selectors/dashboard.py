"""The ops dashboard's figures (the admin index): needs attention by reason, the period
figures in the store's time zone, the series and the funnel, from a few aggregate queries
whatever the number of orders."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, Q, Sum
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone

from core.money import money_display
from orders.models import FeedOrderStatus, Order, PaymentStatus, Status
from orders.states import (
    ATTENTION_RULES,
    OPEN_DISPUTE_STATUSES,
    attention_q,
    authorization_warn_after,
)

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
    # Money held on customers' cards (authorised, not captured), and since when.
    held = Q(status=Status.PAID, payment_status=PaymentStatus.AUTHORIZED)
    attention["held_count"] = Count("pk", filter=held)
    attention["held_cents"] = Sum("amount_cents", filter=held)
    attention["held_since"] = Min("paid_at", filter=held)
    watched = attention_q(now) | Q(status=Status.PENDING_PAYMENT) | open_dispute_q() | held
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
    held_since = totals["held_since"]
    figures.append(
        Figure(
            "Money held on cards",
            money_display(totals["held_cents"] or 0, "nzd"),
            _filter_url(status__exact=Status.PAID, payment_status__exact=PaymentStatus.AUTHORIZED),
            (
                f"{totals['held_count']} authorised payment(s) not yet captured; the oldest "
                f"held for {format_duration(now - held_since)}."
                if held_since
                else "No payment is held."
            ),
            alert=bool(held_since and now - held_since > authorization_warn_after()),
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
