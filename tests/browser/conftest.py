"""Playwright in Debian's Chromium against pytest-django's live server.

Fixtures: `browser` (one Chromium per session), `new_page(**context_options)` (a page in a
fresh browser context, pointed at the live server, which is also the STOREFRONT_URL; one per
person in a test), `page` (the first such page), `simulator` (the store as `make run` serves
it: DEBUG on, no Stripe keys, so checkout goes through the local payment simulator), `stones`
(the demo feed's diamonds, imported, by stone id), and helpers `login(page, live_server, user)`,
`pay_in_simulator(page)` and `screenshot(page, name)` (the README's pictures, rewritten each run).
Mark browser tests `@pytest.mark.browser` and `@pytest.mark.django_db(transaction=True)`:
the live server answers from another thread, so test data must be committed.
"""

import os
import re
import shutil
import tempfile
from datetime import UTC
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from catalog.models import Diamond
from feeds.importing import feed_import
from orders.models import Order
from tests.factories import PASSWORD

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a
# thread with a running loop unless told this is fine (it is: nothing here is async).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-dev-shm-usage",
]
TIMEOUT_MS = 15_000
ORDER_NUMBER = re.compile(r"DO-(\d{8})-(\d{4,})")
VIEWPORT = {"width": 1200, "height": 800}
# Where the browser tests save their screenshots: outside the working tree, so a test run
# leaves it clean; `make screenshots` sets SCREENSHOT_DIR=docs/screenshots to refresh the
# README's pictures.
README_SCREENSHOTS = Path(django_settings.BASE_DIR) / "docs" / "screenshots"
SCREENSHOTS = Path(
    os.environ.get("SCREENSHOT_DIR") or Path(tempfile.gettempdir()) / "diamond-store-screenshots"
)

# The ops dashboard's needs-attention highlight, as the browser computes it.
ATTENTION_BG = "rgb(253, 236, 234)"  # --ops-attention-bg #fdecea
ATTENTION_BORDER = "rgb(220, 53, 69)"  # --ops-attention-border #dc3545
ROW_STYLE = """row => {
    const first = row.firstElementChild;
    const cell = getComputedStyle(first);
    return {
        background: getComputedStyle(row).backgroundColor,
        borderColor: cell.borderLeftColor,
        borderStyle: cell.borderLeftStyle,
        borderWidth: cell.borderLeftWidth,
    };
}"""


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not shutil.which(CHROMIUM):
        pytest.fail(f"Browser tests need Debian's Chromium at {CHROMIUM}: run `make browser`.")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, live_server, settings):
    """Opens a page in a new browser context (its own cookies: another person).

    Any Content-Security-Policy violation the browser reports (a blocked script, style or
    form redirect) fails the test.
    """
    settings.STOREFRONT_URL = live_server.url
    contexts, violations = [], []

    def on_console(message):
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    def open_page(**context_options):
        options = {"base_url": live_server.url, "viewport": VIEWPORT, **context_options}
        context = browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("console", on_console)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert violations == [], "Content-Security-Policy violations in the browser"


@pytest.fixture
def page(new_page):
    return new_page()


def screenshot(page, name: str) -> Path:
    """Save the viewport as `<SCREENSHOTS>/<name>.png` (`make screenshots`: the README's)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path, animations="disabled", caret="hide")
    return path


def login(page, live_server, user, *, password=PASSWORD, next_url="/"):
    """Log `user` in through the site's login form; lands on `next_url`."""
    page.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    form = page.locator("form[action='/accounts/login/']")
    form.locator("input[name='username']").fill(user.get_username())
    form.locator("input[name='password']").fill(password)
    with page.expect_navigation():
        form.locator("button[type='submit']").click()
    assert "/accounts/login/" not in page.url, f"login failed for {user.get_username()}"
    return page


@pytest.fixture
def simulator(settings, live_server):
    """The store as `make run` runs it: the payment simulator instead of Stripe."""
    settings.DEBUG = True
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens: Stripe is never called
    settings.STOREFRONT_URL = live_server.url
    settings.DEMO_FEED_FAIL_ORDERS = False


@pytest.fixture
def stones(simulator):
    feed_import(feed="demo")
    return {d.supplier_stone_id: d for d in Diamond.objects.all()}


def pay_in_simulator(page) -> str:
    """Pay now → the success page; returns the order number it shows."""
    with page.expect_navigation():
        page.get_by_role("button", name="Pay now").click()
    assert "/checkout/success/?order=DO-" in page.url
    number = page.locator(".order-number").inner_text()
    match = ORDER_NUMBER.fullmatch(number)
    assert match, number
    order = Order.objects.get(order_number=number)
    # "Payment Successful" only for money taken; a card still only held says so.
    held = order.payment_status == "authorized"
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Payment Authorised" if held else "Payment Successful"
    )
    created = order.created_at
    assert match.group(1) == created.astimezone(UTC).strftime("%Y%m%d")
    return number
