"""The Purchase → Confirm & Pay dialog in a real browser, with and without script."""

from decimal import Decimal

import pytest

from tests.browser.conftest import TIMEOUT_MS, login
from tests.factories import DiamondFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COPY = (
    "You'll be redirected to our secure payment provider to complete your purchase of this "
    "Round 1.01ct diamond for $12,345 NZD."
)


@pytest.fixture
def stone(db):
    return DiamondFactory(
        shape="ROUND", carats=Decimal("1.01"), price_model_nzd=Decimal("12345.00"), image_url=""
    )


def active_element(page) -> dict:
    return page.evaluate(
        """() => ({
            id: document.activeElement.id,
            text: document.activeElement.textContent.trim(),
            inDialog: !!document.activeElement.closest("dialog"),
        })"""
    )


def test_dialog_opens_traps_focus_and_closes_on_escape_and_cancel(page, live_server, stone):
    csp_errors = []
    page.on(
        "console",
        lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    login(page, live_server, UserFactory(), next_url=stone.get_absolute_url())
    dialog = page.locator("dialog#confirm-pay")
    purchase = page.get_by_role("link", name="Purchase")

    assert not dialog.is_visible()
    purchase.click()

    assert dialog.is_visible()
    assert dialog.get_by_role("heading").inner_text() == "Confirm & Pay"
    assert COPY in dialog.inner_text()
    assert dialog.get_by_role("button", name="Proceed to Payment").is_visible()
    assert active_element(page)["inDialog"]
    assert "/purchase/" not in page.url

    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    assert active_element(page)["id"] == "purchase-button"

    purchase.click()
    dialog.get_by_role("button", name="Cancel").click()
    dialog.wait_for(state="hidden")
    assert active_element(page)["id"] == "purchase-button"

    form = dialog.locator("form")
    assert form.get_attribute("action") == "/checkout/create/"
    assert form.locator("input[name='diamond_id']").get_attribute("value") == str(stone.pk)
    assert csp_errors == []


def test_without_script_purchase_opens_the_confirmation_page(browser, live_server, stone):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        login(page, live_server, UserFactory(), next_url=stone.get_absolute_url())
        with page.expect_navigation():
            page.get_by_role("link", name="Purchase").click()

        assert page.url.endswith(f"/diamonds/{stone.pk}/purchase/")
        assert page.get_by_role("heading", level=1).inner_text() == "Confirm & Pay"
        assert COPY in page.locator("main").inner_text()
        assert page.get_by_role("button", name="Proceed to Payment").is_visible()
    finally:
        context.close()


def test_anonymous_purchase_goes_to_login_and_back(page, live_server, stone):
    page.goto(stone.get_absolute_url())
    with page.expect_navigation():
        page.get_by_role("link", name="Purchase").click()

    assert "/accounts/login/?next=" in page.url
    assert f"/diamonds/{stone.pk}/purchase/" in page.url
