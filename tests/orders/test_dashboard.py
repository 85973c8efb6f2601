"""The ops dashboard (the admin index): its figures against hand-computed fixtures, in the
store's time zone, its links, its charts and its constant number of queries."""

import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from catalog.models import Availability
from orders.admin.charts import daily_chart, funnel_chart, nice_ceiling
from orders.models import Order
from orders.selectors.dashboard import DayPoint, format_duration, ops_dashboard
from orders.states import ATTENTION_RULES
from tests.factories import DiamondFactory, OrderFactory, UserFactory

INDEX = reverse("admin:index")
CHANGELIST = reverse("admin:orders_order_changelist")
# 23:30 on Tuesday 10 March 2026 in Auckland (NZDT, UTC+13); 10:30 the same day in UTC.
NOW = datetime(2026, 3, 10, 10, 30, tzinfo=UTC)
AUCKLAND = "Pacific/Auckland"


def confirmed(paid_at, *, minutes=3, **fields):
    return OrderFactory(
        confirmed=True,
        paid_at=paid_at,
        confirmed_at=paid_at + timedelta(minutes=minutes),
        created_at=paid_at - timedelta(minutes=5),
        **fields,
    )


def rows(response):
    return {order.pk for order in response.context["cl"].result_list}


@pytest.fixture
def logged_in(client, staff):
    client.force_login(staff)
    return client


# ---------------------------------------------------------------- paid and revenue


@pytest.fixture
def week(db):
    """Orders paid over six weeks, with what each counts for (by hand)."""
    return {
        # today: paid, captured 100.00
        "a": confirmed(NOW - timedelta(hours=1), minutes=2, amount_cents=10_000),
        # 3 days ago: 200.00 captured, 50.00 refunded since: 150.00 kept
        "b": confirmed(
            NOW - timedelta(days=3),
            minutes=4,
            amount_cents=20_000,
            payment_status="partially_refunded",
            amount_refunded_cents=5_000,
        ),
        # today: authorised only, not captured: paid, but no revenue yet
        "c": OrderFactory(paid=True, payment_status="authorized", amount_cents=30_000, paid_at=NOW),
        # 10 days ago: 400.00 captured
        "d": confirmed(NOW - timedelta(days=10), minutes=10, amount_cents=40_000),
        # 40 days ago: outside every period
        "e": confirmed(NOW - timedelta(days=40), amount_cents=70_000),
        # 2 days ago, refunded in full: paid, no revenue kept
        "f": OrderFactory(refunded=True, amount_cents=50_000, paid_at=NOW - timedelta(days=2)),
    }


@pytest.mark.django_db
def test_paid_and_revenue_today_7_and_30_days(week):
    periods = {p["key"]: (p["paid"], p["revenue_cents"]) for p in ops_dashboard(now=NOW).periods}
    assert periods == {
        "today": (2, 10_000),
        "7d": (4, 25_000),
        "30d": (5, 65_000),
    }


@pytest.mark.django_db
def test_median_time_from_payment_to_confirmed(week):
    figure = next(f for f in ops_dashboard(now=NOW).figures if f.label.startswith("Median"))
    # a 2 min, b 4 min, d 10 min (e is older than 30 days)
    assert figure.value == "4 min"
    assert "3 confirmed" in figure.note


@pytest.mark.django_db
def test_median_of_an_even_count_is_the_mean_of_the_middle_two():
    for minutes in (1, 3, 7, 100):
        confirmed(NOW - timedelta(hours=2), minutes=minutes)
    figure = next(f for f in ops_dashboard(now=NOW).figures if f.label.startswith("Median"))
    assert figure.value == "5 min"


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(None, "—"), (42, "42 s"), (150, "2 min 30 s"), (3600 * 5 + 60 * 7, "5 h 7 min")],
)
def test_durations_in_words(seconds, words):
    value = None if seconds is None else timedelta(seconds=seconds)
    assert format_duration(value) == words


# ---------------------------------------------------------------- the store's days


