import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orders.feed_orders import UNKNOWN_OUTCOME_NOTE
from orders.models import FeedOrderStatus, Order, OrderEvent, PaymentStatus, Status
from tests.factories import OrderFactory, StaffFactory

CHANGELIST = reverse("admin:orders_order_changelist")

PAID_FAILED = {
    "status": Status.PAID,
    "payment_status": PaymentStatus.PAID,
    "feed_order_status": FeedOrderStatus.FAILED,
    "stripe_payment_intent_id": "pi_test_failed",
    "feed_order_error": "Supplier said no: offer DEMO-OFFER-0001 is on hold by another buyer.",
}
CONFIRMED = {
    "status": Status.CONFIRMED,
    "payment_status": PaymentStatus.PAID,
    "feed_order_status": FeedOrderStatus.SUCCESS,
    "fulfilment_status": "awaiting_stone",
    "feed_order_id": "FEED-42",
}


def stalled(minutes=11):
    return {
        "status": Status.PAID,
        "payment_status": PaymentStatus.PAID,
        "feed_order_status": FeedOrderStatus.PENDING,
        "feed_order_requested_at": timezone.now() - timedelta(minutes=minutes),
    }


MISMATCH = {
    "status": Status.PAID,
    "payment_status": PaymentStatus.PAID,
    "feed_order_status": FeedOrderStatus.NOT_ATTEMPTED,
    "feed_order_error": "Not placed: Stripe charged 100 usd (minor units) but the order is for …",
}
REFUNDED = {
    "status": Status.CANCELLED,
    "payment_status": PaymentStatus.REFUNDED,
    "feed_order_status": FeedOrderStatus.FAILED,
}


def resolved(staff):
    return {
        **PAID_FAILED,
        "resolved_at": timezone.now(),
        "resolved_by": staff,
        "resolution_note": "Supplier confirmed by phone.",
    }


def marker(order):
    return f'<span class="needs-attention" title="Needs attention">{order.order_number}</span>'


def rows(response):
    return [order.pk for order in response.context["cl"].result_list]


def message_texts(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def staff_with(*codenames):
    user = StaffFactory(is_superuser=False)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="orders", codename__in=codenames)
    )
    return user


def action_url(order, action):
    return reverse("admin:orders_order_action", args=[order.pk, action])


def run_action(client, action, orders, **extra):
    data = {"action": action, "_selected_action": [str(o.pk) for o in orders], **extra}
    return client.post(CHANGELIST, data, follow=True)


@pytest.fixture
def admin_client_staff(client, staff):
    client.force_login(staff)
    return client


# ---------------------------------------------------------------- list: badges and highlight


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "badges"),
    [
        ({}, ["badge-yellow badge-is-pending", "badge-grey badge-is-not_attempted"]),
        ({}, ["badge-yellow badge-is-pending_payment"]),
        (CONFIRMED, ["badge-green badge-is-paid", "badge-green badge-is-success"]),
        (CONFIRMED, ["badge-green badge-is-confirmed"]),
        (PAID_FAILED, ["badge-green badge-is-paid", "badge-red badge-is-failed"]),
        (
            {"status": Status.EXPIRED, "payment_status": PaymentStatus.EXPIRED},
            ["badge-red badge-is-expired"],
        ),
        (REFUNDED, ["badge-blue badge-is-refunded", "badge-grey badge-is-cancelled"]),
        (
            {"status": Status.PAID, "payment_status": "paid", "feed_order_status": "pending"},
            ["badge-yellow badge-is-pending", "badge-green badge-is-paid"],
        ),
    ],
)
def test_badges_render_with_their_colour(admin_client_staff, fields, badges):
    OrderFactory(**fields)
    html = admin_client_staff.get(CHANGELIST).content.decode()
    for expected in badges:
        assert expected in html


