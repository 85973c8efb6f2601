"""The customer's money in a real browser: a card authorised at the test checkout, a supplier
order that fails, ops cancel the order, and the shopper reads *Cancelled* with nothing charged."""

import pytest

from orders.models import FeedOrderStatus, Order, PaymentStatus, Status
from tests.browser.conftest import login, pay_in_simulator, screenshot
from tests.browser.test_journeys import open_confirm_pay, proceed_to_simulator, sign_up
from tests.factories import StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_ops_cancel_a_failed_order_and_the_shopper_sees_cancelled_with_nothing_charged(
    new_page, live_server, stones, settings, ops_group
):
    stone = stones["DEMO-FAIL-0005"]  # the demo supplier always refuses this stone

    shopper = new_page()
    sign_up(shopper, "held")
    shopper.goto(stone.get_absolute_url())
    proceed_to_simulator(shopper, open_confirm_pay(shopper, stone))
    assert "charged when the supplier confirms" in shopper.locator("main").inner_text()
    number = pay_in_simulator(shopper)
    order = Order.objects.get(order_number=number)
    assert (order.status, order.payment_status, order.feed_order_status) == (
        Status.PAID,
        PaymentStatus.AUTHORIZED,
        FeedOrderStatus.FAILED,
    )

    ops = new_page()
    staff = StaffFactory(username="ops-ben", is_superuser=False)
    staff.groups.add(ops_group)
    login(ops, live_server, staff, next_url=f"/admin/orders/order/{order.pk}/change/")
    with ops.expect_navigation():
        ops.get_by_role("button", name="Cancel order").click()
    effect = ops.locator(".order-effect").inner_text()
    assert "not charged" in effect or "released" in effect, effect
    ops.get_by_label("Reason").fill("The supplier sold the stone elsewhere.")
    with ops.expect_navigation():
        ops.get_by_role("button", name="Cancel order").click()
    assert ops.url.endswith(f"/admin/orders/order/{order.pk}/change/")
    assert number in ops.locator("ul.messagelist li").first.inner_text()

    order.refresh_from_db()
    assert (order.status, order.payment_status) == (Status.CANCELLED, PaymentStatus.VOIDED)
    assert order.amount_refunded_cents == 0
    stone.refresh_from_db()
    # The supplier refused this stone: it stays off sale until a feed import lists it.
    assert stone.availability == "unavailable"

    shopper.goto(f"/account/orders/{number}/")
    page_text = shopper.locator("main").inner_text()
    assert "Cancelled" in page_text
    assert "nothing was charged" in page_text or "not charged" in page_text
    assert "refunded" not in page_text.lower()
    screenshot(shopper, "order-cancelled")
