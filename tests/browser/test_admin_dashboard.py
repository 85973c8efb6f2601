import pytest

from orders.models import FeedOrderStatus, Order, PaymentStatus, Status
from tests.browser.conftest import ATTENTION_BG, ATTENTION_BORDER, ROW_STYLE, login
from tests.factories import DiamondFactory, OrderFactory, StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def row_for(page, order):
    return page.locator("#result_list tbody tr", has_text=order.order_number)


@pytest.fixture
def orders(db):
    failed = OrderFactory(
        diamond=DiamondFactory(supplier_stone_id="DEMO-0002", availability="reserved"),
        status=Status.PAID,
        payment_status=PaymentStatus.PAID,
        feed_order_status=FeedOrderStatus.FAILED,
        stripe_payment_intent_id="pi_test_browser",
        feed_order_error="Demo feed refused the order: supplier API answered 503.",
    )
    confirmed = OrderFactory(
        status=Status.CONFIRMED,
        payment_status=PaymentStatus.PAID,
        feed_order_status=FeedOrderStatus.SUCCESS,
        feed_order_id="FEED-1",
    )
    return failed, confirmed


def test_ops_sees_the_failed_order_highlighted_and_retries_it(page, live_server, orders):
    failed, confirmed = orders
    staff = StaffFactory()
    login(page, live_server, staff, next_url="/admin/")
    assert "1 order needs attention" in page.locator(".attention-banner").inner_text()

    page.locator(".attention-banner a").click()
    page.wait_for_url("**/admin/orders/order/?needs_attention=yes")
    page.goto(f"{live_server.url}/admin/orders/order/")

    attention_row, calm_row = row_for(page, failed), row_for(page, confirmed)
    highlighted = attention_row.evaluate(ROW_STYLE)
    assert highlighted == {
        "background": ATTENTION_BG,
        "borderColor": ATTENTION_BORDER,
        "borderStyle": "solid",
        "borderWidth": "4px",
    }
    calm = calm_row.evaluate(ROW_STYLE)
    assert calm["background"] != ATTENTION_BG
    assert calm["borderWidth"] != "4px"
    rows = page.locator("#result_list tbody tr").all_inner_texts()
    assert failed.order_number in rows[0]

    attention_row.locator("input.action-select").check()
    page.locator("select[name='action']").select_option("retry_feed_order")
    with page.expect_navigation():
        page.locator("button[name='index']").first.click()
    if page.locator("input[name='confirm']").count():
        with page.expect_navigation():
            page.locator("input[type='submit']").click()

    success = page.locator("ul.messagelist li.success").inner_text()
    assert f"{failed.order_number}: confirmed, feed order DEMO-{failed.order_number}" in success
    row = row_for(page, failed)
    assert row.locator(".badge-is-confirmed").count() == 1
    assert row.locator(".needs-attention").count() == 0
    assert row.evaluate(ROW_STYLE)["background"] != ATTENTION_BG

    failed.refresh_from_db()
    assert (failed.status, failed.feed_order_status) == (Status.CONFIRMED, "success")
    retried = failed.events.get(kind="feed_order_retried")
    assert retried.actor == staff
    assert not Order.objects.needs_attention().exists()