@pytest.mark.django_db
@pytest.mark.parametrize("zone", [AUCKLAND, "UTC"])
def test_today_is_the_stores_day(zone):
    # In Auckland "today" began at 11:00 UTC on 9 March; in UTC at 00:00 on 10 March.
    confirmed(datetime(2026, 3, 9, 11, 0, tzinfo=UTC))  # 00:00 on the 10th in Auckland
    confirmed(datetime(2026, 3, 9, 10, 59, tzinfo=UTC))  # 23:59 on the 9th in Auckland
    confirmed(datetime(2026, 3, 10, 0, 30, tzinfo=UTC))
    with override_settings(TIME_ZONE=zone):
        dashboard = ops_dashboard(now=NOW)
    paid_today = dashboard.periods[0]["paid"]
    by_day = {point.day.isoformat(): point.orders for point in dashboard.days if point.orders}
    if zone == AUCKLAND:
        assert paid_today == 2  # 9 March 11:00 UTC and 10 March 00:30 UTC
        assert by_day == {"2026-03-09": 1, "2026-03-10": 2}
    else:
        assert paid_today == 1  # only 10 March 00:30 UTC
        assert by_day == {"2026-03-09": 2, "2026-03-10": 1}
    assert dashboard.timezone_name == zone
    assert len(dashboard.days) == 30
    assert dashboard.days[-1].day.isoformat() == "2026-03-10"


@pytest.mark.django_db
def test_thirty_store_days_across_the_end_of_daylight_saving():
    # NZ daylight saving ends at 03:00 on Sunday 5 April 2026 (that day has 25 hours).
    now = datetime(2026, 4, 6, 10, 0, tzinfo=UTC)  # 22:00 Monday 6 April, NZST
    confirmed(datetime(2026, 4, 5, 11, 30, tzinfo=UTC))  # 23:30 Sunday 5 April, NZST
    confirmed(datetime(2026, 4, 4, 11, 30, tzinfo=UTC))  # 00:30 Sunday 5 April, NZDT
    with override_settings(TIME_ZONE=AUCKLAND):
        dashboard = ops_dashboard(now=now)
    days = [point.day for point in dashboard.days]
    assert len(set(days)) == 30
    assert all(b - a == timedelta(days=1) for a, b in itertools.pairwise(days))
    assert {p.day.isoformat(): p.orders for p in dashboard.days if p.orders} == {"2026-04-05": 2}


# ---------------------------------------------------------------- the other figures


@pytest.mark.django_db
def test_open_checkouts_disputes_expiring_authorisations_and_failure_rate(settings):
    settings.AUTHORIZATION_WARN_HOURS = 120
    OrderFactory.create_batch(2)  # open checkouts
    OrderFactory(expired=True)
    OrderFactory(confirmed=True, dispute_status="needs_response")
    OrderFactory(confirmed=True, dispute_status="won")
    OrderFactory(paid=True, payment_status="authorized", paid_at=NOW - timedelta(hours=121))
    OrderFactory(paid=True, payment_status="authorized", paid_at=NOW - timedelta(hours=100))
    day_ago = NOW - timedelta(days=1)
    # supplier attempts: 1 placed at once, 1 placed on the 3rd attempt, 1 failed twice,
    # 1 running its first attempt (no answer yet), 1 paid too long ago to count
    OrderFactory(confirmed=True, paid_at=day_ago, feed_order_attempt=1)
    OrderFactory(confirmed=True, paid_at=day_ago, feed_order_attempt=3)
    OrderFactory(feed_failed=True, paid_at=day_ago, feed_order_attempt=2)
    OrderFactory(paid=True, paid_at=day_ago, feed_order_requested_at=NOW)
    OrderFactory(feed_failed=True, paid_at=NOW - timedelta(days=31), feed_order_attempt=5)
    figures = {f.label: f for f in ops_dashboard(now=NOW).figures}
    assert figures["Open checkouts"].value == 2
    assert figures["Open disputes"].value == 1
    assert figures["Authorisations near expiry"].value == 1
    # 1 + 3 + 2 attempts answered (the running one is not), 2 placed: 4 of 6 failed
    assert figures["Feed-order failure rate"].value == "67%"
    assert figures["Feed-order failure rate"].note.startswith("4 of 6 supplier-order attempts")


@pytest.mark.django_db
def test_needs_attention_by_reason_follows_the_state_table(staff):
    OrderFactory(feed_failed=True)
    OrderFactory(feed_failed=True)
    OrderFactory(feed_unknown=True)
    OrderFactory(mismatch=True)
    OrderFactory(feed_failed=True, resolved_at=NOW, resolved_by=staff, resolution_note="ok")
    dashboard = ops_dashboard(now=NOW)
    counts = {f.url.split("needs_attention=")[1]: f.value for f in dashboard.attention}
    assert list(counts) == [rule.reason for rule in ATTENTION_RULES]
    assert {reason: n for reason, n in counts.items() if n} == {
        "feed_failed": 2,
        "feed_unknown": 1,
        "payment_mismatch": 1,
    }
    assert dashboard.attention_total == 4
    assert [f.label for f in dashboard.attention] == [r.sentence for r in ATTENTION_RULES]


