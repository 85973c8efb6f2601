"""Keyboard and screen-reader basics on the storefront, in a real browser."""

import pytest

from tests.browser.conftest import login, pay_in_simulator
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAX_TABS = 40

FOCUSED = """() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    return {
        id: el.id,
        text: (el.innerText || el.value || "").trim(),
        inDialog: !!el.closest("dialog"),
        focusVisible: el.matches(":focus-visible"),
        outline: `${style.outlineStyle} ${style.outlineWidth}`,
    };
}"""

UNLABELLED = """() => {
    const named = el => {
        const labels = Array.from(el.labels || []).map(l => l.textContent).join(" ");
        const by = (el.getAttribute("aria-labelledby") || "").split(/\\s+/)
            .map(id => document.getElementById(id)).filter(Boolean)
            .map(node => node.textContent).join(" ");
        const own = el.tagName === "BUTTON" || el.tagName === "A" ? el.textContent : "";
        return (labels + by + (el.getAttribute("aria-label") || "") + own).trim() !== "";
    };
    const controls = document.querySelectorAll(
        "input:not([type=hidden]), select, textarea, button, a[href], dialog"
    );
    const problems = Array.from(controls).filter(el => !named(el)).map(el => el.outerHTML);
    const images = document.querySelectorAll("img:not([alt])");
    return problems.concat(Array.from(images).map(el => el.outerHTML));
}"""


def focused(page) -> dict:
    return page.evaluate(FOCUSED)


def tab_to(page, text: str) -> dict:
    """Press Tab until the control showing `text` has the focus (as a keyboard user would)."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        now = focused(page)
        if now["text"] == text:
            return now
    raise AssertionError(f"{text!r} was not reached in {MAX_TABS} presses of Tab")


def assert_focus_visible(state: dict):
    assert state["focusVisible"], state
    assert state["outline"] == "solid 3px", state


def test_a_shopper_buys_with_the_keyboard_alone(page, live_server, stones):
    stone = stones["DEMO-0016"]
    login(page, live_server, UserFactory(), next_url=stone.get_absolute_url())

    assert_focus_visible(tab_to(page, "Purchase"))
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Confirm & Pay")
    dialog.wait_for()
    inside = focused(page)
    assert inside["inDialog"] and inside["text"] == "Cancel"
    assert_focus_visible(inside)

    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    back = focused(page)
    assert back["id"] == "purchase-button"
    assert_focus_visible(back)

    page.keyboard.press("Enter")
    dialog.wait_for()
    page.keyboard.press("Tab")
    proceed = focused(page)
    assert proceed["inDialog"] and proceed["text"] == "Proceed to Payment"
    assert_focus_visible(proceed)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/checkout/simulator/" in page.url

    assert_focus_visible(tab_to(page, "Pay now"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_role("heading", level=1).inner_text() == "Payment Successful"


def test_the_skip_link_is_the_first_stop_and_jumps_to_the_content(page, stones):
    page.goto("/")
    page.keyboard.press("Tab")
    skip = focused(page)
    assert skip["text"] == "Skip to main content"
    assert_focus_visible(skip)
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_every_storefront_control_has_a_name(new_page, live_server, stones):
    stone = stones["DEMO-0016"]
    anonymous = new_page()
    for path in ("/", "/?shape=OVAL&carat_min=9", "/accounts/login/", "/accounts/signup/"):
        anonymous.goto(path)
        assert anonymous.evaluate(UNLABELLED) == [], path

    page = new_page()
    login(page, live_server, UserFactory(), next_url=stone.get_absolute_url())
    for path in (stone.get_absolute_url(), f"/diamonds/{stone.pk}/purchase/", "/account/orders/"):
        page.goto(path)
        assert page.evaluate(UNLABELLED) == [], path
    page.goto(stone.get_absolute_url())
    page.get_by_role("link", name="Purchase").click()
    page.get_by_role("button", name="Proceed to Payment").click()
    page.wait_for_url("**/checkout/simulator/**")
    assert page.evaluate(UNLABELLED) == [], page.url
    number = pay_in_simulator(page)
    assert page.evaluate(UNLABELLED) == [], page.url
    page.goto("/account/orders/")
    assert number in page.locator("main").inner_text()
    assert page.evaluate(UNLABELLED) == [], page.url