@pytest.mark.django_db
def test_columns_show_number_amount_diamond_and_feed_order_id(admin_client_staff):
    order = OrderFactory(amount_cents=123400, **CONFIRMED)
    html = admin_client_staff.get(CHANGELIST).content.decode()
    for text in [order.order_number, "$1,234.00 NZD", order.diamond.supplier_stone_id, "FEED-42"]:
        assert text in html
    headers = [
        th.strip()
        for th in re.findall(r'<th scope="col"[^>]*>.*?<(?:a|span)[^>]*>([^<]+)<', html, re.S)
    ]
    assert headers == [
        "Order #",
        "Customer",
        "Feed",
        "Diamond",
        "Amount",
        "Payment",
        "Feed Order",
        "Status",
        "Feed Order ID",
        "Created",
    ]


@pytest.mark.django_db
def test_an_order_without_a_number_falls_back_to_its_short_id(admin_client_staff):
    order = OrderFactory(order_number=None)
    assert order.display_number in admin_client_staff.get(CHANGELIST).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("case", "highlighted"),
    [
        ("failed", True),
        ("stalled", True),
        ("mismatch", True),
        ("confirmed", False),
        ("resolved", False),
        ("refunded", False),
        ("pending_recent", False),
        ("awaiting_payment", False),
    ],
)
def test_needs_attention_rows_are_highlighted(admin_client_staff, staff, case, highlighted):
    fields = {
        "failed": PAID_FAILED,
        "stalled": stalled(11),
        "mismatch": MISMATCH,
        "confirmed": CONFIRMED,
        "resolved": resolved(staff),
        "refunded": REFUNDED,
        "pending_recent": stalled(9),
        "awaiting_payment": {},
    }[case]
    order = OrderFactory(**fields)
    html = admin_client_staff.get(CHANGELIST).content.decode()
    assert order.order_number in html
    assert (marker(order) in html) is highlighted
    assert order.needs_attention is highlighted


def test_the_stylesheet_draws_the_highlight_from_the_marker():
    from django.contrib.staticfiles import finders

    with open(finders.find("admin_dashboard/dashboard.css")) as stylesheet:
        css = stylesheet.read()
    assert re.search(r"tr:has\(\.needs-attention\)\s*\{\s*background-color", css)
    assert re.search(r"tr:has\(\.needs-attention\) > :first-child\s*\{\s*border-left", css)


# ---------------------------------------------------------------- list: sort, filter, search


@pytest.mark.django_db
def test_needs_attention_sorts_first_then_newest(admin_client_staff):
    now = timezone.now()
    old_attention = OrderFactory(created_at=now - timedelta(days=3), **PAID_FAILED)
    newest = OrderFactory(created_at=now, **CONFIRMED)
    older = OrderFactory(created_at=now - timedelta(days=1))
    stalled_order = OrderFactory(created_at=now - timedelta(days=5), **stalled())
    response = admin_client_staff.get(CHANGELIST)
    assert rows(response) == [old_attention.pk, stalled_order.pk, newest.pk, older.pk]


@pytest.mark.django_db
def test_needs_attention_filter(admin_client_staff):
    attention = [OrderFactory(**PAID_FAILED), OrderFactory(**MISMATCH)]
    calm = [OrderFactory(**CONFIRMED), OrderFactory()]
    yes = admin_client_staff.get(CHANGELIST, {"needs_attention": "yes"})
    no = admin_client_staff.get(CHANGELIST, {"needs_attention": "no"})
    assert set(rows(yes)) == {o.pk for o in attention}
    assert set(rows(no)) == {o.pk for o in calm}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("status", Status.CONFIRMED),
        ("payment_status", PaymentStatus.PAID),
        ("feed_order_status", FeedOrderStatus.SUCCESS),
    ],
)
def test_status_filters(admin_client_staff, param, value):
    confirmed = OrderFactory(**CONFIRMED)
    OrderFactory()
    response = admin_client_staff.get(CHANGELIST, {param: value})
    assert rows(response) == [confirmed.pk]


