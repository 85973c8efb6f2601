"""The order page's actions: a button exactly when the action applies, a confirmation page
saying what happens to the customer's money, the true outcome afterwards, and the admin
history (LogEntry) of each run."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.messages import constants, get_messages
from django.urls import reverse
from django.utils import timezone

from catalog.models import Availability
from orders.models import Order
from tests.factories import DemoDiamondFactory, OrderFactory, simulated_payment
from tests.orders.test_admin import staff_with

ALL = ["retry", "capture", "cancel", "refund", "resolve"]
LABELS = {
    "retry": "Retry feed order",
    "capture": "Capture payment",
    "cancel": "Cancel order",
    "refund": "Refund",
    "resolve": "Mark resolved",
}


def page_of(order):
    return reverse("admin:orders_order_change", args=[order.pk])


def action_url(order, action):
    return reverse("admin:orders_order_action", args=[order.pk, action])


def buttons(client, order) -> list[str]:
    html = client.get(page_of(order)).content.decode()
    card = html[html.index('class="order-card') : html.index("Timeline</h2>")]
    found = re.findall(r'<form method="post" action="[^"]+/do/([a-z]+)/"', card)
    for name in found:
        assert f">{LABELS[name]}</button>" in card
    return found


def messages_of(response):
    return [(m.level, str(m)) for m in get_messages(response.wsgi_request)]


def confirm(client, order, action, **data):
    return client.post(action_url(order, action), {"confirm": "yes", **data}, follow=True)


@pytest.fixture
def logged_in(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def simulator(settings):
    """Payments through the local simulator (pi_sim_… ids): capture, void and refund."""
    settings.DEBUG = True
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""


def sim(**fields):
    return simulated_payment(OrderFactory(**fields))


# ---------------------------------------------------------------- which buttons


STATES = {
    "open checkout": ({}, []),
    "expired": ({"expired": True}, []),
    "paid, feed order failed": ({"feed_failed": True}, ["retry", "cancel", "refund", "resolve"]),
    "authorised, feed order failed": (
        {"feed_failed": True, "payment_status": "authorized"},
        ["retry", "cancel", "resolve"],
    ),
    "authorised, supplier confirmed, capture failed": (
        {
            "paid": True,
            "payment_status": "authorized",
            "feed_order_status": "success",
            "payment_error": "Capture failed: card_declined",
        },
        ["capture", "cancel", "resolve"],
    ),
    "paid, feed order running": ({"paid": True}, ["cancel", "refund"]),
    "paid, amount mismatch": ({"mismatch": True}, ["cancel", "refund", "resolve"]),
    "confirmed": ({"confirmed": True}, ["cancel", "refund"]),
    "partially refunded": (
        {"confirmed": True, "payment_status": "partially_refunded", "amount_refunded_cents": 100},
        ["cancel", "refund"],
    ),
    "refunded": ({"refunded": True}, []),
    "voided": ({"feed_failed": True, "status": "cancelled", "payment_status": "voided"}, []),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(STATES))
def test_a_button_shows_exactly_when_its_action_applies(logged_in, case):
    fields, expected = STATES[case]
    order = OrderFactory(**fields)
    assert buttons(logged_in, order) == expected


@pytest.mark.django_db
def test_a_resolved_order_offers_no_mark_resolved(logged_in, staff):
    order = OrderFactory(
        feed_failed=True, resolved_at=timezone.now(), resolved_by=staff, resolution_note="ok"
    )
    assert buttons(logged_in, order) == ["retry", "cancel", "refund"]


@pytest.mark.django_db
def test_a_retry_waits_while_an_attempt_is_in_progress(logged_in):
    running = OrderFactory(paid=True, feed_order_requested_at=timezone.now())
    stalled = OrderFactory(paid=True, feed_order_requested_at=timezone.now() - timedelta(hours=1))
    assert "retry" not in buttons(logged_in, running)
    assert buttons(logged_in, stalled)[0] == "retry"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("permission", "action"),
    [
        ("retry_feed_order", "retry"),
        ("cancel_order", "cancel"),
        ("refund_order", "refund"),
        ("resolve_order", "resolve"),
    ],
)
def test_each_button_needs_its_own_permission(client, permission, action):
    order = OrderFactory(feed_failed=True)
    client.force_login(staff_with("view_order", permission))
    assert buttons(client, order) == [action]
    others = [name for name in ALL if name != action]
    for other in others:
        assert client.post(action_url(order, other)).status_code == 403


@pytest.mark.django_db
def test_the_order_page_leads_with_the_summary(logged_in):
    order = OrderFactory(feed_failed=True, amount_cents=123_400)
    html = logged_in.get(page_of(order)).content.decode()
    card = html[html.index('class="order-card') : html.index("Timeline</h2>")]
    for text in [
        order.order_number,
        "$1,234.00 NZD",
        order.user.email,
        order.diamond.supplier_stone_id,
        "badge-is-paid",
        "badge-is-failed",
        "Needs attention:</strong> The money is taken or held, but the supplier refused the order.",
        "The customer was told</dt><dd><strong>Processing</strong>",
    ]:
        assert text in card, text
    # the error and the timeline before the raw fields, which are collapsed
    assert html.index('<pre class="feed-error">') < html.index('<details class="order-raw">')
    assert html.index("Timeline</h2>") < html.index('<details class="order-raw">')


# ---------------------------------------------------------------- confirmation pages


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "action", "says", "destructive"),
    [
        ({"feed_failed": True}, "retry", "No money moves. The customer's payment of", False),
        (
            {"feed_failed": True, "payment_status": "authorized"},
            "cancel",
            "the customer is not charged",
            True,
        ),
        ({"feed_failed": True}, "cancel", "The customer is refunded $12,345.00 NZD", True),
        ({"feed_failed": True}, "refund", "Money goes back to the customer's card", True),
        (
            {
                "paid": True,
                "payment_status": "authorized",
                "feed_order_status": "success",
                "payment_error": "x",
            },
            "capture",
            "The customer's card is charged $12,345.00 NZD now",
            False,
        ),
        (
            {"feed_failed": True},
            "resolve",
            "$12,345.00 NZD is taken and no supplier order exists: choose below",
            False,
        ),
        (
            {"confirmed": True, "dispute_status": "needs_response"},
            "resolve",
            "No money moves.",
            False,
        ),
    ],
)
def test_each_action_confirms_its_effect_on_the_money_first(
    logged_in, fields, action, says, destructive
):
    order = OrderFactory(**fields)
    before = Order.objects.values().get(pk=order.pk)
    page = logged_in.post(action_url(order, action))
    html = unescape(page.content.decode())
    assert page.status_code == 200
    assert "What this does to the customer's money" in html
    assert says in html
    assert ('class="order-actions__button--danger"' in html) is destructive
    assert 'name="confirm" value="yes"' in html and "csrfmiddlewaretoken" in html
    assert Order.objects.values().get(pk=order.pk) == before
    assert not LogEntry.objects.exists()


@pytest.mark.django_db
def test_an_action_url_does_nothing_on_get(logged_in):
    order = OrderFactory(feed_failed=True)
    response = logged_in.get(action_url(order, "retry"))
    assert response.status_code == 302 and response["Location"] == page_of(order)
    assert not order.events.exists()


@pytest.mark.django_db
def test_an_action_that_does_not_apply_is_refused_with_the_reason(logged_in):
    order = OrderFactory(confirmed=True)
    response = confirm(logged_in, order, "retry")
    assert response.redirect_chain[-1][0] == page_of(order)
    assert messages_of(response) == [
        (
            constants.WARNING,
            f"Retry feed order: not available for {order.order_number}: order is confirmed.",
        )
    ]
    assert not order.events.filter(kind="feed_order_retried").exists()


@pytest.mark.django_db
def test_a_retry_whose_outcome_is_unknown_warns_it_could_buy_twice(logged_in):
    order = OrderFactory(feed_unknown=True)
    html = logged_in.post(action_url(order, "retry")).content.decode()
    assert "could buy the stone twice" in html
    assert "Yes, I checked with the supplier: retry" in html


# ---------------------------------------------------------------- outcomes and history


def log_of(order):
    return list(
        LogEntry.objects.filter(object_id=str(order.pk)).values_list(
            "action_flag", "change_message", "user__username"
        )
    )


# The task runs as the retry commits, as with the in-process backend in production.
@pytest.mark.django_db(transaction=True)
def test_a_retry_that_succeeds_says_so_and_is_in_the_history(logged_in, staff):
    order = OrderFactory(feed_failed=True, diamond=DemoDiamondFactory(availability="reserved"))
    response = confirm(logged_in, order, "retry")
    order.refresh_from_db()
    assert order.status == "confirmed"
    message = (
        f"{order.order_number}: retried; the supplier confirmed, feed order {order.feed_order_id}."
    )
    assert response.redirect_chain[-1][0] == page_of(order)
    assert messages_of(response) == [(constants.SUCCESS, message)]
    assert log_of(order) == [(CHANGE, f"Retry feed order: {message}", staff.username)]
    history = logged_in.get(reverse("admin:orders_order_history", args=[order.pk]))
    assert f"Retry feed order: {message}" in history.content.decode()


# The task runs as the retry commits, as with the in-process backend in production.
@pytest.mark.django_db(transaction=True)
def test_a_retry_that_fails_again_is_a_warning(logged_in, settings):
    settings.DEMO_FEED_FAIL_ORDERS = True
    order = OrderFactory(feed_failed=True, diamond=DemoDiamondFactory(availability="reserved"))
    response = confirm(logged_in, order, "retry")
    order.refresh_from_db()
    assert (order.status, order.feed_order_status, order.feed_order_attempt) == (
        "paid",
        "failed",
        2,
    )
    ((level, text),) = messages_of(response)
    assert level == constants.WARNING
    assert text.startswith(f"{order.order_number}: retried, but the feed order failed again: ")
    assert "Demo feed refused the order" in text
    assert log_of(order)[0][1] == f"Retry feed order: {text}"
    assert 'class="warning"' in response.content.decode()


@pytest.mark.django_db
def test_a_retry_left_to_the_worker_says_it_is_queued(logged_in):
    order = OrderFactory(feed_failed=True)
    response = confirm(logged_in, order, "retry")  # the task runs after commit, not here
    ((level, text),) = messages_of(response)
    assert level == constants.INFO
    assert "retry queued; the worker places the feed order shortly" in text


@pytest.mark.django_db
def test_a_partial_refund_keeps_the_order(logged_in, staff, simulator):
    order = sim(confirmed=True)
    form = logged_in.post(action_url(order, "refund")).content.decode()
    assert 'name="amount"' in form and 'value="12345.00"' in form
    response = confirm(
        logged_in, order, "refund", amount="100.00", release_diamond="no", reason="x"
    )
    order.refresh_from_db()
    assert (order.status, order.payment_status, order.amount_refunded_cents) == (
        "confirmed",
        "partially_refunded",
        10_000,
    )
    ((level, text),) = messages_of(response)
    assert level == constants.SUCCESS
    assert text.startswith(f"{order.order_number}: refunded $100.00 NZD so far (refund re_sim_")
    assert text.endswith("; $12,245.00 NZD is kept.")
    assert log_of(order) == [(CHANGE, f"Refund: {text}", staff.username)]


@pytest.mark.django_db
def test_the_rest_refunded_cancels_the_order(logged_in, simulator):
    order = sim(feed_failed=True, amount_refunded_cents=345, payment_status="partially_refunded")
    response = confirm(
        logged_in, order, "refund", amount="12341.55", release_diamond="yes", reason="x"
    )
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("cancelled", "refunded")
    ((level, text),) = messages_of(response)
    assert level == constants.SUCCESS
    assert "refunded in full ($12,345.00 NZD" in text
    assert "the diamond is back on sale" in text
    assert order.diamond.availability == Availability.AVAILABLE


@pytest.mark.django_db
def test_a_refund_above_what_is_left_is_refused_by_the_form(logged_in, simulator):
    order = sim(confirmed=True)
    page = confirm(logged_in, order, "refund", amount="99999.00", release_diamond="no", reason="x")
    assert "Ensure this value is less than or equal to 12345" in page.content.decode()
    order.refresh_from_db()
    assert order.payment_status == "paid" and not LogEntry.objects.exists()


@pytest.mark.django_db
def test_a_refund_stripe_refuses_is_an_error_and_changes_nothing(logged_in, stripe_api, settings):
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    stripe_api.fail("POST", "/v1/refunds", status=402, message="Charge already disputed.")
    order = OrderFactory(confirmed=True)
    response = confirm(logged_in, order, "refund", release_diamond="no", reason="x")
    ((level, text),) = messages_of(response)
    assert level == constants.ERROR
    assert "Charge already disputed." in text and "Nothing was changed." in text
    order.refresh_from_db()
    assert order.payment_status == "paid"
    assert log_of(order)[0][1] == f"Refund: {text}"


@pytest.mark.django_db
def test_capture_confirms_the_order(logged_in, staff, simulator):
    order = sim(
        paid=True,
        payment_status="authorized",
        feed_order_status="success",
        payment_error="Capture failed: timeout",
    )
    response = confirm(logged_in, order, "capture")
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("confirmed", "paid")
    message = f"{order.order_number}: captured $12,345.00 NZD; the order is confirmed."
    assert messages_of(response) == [(constants.SUCCESS, message)]
    assert log_of(order) == [(CHANGE, f"Capture payment: {message}", staff.username)]


@pytest.mark.django_db
def test_cancel_releases_the_authorisation(logged_in, simulator):
    order = sim(feed_failed=True, payment_status="authorized")
    response = confirm(logged_in, order, "cancel", reason="Supplier sold it elsewhere.")
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("cancelled", "voided")
    ((level, text),) = messages_of(response)
    assert level == constants.SUCCESS
    assert text.startswith(
        f"{order.order_number}: cancelled; the authorisation was released and the customer "
        "was not charged"
    )
    assert order.events.filter(kind="voided").exists()


@pytest.mark.django_db
def test_cancel_needs_a_reason(logged_in, simulator):
    order = sim(feed_failed=True, payment_status="authorized")
    page = confirm(logged_in, order, "cancel", reason="")
    assert b"This field is required." in page.content
    order.refresh_from_db()
    assert order.payment_status == "authorized"


@pytest.mark.django_db
def test_mark_resolved_writes_the_note_and_the_history(logged_in, staff):
    order = OrderFactory(feed_failed=True)
    response = confirm(
        logged_in, order, "resolve", note="Supplier placed it by phone.", money="keep"
    )
    order.refresh_from_db()
    assert order.resolved_by == staff
    assert order.resolution_note == "Money kept: Supplier placed it by phone."
    assert messages_of(response) == [(constants.SUCCESS, f"{order.order_number}: marked resolved.")]
    assert log_of(order) == [
        (CHANGE, f"Mark resolved: {order.order_number}: marked resolved.", staff.username)
    ]


# The task runs as the retry commits, as with the in-process backend in production.
@pytest.mark.django_db(transaction=True)
def test_the_bulk_retry_reports_a_failure_as_a_warning_too(logged_in, settings):
    settings.DEMO_FEED_FAIL_ORDERS = True
    order = OrderFactory(feed_failed=True, diamond=DemoDiamondFactory(availability="reserved"))
    data = {"action": "retry", "_selected_action": [str(order.pk)], "confirm": "yes"}
    response = logged_in.post(reverse("admin:orders_order_changelist"), data, follow=True)
    ((level, text),) = messages_of(response)
    assert level == constants.WARNING
    assert "failed again" in text
    assert log_of(order)[0][1].startswith("Retried the feed order: ")


@pytest.mark.django_db
def test_a_payment_error_and_a_dispute_are_shown_before_the_timeline(logged_in):
    order = OrderFactory(
        paid=True,
        payment_status="authorized",
        feed_order_status="success",
        payment_error="Capture failed: card_declined",
        dispute_status="needs_response",
    )
    html = logged_in.get(page_of(order)).content.decode()
    assert '<pre class="feed-error">Capture failed: card_declined</pre>' in html
    assert "Stripe says <strong>needs response</strong>" in html
    assert html.index("Payment error</h2>") < html.index("Timeline</h2>")


@pytest.mark.django_db
def test_what_stripe_reported_is_shown_where_the_attention_points(logged_in):
    problem = "Stripe reports that refund re_1 of $100.00 NZD failed (declined)."
    order = OrderFactory(confirmed=True, stripe_mismatch=problem)
    html = unescape(logged_in.get(page_of(order)).content.decode())
    assert "Stripe reported something the order's books cannot match." in html
    assert "What Stripe reported</h2>" in html
    assert f"<p>{problem} Check the payment in Stripe:" in html
    assert html.index("What Stripe reported</h2>") < html.index("Timeline</h2>")


# ---------------------------------------------------------------- resolving with money at stake


def feed_refused(**fields) -> Order:
    """A paid (or authorised) order whose supplier refused it, as the worker leaves it."""
    order = sim(feed_failed=True, **fields)
    order.events.create(kind="feed_order_failed", message="Supplier said no.")
    return order


@pytest.mark.django_db
def test_resolving_a_held_payment_asks_and_can_release_the_hold(logged_in, simulator):
    order = feed_refused(payment_status="authorized")
    page = unescape(logged_in.post(action_url(order, "resolve")).content.decode())
    assert "Release the hold of $12,345.00 NZD" in page and "Keep it" in page

    assert b"This field is required." in confirm(logged_in, order, "resolve", note="x").content
    assert Order.objects.get(pk=order.pk).resolved_at is None

    response = confirm(logged_in, order, "resolve", note="Stone gone.", money="release")
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("cancelled", "voided")
    assert order.resolved_at is not None
    assert messages_of(response)[-1] == (
        constants.SUCCESS,
        f"{order.order_number}: cancelled (hold released) and marked resolved.",
    )
    # The supplier refused the stone: it stays off sale until a feed import lists it.
    assert order.diamond.availability == Availability.UNAVAILABLE


@pytest.mark.django_db
def test_resolving_money_taken_offers_a_full_refund(logged_in, simulator):
    order = feed_refused()
    page = unescape(logged_in.post(action_url(order, "resolve")).content.decode())
    assert "Refund $12,345.00 NZD in full" in page and "Release the hold" not in page

    confirm(logged_in, order, "resolve", note="Stone gone.", money="refund")
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("cancelled", "refunded")
    assert order.resolved_at is not None
    assert order.diamond.availability == Availability.UNAVAILABLE


@pytest.mark.django_db
def test_a_cancelled_order_whose_supplier_never_saw_it_releases_the_stone(logged_in, simulator):
    order = sim(mismatch=True, payment_status="authorized")
    confirm(logged_in, order, "cancel", reason="Wrong amount.")
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert order.diamond.availability == Availability.AVAILABLE


@pytest.mark.django_db
def test_the_timeline_speaks_words_and_an_authorised_order_is_not_a_green_paid(logged_in):
    order = OrderFactory(feed_failed=True, payment_status="authorized")
    order.events.create(kind="feed_order_failed", message="Supplier said no.")
    html = logged_in.get(page_of(order)).content.decode()
    timeline = html[html.index("Timeline</h2>") :]
    assert "The supplier refused the order" in timeline
    assert "<code>feed_order_failed</code>" not in timeline
    assert "badge-green badge-is-paid" not in html
    assert "badge-yellow badge-is-pending" in html and ">Authorised<" in html
