"""The ops cockpit in a real browser: an Ops user lands on the dashboard, follows *needs
attention* to the order, retries it and sees the count drop; the list's highlight; the list
fits 1280 px; axe-core finds nothing on the dashboard, the order page and a confirmation."""

from datetime import timedelta

import pytest
from django.utils import timezone

from orders.models import FeedOrderStatus, Order, OrderEvent, PaymentStatus, Status
from tests.browser.conftest import ATTENTION_BG, ATTENTION_BORDER, ROW_STYLE, login, screenshot
from tests.browser.test_catalog import axe_violations
from tests.factories import DemoDiamondFactory, DiamondFactory, OrderFactory, StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDE = {"width": 1280, "height": 900}


def row_for(page, order):
    return page.locator("#result_list tbody tr", has_text=order.order_number)


@pytest.fixture
def ops_user(ops_group):
    user = StaffFactory(username="ops-anna", is_superuser=False)
    user.groups.add(ops_group)
    return user


@pytest.fixture
def month(db, settings):
    """A month of paid orders in the store's days, an open checkout, and one paid order
    whose feed order failed."""
    settings.TIME_ZONE = "Pacific/Auckland"
    now = timezone.now()
    for day in range(30):
        for n in range(day % 4):
            paid = now - timedelta(days=day, hours=n + 1)
            done = OrderFactory(
                confirmed=True,
                amount_cents=450_000 + 137_000 * n + 9_000 * day,
                created_at=paid - timedelta(minutes=4),
                paid_at=paid,
                confirmed_at=paid + timedelta(minutes=2 + n),
            )
            OrderEvent.objects.create(
                order=done, kind="feed_order_succeeded", created_at=done.confirmed_at
            )
    OrderFactory(expired=True, created_at=now - timedelta(days=3))
    OrderFactory(created_at=now - timedelta(minutes=5))
    error = "Demo feed refused the order: the supplier's API answered 503."
    failed = OrderFactory(
        feed_failed=True,
        diamond=DemoDiamondFactory(availability="reserved"),
        feed_order_error=error,
        paid_at=now - timedelta(minutes=14),
        created_at=now - timedelta(minutes=16),
    )
    for kind, minutes, message in [
        ("checkout_created", 16, "Checkout started."),
        ("paid", 14, "Payment received."),
        ("feed_order_failed", 13, error),
    ]:
        OrderEvent.objects.create(
            order=failed, kind=kind, message=message, created_at=now - timedelta(minutes=minutes)
        )
    return failed


def test_ops_land_on_the_dashboard_follow_needs_attention_retry_and_see_it_drop(
    new_page, live_server, month, ops_user
):
    page = new_page(viewport=WIDE)
    login(page, live_server, ops_user, next_url="/admin/")
    assert page.url == f"{live_server.url}/admin/"
    assert page.locator("#attention-heading").inner_text() == "1 order needs attention"
    assert page.get_by_role("img", name="Paid orders and revenue per day, last 30 days").count()
    screenshot(page, "admin-dashboard")

    reason = page.locator(".attention-reason--alert a")
    assert "The money is taken or held, but the supplier refused the order." in reason.inner_text()
    with page.expect_navigation():
        reason.click()
    assert page.url.endswith("/admin/orders/order/?needs_attention=feed_failed")
    assert page.locator("#result_list tbody tr").count() == 1
    with page.expect_navigation():
        page.get_by_role("link", name=month.order_number).click()

    card = page.locator(".order-card")
    assert (
        "Needs attention: The money is taken or held, but the supplier refused the order."
        in card.inner_text()
    )
    assert "The customer was told\nProcessing" in card.inner_text()
    # the actions are in the first screen, above the error and the timeline
    retry = page.get_by_role("button", name="Retry feed order")
    assert retry.bounding_box()["y"] + retry.bounding_box()["height"] < WIDE["height"]
    screenshot(page, "admin-order")

    with page.expect_navigation():
        retry.click()
    assert "No money moves" in page.locator(".order-effect").inner_text()
    with page.expect_navigation():
        page.get_by_role("button", name="Retry feed order").click()
    assert page.url.endswith(f"/admin/orders/order/{month.pk}/change/")
    message = page.locator("ul.messagelist li.success").inner_text()
    assert f"{month.order_number}: retried; the supplier confirmed" in message
    assert page.locator(".order-card .badge-is-confirmed").count() == 1

    page.goto("/admin/")
    assert page.locator("#attention-heading").inner_text() == "No orders need attention"
    order = Order.objects.get(pk=month.pk)
    assert (order.status, order.feed_order_status) == (Status.CONFIRMED, FeedOrderStatus.SUCCESS)
    assert order.events.get(kind="feed_order_retried").actor.username == "ops-anna"