@pytest.mark.django_db
def test_feed_and_date_filters(admin_client_staff):
    today = OrderFactory()
    OrderFactory(created_at=timezone.now() - timedelta(days=40))
    # The date filter's own "Today" link: aware midnights, as Django's DateFieldListFilter builds.
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    response = admin_client_staff.get(
        CHANGELIST,
        {
            "feed": "demo",
            "created_at__gte": str(start),
            "created_at__lt": str(start + timedelta(days=1)),
        },
    )
    assert rows(response) == [today.pk]
    assert rows(admin_client_staff.get(CHANGELIST, {"feed": "nivoda"})) == []


@pytest.mark.django_db
def test_search_by_every_identifier(admin_client_staff):
    order = OrderFactory(stripe_payment_intent_id="pi_test_findme", **CONFIRMED)
    OrderFactory()
    for term in [
        order.order_number,
        order.stripe_checkout_session_id,
        "pi_test_findme",
        str(order.diamond.id),
        order.user.email,
    ]:
        assert rows(admin_client_staff.get(CHANGELIST, {"q": term})) == [order.pk], term


@pytest.mark.django_db
def test_search_by_stone_id_and_in_any_case_for_order_number_and_email(admin_client_staff):
    order = OrderFactory(**CONFIRMED)
    OrderFactory()
    for term in [
        order.diamond.supplier_stone_id,
        order.order_number.lower(),
        order.user.email.upper(),
        f"  {order.order_number}  ",
    ]:
        assert rows(admin_client_staff.get(CHANGELIST, {"q": term})) == [order.pk], term


@pytest.mark.django_db
def test_search_matches_whole_identifiers_not_parts_of_them(admin_client_staff):
    order = OrderFactory(stripe_payment_intent_id="pi_test_findme", **CONFIRMED)
    for term in [
        order.order_number[:-1],
        order.stripe_checkout_session_id[:-2],
        "findme",
        str(order.diamond.id)[:8],
        order.user.email.split("@")[0],
        "example.com",
        "not-an-id",
    ]:
        assert rows(admin_client_staff.get(CHANGELIST, {"q": term})) == [], term


@pytest.mark.django_db
def test_search_finds_every_order_of_a_customer_or_a_diamond(admin_client_staff):
    first = OrderFactory(expired=True)
    second = OrderFactory(expired=True, user=first.user, diamond=first.diamond)
    OrderFactory()

    for term in [first.user.email, str(first.diamond.id)]:
        found = rows(admin_client_staff.get(CHANGELIST, {"q": term}))
        assert sorted(found) == sorted([first.pk, second.pk]), term


@pytest.mark.django_db
def test_the_search_help_says_matches_are_exact(admin_client_staff):
    html = admin_client_staff.get(CHANGELIST).content.decode()

    assert (
        "The exact order number, Checkout Session id, payment intent, diamond id, stone id "
        "or customer email." in html
    )


# ---------------------------------------------------------------- banner


@pytest.mark.django_db
def test_banner_counts_orders_needing_attention_on_index_and_changelist(admin_client_staff, staff):
    OrderFactory(**PAID_FAILED)
    OrderFactory(**stalled())
    OrderFactory(**MISMATCH)
    OrderFactory(**CONFIRMED)
    OrderFactory(**resolved(staff))
    link = f'href="{CHANGELIST}?needs_attention=yes"'
    for url in [reverse("admin:index"), CHANGELIST]:
        html = admin_client_staff.get(url).content.decode()
        assert "3 orders need attention" in html
        assert link in html


@pytest.mark.django_db
def test_banner_is_singular_for_one_and_calm_for_none(admin_client_staff):
    html = admin_client_staff.get(CHANGELIST).content.decode()
    assert "No orders need attention." in html
    assert "need attention</strong>" not in html
    OrderFactory(**PAID_FAILED)
    html = admin_client_staff.get(CHANGELIST).content.decode()
    assert "1 order needs attention" in html


