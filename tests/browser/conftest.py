"""Playwright in Debian's Chromium against pytest-django's live server.

Fixtures: `browser` (one Chromium per session), `page` (a fresh context per test, pointed at
the live server, which is also the STOREFRONT_URL), and `login(page, live_server, user)`.
Mark browser tests `@pytest.mark.browser` and `@pytest.mark.django_db(transaction=True)`:
the live server answers from another thread, so test data must be committed.
"""

import os
import shutil

import pytest

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
def page(browser, live_server, settings):
    settings.STOREFRONT_URL = live_server.url
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


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