def test_the_list_highlights_needs_attention_and_fits_1280_pixels(new_page, live_server, ops_user):
    failed = OrderFactory(
        diamond=DiamondFactory(supplier_stone_id="DEMO-0002", availability="reserved"),
        status=Status.PAID,
        payment_status=PaymentStatus.PAID,
        feed_order_status=FeedOrderStatus.FAILED,
        stripe_payment_intent_id="pi_test_browser",
        feed_order_error="Demo feed refused the order: supplier API answered 503.",
        user__email="a.rather.long.customer.name@example.co.nz",
    )
    confirmed = OrderFactory(confirmed=True, feed_order_id="DEMO-DO-20261201-0042")
    OrderFactory(status=Status.PENDING_PAYMENT)
    page = new_page(viewport=WIDE)
    login(page, live_server, ops_user, next_url="/admin/orders/order/")
    assert "1 order needs attention" in page.locator(".attention-banner").inner_text()

    highlighted = row_for(page, failed).evaluate(ROW_STYLE)
    assert highlighted == {
        "background": ATTENTION_BG,
        "borderColor": ATTENTION_BORDER,
        "borderStyle": "solid",
        "borderWidth": "4px",
    }
    calm = row_for(page, confirmed).evaluate(ROW_STYLE)
    assert calm["background"] != ATTENTION_BG and calm["borderWidth"] != "4px"
    assert failed.order_number in page.locator("#result_list tbody tr").first.inner_text()

    fits = page.evaluate(
        """() => {
            const results = document.querySelector('.results');
            const table = document.querySelector('#result_list');
            const last = table.querySelector('thead th:last-child').getBoundingClientRect();
            return {
                table: table.scrollWidth, room: results.clientWidth,
                lastColumnVisible: last.right <= window.innerWidth,
                page: document.documentElement.scrollWidth, window: window.innerWidth,
            };
        }"""
    )
    assert fits["table"] <= fits["room"], fits
    assert fits["lastColumnVisible"] and fits["page"] <= fits["window"], fits
    headers = page.locator("#result_list thead th").all_inner_texts()
    assert [h.strip() for h in headers[1:]] == [
        "ORDER #",
        "CUSTOMER",
        "FEED",
        "DIAMOND",
        "AMOUNT",
        "PAYMENT",
        "FEED ORDER",
        "STATUS",
        "FEED ORDER ID",
        "CREATED",
    ]


def test_axe_finds_nothing_on_the_dashboard_the_order_page_and_a_confirmation(
    new_page, live_server, month, ops_user
):
    # axe-core measures colours by adding inline styles, which the admin's policy forbids.
    page = new_page(viewport=WIDE, bypass_csp=True)
    login(page, live_server, ops_user, next_url="/admin/")
    found = {}
    for path in [
        "/admin/",
        "/admin/orders/order/",
        f"/admin/orders/order/{month.pk}/change/",
    ]:
        page.goto(path)
        found[path] = axe_violations(page)
    page.goto(f"/admin/orders/order/{month.pk}/change/")
    with page.expect_navigation():
        page.get_by_role("button", name="Refund").click()
    found["refund confirmation"] = axe_violations(page)
    assert found == {key: [] for key in found}
