"""At 390 px (a phone): the admin's order page and orders list, the catalog with filters
applied, list view and compare never scroll the page sideways, and their labels stay in view.
Screenshots of each."""

import pytest

from tests.browser.conftest import login, screenshot
from tests.factories import DiamondFactory, OrderFactory, StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
NO_SIDEWAYS_SCROLL = """() => ({
    page: document.documentElement.scrollWidth,
    window: window.innerWidth,
})"""


def assert_fits(page):
    fits = page.evaluate(NO_SIDEWAYS_SCROLL)
    assert fits["page"] <= fits["window"], fits


def in_view(page, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]


def test_the_admin_order_page_and_list_fit_a_phone(new_page, live_server):
    order = OrderFactory(
        feed_failed=True,
        payment_status="authorized",
        diamond=DiamondFactory(supplier_stone_id="DEMO-0003", availability="reserved"),
        feed_order_error=(
            "Demo feed refused the order DO-20261203-0002 for stone DEMO-0003 (offer "
            "OFFER-DEMO-0003): the supplier's API answered 503 Service Unavailable."
        ),
    )
    order.events.create(kind="checkout_created", message="Checkout started for a long stone.")
    order.events.create(kind="feed_order_failed", message=order.feed_order_error)
    page = new_page(viewport=PHONE)
    login(page, live_server, StaffFactory(), next_url=f"/admin/orders/order/{order.pk}/change/")

    assert_fits(page)
    timeline = page.locator(".order-timeline")
    assert "The supplier refused the order" in timeline.inner_text()
    detail = timeline.locator(".timeline-message").last
    assert detail.bounding_box()["width"] > 200  # not a few letters a line
    assert in_view(page, page.get_by_role("button", name="Cancel order"))
    screenshot(page, "admin-order-phone")

    page.goto("/admin/orders/order/")
    assert_fits(page)
    row = page.locator("#result_list tbody tr", has_text=order.order_number)
    for field in ("amount_display", "status_badge", "payment_badge"):
        assert in_view(page, row.locator(f".field-{field}")), field
    screenshot(page, "admin-orders-phone")


def test_the_catalog_list_view_and_compare_fit_a_phone(new_page, stones):
    page = new_page(viewport=PHONE)
    page.goto("/")
    page.locator(".filters__summary").click()
    page.get_by_label("Oval", exact=True).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Apply").click()

    assert "shape=OVAL" in page.url
    assert page.locator("details.filters").evaluate("panel => panel.open") is False
    assert "(filters applied)" in page.locator(".filters__summary").inner_text()
    first = page.locator(".diamond-card").first
    assert first.bounding_box()["y"] < PHONE["height"]  # the first result on the first screen
    assert_fits(page)
    screenshot(page, "catalog-filtered-phone")

    page.goto("/?shape=OVAL&view=list")
    assert_fits(page)
    price = page.locator(".diamond-table tbody td.price").first
    assert price.inner_text().startswith("$")
    assert in_view(page, price)
    screenshot(page, "catalog-list-phone")

    for stone in list(stones.values())[:3]:
        page.goto(stone.get_absolute_url())
        page.get_by_role("button", name="Compare").first.click()
        page.wait_for_load_state()
    page.goto("/compare/")
    assert_fits(page)
    scroller = page.locator(".compare-table").locator("xpath=..")
    scroller.evaluate("element => { element.scrollLeft = element.scrollWidth; }")
    label = page.locator(".compare-table tbody th", has_text="Price")
    assert in_view(page, label)
    screenshot(page, "compare-phone")