@pytest.mark.django_db
def test_the_funnel_counts_checkouts_of_the_last_30_days():
    OrderFactory(created_at=NOW - timedelta(days=1))  # open
    OrderFactory(expired=True, created_at=NOW - timedelta(days=2))
    OrderFactory(paid=True, created_at=NOW - timedelta(days=3), paid_at=NOW - timedelta(days=3))
    confirmed(NOW - timedelta(days=4))
    confirmed(NOW - timedelta(days=45))  # too old
    steps = [(label, count) for label, count, _ in ops_dashboard(now=NOW).funnel]
    assert steps == [("Checkouts started", 4), ("Paid", 2), ("Confirmed by the supplier", 1)]


# ---------------------------------------------------------------- the page and its links


@pytest.mark.django_db
def test_every_figure_links_to_the_orders_it_counts(logged_in, settings):
    settings.TIME_ZONE = AUCKLAND
    failed = OrderFactory(feed_failed=True)
    checkout = OrderFactory()
    today = confirmed(datetime.now(UTC) - timedelta(seconds=1))
    old = confirmed(datetime.now(UTC) - timedelta(days=12))
    disputed = OrderFactory(confirmed=True, dispute_status="warning_needs_response")
    html = logged_in.get(INDEX).content.decode()
    hrefs = {
        href.replace("&amp;", "&")
        for href in re.findall(r'<a href="(/admin/orders/order/\?[^"]+)"', html)
    }
    dashboard = ops_dashboard()
    assert {f.url for f in dashboard.attention} <= hrefs
    expected = {
        f"{CHANGELIST}?needs_attention=feed_failed": {failed.pk},
        f"{CHANGELIST}?needs_attention=yes": {failed.pk, disputed.pk},  # an open dispute
        f"{CHANGELIST}?status__exact=pending_payment": {checkout.pk},
        f"{CHANGELIST}?paid=today": {today.pk, disputed.pk, failed.pk},
        f"{CHANGELIST}?paid=30d": {today.pk, old.pk, disputed.pk, failed.pk},
        f"{CHANGELIST}?dispute=open": {disputed.pk},
    }
    for url, wanted in expected.items():
        assert url in hrefs, url
        assert rows(logged_in.get(url)) == wanted, url


@pytest.mark.django_db
def test_the_index_shows_the_dashboard_and_still_the_app_list(logged_in):
    OrderFactory(feed_failed=True)
    html = logged_in.get(INDEX).content.decode()
    for text in [
        "1 order needs attention",
        "How we are doing",
        "Paid orders and revenue per day, last 30 days",
        "Checkout → paid → confirmed, last 30 days",
        "Everything in the admin",
        'href="/admin/orders/order/"',
    ]:
        assert text in html, text


@pytest.mark.django_db
def test_staff_who_may_not_see_orders_get_no_dashboard(client):
    OrderFactory(feed_failed=True)
    client.force_login(UserFactory(is_staff=True))
    html = client.get(INDEX).content.decode()
    assert "How we are doing" not in html and "need attention" not in html


# ---------------------------------------------------------------- a constant number of queries


def _bulk_orders(count: int):
    user, diamond = UserFactory(), DiamondFactory(availability=Availability.SOLD)
    start = Order.objects.count()
    now = datetime.now(UTC)
    Order.objects.bulk_create(
        [
            Order(
                user=user,
                diamond=diamond,
                feed="demo",
                order_number=f"DO-20260101-{start + i:06d}",
                idempotency_key=f"bulk-{start + i}",
                stripe_checkout_session_id=f"cs_test_bulk{start + i}",
                amount_cents=10_000 + i,
                status="confirmed",
                payment_status="paid",
                feed_order_status="success",
                fulfilment_status="awaiting_stone",
                created_at=now - timedelta(hours=i % 700),
                paid_at=now - timedelta(hours=i % 700),
                confirmed_at=now - timedelta(hours=i % 700) + timedelta(minutes=i % 9),
            )
            for i in range(count)
        ]
    )


@pytest.mark.django_db
def test_the_dashboard_takes_four_queries_whatever_the_number_of_orders(
    django_assert_num_queries,
):
    _bulk_orders(1000)
    with django_assert_num_queries(4):
        small = ops_dashboard()
    _bulk_orders(2500)
    with django_assert_num_queries(4):
        large = ops_dashboard()
    assert small.periods[2]["paid"] < large.periods[2]["paid"]