# ---------------------------------------------------------------- query count


@pytest.mark.django_db
def test_changelist_query_count_does_not_grow_with_the_page(admin_client_staff, staff):
    def make(n):
        for i in range(n):
            fields = [PAID_FAILED, CONFIRMED, stalled(), MISMATCH, resolved(staff), {}][i % 6]
            OrderFactory(**fields)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            response = admin_client_staff.get(CHANGELIST)
        assert response.status_code == 200
        return len(ctx.captured_queries), len(rows(response))

    make(5)
    small, shown_small = count()
    make(45)
    large, shown_large = count()
    assert (shown_small, shown_large) == (5, 50)
    assert small == large


# ---------------------------------------------------------------- the order page


@pytest.mark.django_db
def test_order_page_is_read_only_with_error_links_and_timeline(admin_client_staff, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_suite"
    error = "Line one of the error\n<b>line two</b> with markup"
    order = OrderFactory(**{**PAID_FAILED, "feed_order_error": error})
    actor = StaffFactory(username="ops-anna")
    OrderEvent.objects.create(order=order, kind="paid", stripe_event_id="evt_test_paid")
    OrderEvent.objects.create(order=order, kind="feed_order_failed", message=error)
    OrderEvent.objects.create(order=order, kind="resolved", message="Checked", actor=actor)

    response = admin_client_staff.get(reverse("admin:orders_order_change", args=[order.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["adminform"].form.fields == {}
    assert '<pre class="feed-error">Line one of the error\n&lt;b&gt;line two&lt;/b&gt;' in html
    assert f"https://dashboard.stripe.com/test/payments/{order.stripe_payment_intent_id}" in html
    assert (
        f"https://dashboard.stripe.com/test/checkout/sessions/{order.stripe_checkout_session_id}"
        in html
    )
    assert reverse("admin:auth_user_change", args=[order.user.pk]) in html
    assert order.diamond.supplier_stone_id in html
    for text in ["evt_test_paid", "feed_order_failed", "ops-anna", "Timeline"]:
        assert text in html
    assert 'name="_save"' not in html


@pytest.mark.django_db
def test_stripe_links_drop_test_for_a_live_key(admin_client_staff, settings):
    settings.STRIPE_SECRET_KEY = "sk_live_example"
    order = OrderFactory(**{**CONFIRMED, "stripe_payment_intent_id": "pi_live_1"})
    html = admin_client_staff.get(reverse("admin:orders_order_change", args=[order.pk])).content
    assert b"https://dashboard.stripe.com/payments/pi_live_1" in html
    assert b"dashboard.stripe.com/test/" not in html


@pytest.mark.django_db
def test_simulated_payments_are_not_linked_to_stripe(admin_client_staff):
    order = OrderFactory(
        **{
            **CONFIRMED,
            "stripe_checkout_session_id": "cs_sim_x",
            "stripe_payment_intent_id": "pi_sim_y",
        }
    )
    html = admin_client_staff.get(reverse("admin:orders_order_change", args=[order.pk])).content
    assert b"dashboard.stripe.com" not in html
    assert b"pi_sim_y <span" in html and b"payment simulator, not in Stripe" in html


@pytest.mark.django_db
def test_orders_cannot_be_added_changed_or_deleted(admin_client_staff):
    order = OrderFactory(**PAID_FAILED)
    assert admin_client_staff.get(reverse("admin:orders_order_add")).status_code == 403
    delete = reverse("admin:orders_order_delete", args=[order.pk])
    assert admin_client_staff.post(delete, {"post": "yes"}).status_code == 403
    change = reverse("admin:orders_order_change", args=[order.pk])
    admin_client_staff.post(change, {"feed_order_status": "success", "feed_order_id": "X"})
    order.refresh_from_db()
    assert (order.feed_order_status, order.feed_order_id) == (FeedOrderStatus.FAILED, "")
    html = admin_client_staff.get(CHANGELIST).content.decode()
    assert 'value="delete_selected"' not in html


@pytest.mark.django_db
def test_order_page_offers_the_actions_the_user_may_run(client):
    order = OrderFactory(**PAID_FAILED)
    client.force_login(staff_with("view_order", "resolve_order"))
    html = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert action_url(order, "resolve") in html
    assert action_url(order, "retry") not in html
    assert action_url(order, "refund") not in html


# ---------------------------------------------------------------- retry


@pytest.mark.django_db
def test_retry_requests_a_new_attempt_and_writes_the_timeline(
    admin_client_staff, staff, django_capture_on_commit_callbacks
):
    order = OrderFactory(**PAID_FAILED)
    with django_capture_on_commit_callbacks() as callbacks:
        response = run_action(admin_client_staff, "retry", [order], confirm="yes")
    order.refresh_from_db()
    assert order.feed_order_status == FeedOrderStatus.PENDING
    assert order.feed_order_started_at is None
    assert len(callbacks) == 1  # the feed-order task, enqueued after commit
    event = order.events.get(kind="feed_order_retried")
    assert event.actor == staff
    texts = message_texts(response)
    assert any(
        "Retried the feed order for 1 order(s)" in t and order.order_number in t for t in texts
    )


@pytest.mark.django_db
def test_retry_reports_skipped_orders_and_why(admin_client_staff):
    failed = OrderFactory(**PAID_FAILED)
    confirmed = OrderFactory(**CONFIRMED)
    mismatch = OrderFactory(**MISMATCH)
    in_progress = OrderFactory(**stalled(2))
    unpaid = OrderFactory()
    response = run_action(
        admin_client_staff,
        "retry",
        [failed, confirmed, mismatch, in_progress, unpaid],
        confirm="yes",
    )
    text = " ".join(message_texts(response))
    assert "Retried the feed order for 1 order(s)" in text
    assert "Skipped 4 order(s)" in text
    assert f"{confirmed.order_number}: order is confirmed" in text
    assert f"{mismatch.order_number}: the payment did not match the order" in text
    assert f"{in_progress.order_number}: a feed-order attempt is in progress" in text
    assert f"{unpaid.order_number}: payment is pending, not paid" in text
    for order in [confirmed, mismatch, in_progress, unpaid]:
        assert not order.events.filter(kind="feed_order_retried").exists()


@pytest.mark.django_db
def test_retry_of_a_stalled_attempt_that_never_started_gives_no_warning(admin_client_staff):
    order = OrderFactory(**stalled(30))
    page = run_action(admin_client_staff, "retry", [order]).content.decode()
    assert order.order_number in page and "could buy the stone twice" not in page
    run_action(admin_client_staff, "retry", [order], confirm="yes")
    assert order.events.filter(kind="feed_order_retried").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("case", ["timeout", "started_and_stalled"])
def test_retry_with_an_unknown_outcome_asks_for_confirmation_first(admin_client_staff, staff, case):
    if case == "timeout":
        fields = {
            **PAID_FAILED,
            "feed_order_status": FeedOrderStatus.UNKNOWN,
            "feed_order_error": f"Read timed out.\n{UNKNOWN_OUTCOME_NOTE}",
        }
    else:
        fields = {**stalled(30), "feed_order_started_at": timezone.now() - timedelta(minutes=29)}
    order = OrderFactory(**fields)
    safe = OrderFactory(**PAID_FAILED)

    response = run_action(admin_client_staff, "retry", [order, safe])
    html = response.content.decode()
    assert response.status_code == 200
    assert "could buy the stone twice" in html
    assert order.order_number in html
    assert 'name="confirm" value="yes"' in html
    assert not OrderEvent.objects.filter(kind="feed_order_retried").exists()

    response = run_action(admin_client_staff, "retry", [order, safe], confirm="yes")
    assert "Retried the feed order for 2 order(s)" in " ".join(message_texts(response))
    for retried in [order, safe]:
        assert retried.events.get(kind="feed_order_retried").actor == staff


# ---------------------------------------------------------------- resolve


@pytest.mark.django_db
def test_mark_resolved_needs_a_note_and_takes_the_order_off_the_list(admin_client_staff, staff):
    order = OrderFactory(**PAID_FAILED)
    page = run_action(admin_client_staff, "resolve", [order])
    assert page.status_code == 200
    assert b"Resolution note" in page.content

    empty = run_action(admin_client_staff, "resolve", [order], confirm="yes", note="  ")
    assert b"This field is required." in empty.content
    order.refresh_from_db()
    assert order.resolved_at is None

    note = "Supplier placed it by phone, order N-123."
    # The money is taken and no supplier order exists: the form asks what happens to it.
    assert b"The customer&#x27;s money" in page.content or b"The customer's money" in page.content
    response = run_action(
        admin_client_staff, "resolve", [order], confirm="yes", note=note, money="keep"
    )
    order.refresh_from_db()
    assert order.resolved_by == staff
    note = f"Money kept: {note}"
    assert order.resolution_note == note
    assert not order.needs_attention
    assert order.status == Status.PAID  # history kept: state untouched
    event = order.events.get(kind="resolved")
    assert (event.actor, event.message) == (staff, note)
    assert any("Marked resolved" in t for t in message_texts(response))
    assert "No orders need attention." in response.content.decode()


@pytest.mark.django_db
def test_mark_resolved_leaves_already_resolved_orders_alone(admin_client_staff, staff):
    order = OrderFactory(**resolved(staff))
    response = run_action(admin_client_staff, "resolve", [order], confirm="yes", note="x")
    order.refresh_from_db()
    assert order.resolution_note == "Supplier confirmed by phone."
    assert any(
        f"{order.order_number}: it is already resolved" in t for t in message_texts(response)
    )


# ---------------------------------------------------------------- permissions


ACTION_PERMISSIONS = [
    ("retry", "retry_feed_order", {"confirm": "yes"}),
    ("resolve", "resolve_order", {"confirm": "yes", "note": "done", "money": "keep"}),
    ("refund", "refund_order", {"confirm": "yes", "release_diamond": "yes", "reason": "x"}),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("action", "permission", "extra"), ACTION_PERMISSIONS)
def test_staff_without_the_permission_can_neither_see_nor_run_the_action(
    client, action, permission, extra
):
    others = [p for _, p, _ in ACTION_PERMISSIONS if p != permission]
    client.force_login(staff_with("view_order", *others))
    order = OrderFactory(**PAID_FAILED)
    html = client.get(CHANGELIST).content.decode()
    assert f'value="{action}"' not in html
    assert "Retry feed order" in html or "Mark resolved" in html  # the others are there

    response = run_action(client, action, [order], **extra)
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.events.count() == 0
    assert (order.feed_order_status, order.payment_status, order.resolved_at) == (
        FeedOrderStatus.FAILED,
        PaymentStatus.PAID,
        None,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("action", "permission", "extra"), ACTION_PERMISSIONS[:2])
def test_staff_with_only_that_permission_can_run_it(client, action, permission, extra):
    user = staff_with("view_order", permission)
    client.force_login(user)
    order = OrderFactory(**PAID_FAILED)
    assert f'value="{action}"' in client.get(CHANGELIST).content.decode()
    run_action(client, action, [order], **extra)
    assert order.events.get().actor == user


@pytest.mark.django_db
def test_staff_without_view_permission_sees_no_orders_and_no_banner(client):
    OrderFactory(**PAID_FAILED)
    client.force_login(staff_with())
    assert client.get(CHANGELIST).status_code == 403
    assert b"need attention" not in client.get(reverse("admin:index")).content


# ---------------------------------------------------------------- the timeline admin


@pytest.mark.django_db
def test_timeline_admin_lists_events_read_only(admin_client_staff):
    order = OrderFactory(**PAID_FAILED)
    event = OrderEvent.objects.create(order=order, kind="paid", stripe_event_id="evt_test_1")
    html = admin_client_staff.get(reverse("admin:orders_orderevent_changelist")).content.decode()
    assert "evt_test_1" in html and order.order_number in html
    change = reverse("admin:orders_orderevent_change", args=[event.pk])
    assert admin_client_staff.get(change).status_code == 200
    assert admin_client_staff.get(reverse("admin:orders_orderevent_add")).status_code == 403
    assert Order.objects.filter(pk=order.pk).exists()


# ---------------------------------------------------------------- date drill-down


@pytest.mark.django_db
def test_the_date_drill_down_goes_year_month_day_without_a_distinct_scan(admin_client_staff):
    from datetime import UTC
    from datetime import datetime as dt

    first = OrderFactory(created_at=dt(2025, 11, 3, 9, tzinfo=UTC))
    OrderFactory(created_at=dt(2025, 11, 20, 9, tzinfo=UTC))
    OrderFactory(created_at=dt(2026, 2, 14, 9, tzinfo=UTC))

    def choices(**params):
        with CaptureQueriesContext(connection) as queries:
            html = admin_client_staff.get(CHANGELIST, params).content.decode()
        assert not any("DISTINCT" in q["sql"] for q in queries.captured_queries)
        start = html.index('<nav class="toplinks">')
        bar = html[start : html.index("</nav>", start)].replace("&amp;", "&")
        return [
            (href, title.replace("&lsaquo;", "").strip())
            for href, title in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', bar)
        ]

    assert [title for _, title in choices()] == ["2025", "2026"]
    months = [title for _, title in choices(created_at__year=2025)]
    assert months == ["All dates", "November 2025"]  # the year's first to last order
    days = choices(created_at__year=2025, created_at__month=11)
    assert days[0][1] == "2025" and days[1][1].startswith("November 3")
    assert len(days) == 1 + 18  # every day from the 3rd to the 20th, empty ones too
    assert rows(
        admin_client_staff.get(
            CHANGELIST, {"created_at__year": 2025, "created_at__month": 11, "created_at__day": 3}
        )
    ) == [first.pk]


@pytest.mark.django_db
def test_pages_split_between_attention_and_the_rest_as_one_sorted_list(admin_client_staff):
    now = timezone.now()
    attention = [OrderFactory(created_at=now - timedelta(hours=i), **PAID_FAILED) for i in range(3)]
    others = [OrderFactory(created_at=now - timedelta(minutes=i)) for i in range(60)]
    expected = [o.pk for o in attention] + [o.pk for o in others]
    first = rows(admin_client_staff.get(CHANGELIST))
    second = rows(admin_client_staff.get(CHANGELIST, {"p": 2}))
    assert first + second == expected
    assert (len(first), len(second)) == (50, 13)
    # filtered lists and other sort orders page the plain way
    assert rows(admin_client_staff.get(CHANGELIST, {"needs_attention": "yes"})) == [
        o.pk for o in attention
    ]
    oldest_first = rows(admin_client_staff.get(CHANGELIST, {"o": "10"}))
    assert oldest_first[0] == attention[-1].pk


@pytest.mark.django_db
def test_the_order_page_shows_where_the_stone_ships(admin_client_staff):
    order = OrderFactory(
        confirmed=True,
        shipping_name="Aroha Smith",
        shipping_address={"line1": "1 Queen Street", "city": "Auckland", "country": "NZ"},
        shipping_phone="+64 21 555 0100",
    )
    html = admin_client_staff.get(
        reverse("admin:orders_order_change", args=[order.pk])
    ).content.decode()
    assert "Aroha Smith, 1 Queen Street, Auckland, New Zealand · +64 21 555 0100" in html