@pytest.mark.django_db
def test_the_index_page_query_count_does_not_grow(logged_in):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert logged_in.get(INDEX).status_code == 200
        return len(queries)

    _bulk_orders(1000)
    small = count()
    _bulk_orders(2500)
    assert count() == small


# ---------------------------------------------------------------- the charts


def _days(values):
    start = datetime(2026, 2, 9).date()
    return [
        DayPoint(day=start + timedelta(days=i), orders=n, revenue_cents=n * 123_400)
        for i, n in enumerate(values)
    ]


@pytest.mark.parametrize(
    ("values", "bars"),
    [([0] * 30, 0), ([0] * 29 + [3], 1), ([i % 4 + 1 for i in range(30)], 30)],
    ids=["no days", "one day", "thirty days"],
)
def test_the_daily_chart_draws_a_bar_per_day_with_data(values, bars):
    chart = daily_chart(_days(values), timezone_name=AUCKLAND)
    orders, revenue = chart.panels
    assert sum(1 for bar in orders.bars if bar.height) == bars
    assert sum(1 for bar in revenue.bars if bar.height) == bars
    assert chart.empty is (bars == 0)
    assert [orders.title, revenue.title] == ["Paid orders", "Revenue (NZD)"]
    assert chart.x_title == "Day (Pacific/Auckland)"
    assert chart.x_ticks[-1].label == "10 Mar"
    for panel in chart.panels:  # every bar inside its panel, on its axis
        for bar in panel.bars:
            assert panel.top <= bar.y and bar.y + bar.height == pytest.approx(
                panel.top + panel.height, abs=0.2
            )
            assert chart.left <= bar.x <= chart.right


@pytest.mark.django_db
@pytest.mark.parametrize("days_with_orders", [0, 1, 30])
def test_the_index_renders_both_charts_and_their_tables(logged_in, settings, days_with_orders):
    now = datetime.now(UTC)
    for day in range(days_with_orders):
        confirmed(now - timedelta(days=day, minutes=30))
    html = logged_in.get(INDEX).content.decode()
    daily = html[html.index('aria-labelledby="daily-chart-title') :]
    daily = daily[: daily.index("</figure>")]
    svg = daily[: daily.index("</svg>")]
    assert svg.count('class="ops-chart__bar"') == 2 * days_with_orders
    assert ("No paid orders in the last 30 days" in svg) is (days_with_orders == 0)
    day_axis = f"Day ({settings.TIME_ZONE})"
    for label in ["Paid orders", "Revenue (NZD)", day_axis, '<title id="daily-chart-title">']:
        assert label in svg
    table = daily[daily.index("<table>") :]
    assert table.count('<th scope="row">') == 30
    assert "<script" not in daily
    funnel = html[html.index('aria-labelledby="funnel-chart-title"') :]
    assert 'class="ops-funnel-table"' in funnel
    assert f"<td>{days_with_orders}</td>" in funnel


def test_the_funnel_shows_shares_of_the_first_step():
    chart = funnel_chart([("Started", 10, "/a"), ("Paid", 5, "/b"), ("Confirmed", 0, "/c")])
    assert [(s.count, s.share, s.width) for s in chart.steps] == [
        (10, "100%", chart.max_width),
        (5, "50%", chart.max_width / 2),
        (0, "0%", 0),
    ]
    empty = funnel_chart([("Started", 0, "/a"), ("Paid", 0, "/b")])
    assert [s.share for s in empty.steps] == ["—", "—"]


@pytest.mark.parametrize(
    ("value", "top"), [(0, 1), (1, 1), (3, 5), (24_690, 25_000), (120, 200), (1000, 1000)]
)
def test_axis_tops_are_round_numbers(value, top):
    assert nice_ceiling(value) == top


@pytest.mark.django_db
def test_the_dashboard_shows_the_money_held_on_cards_and_for_how_long():
    for hours, cents in ((50, 1_000_000), (3, 250_000)):
        OrderFactory(
            paid=True,
            payment_status="authorized",
            amount_cents=cents,
            paid_at=NOW - timedelta(hours=hours),
            created_at=NOW - timedelta(hours=hours, minutes=5),
        )
    OrderFactory(confirmed=True, paid_at=NOW - timedelta(hours=1))  # taken, not held

    held = next(f for f in ops_dashboard(now=NOW).figures if f.label == "Money held on cards")
    assert held.value == "$12,500.00 NZD"
    assert held.note == "2 authorised payment(s) not yet captured; the oldest held for 2 days."
    assert "payment_status__exact=authorized" in held.url
