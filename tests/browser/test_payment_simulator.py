"""The whole purchase journey in Chromium with the payment simulator (no keys, no network)."""

import pytest

from orders.models import FeedOrderStatus, Order, PaymentStatus, Status
from tests.browser.conftest import login
from tests.factories import DiamondFactory
from tests.payments.conftest import known_demo_stone_ids

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_diamond(db):
    return DiamondFactory(supplier_stone_id=known_demo_stone_ids()[0])


@pytest.fixture
def simulator_on(settings):
    settings.DEBUG = True
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""


def csp_errors_of(page) -> list[str]:
    errors = []
    page.on(
        "console",
        lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return errors


def proceed_to_payment(page, diamond):
    page.get_by_role("link", name="Purchase").click()
    dialog = page.locator("dialog#confirm-pay")
    with page.expect_navigation():
        dialog.get_by_role("button", name="Proceed to Payment").click()


def test_the_simulator_journey_from_purchase_to_success(
    page, live_server, simulator_on, shopper, demo_diamond
):
    errors = csp_errors_of(page)
    login(page, live_server, shopper, next_url=demo_diamond.get_absolute_url())

    proceed_to_payment(page, demo_diamond)

    order = Order.objects.get()
    assert page.url == f"{live_server.url}/checkout/simulator/{order.stripe_checkout_session_id}/"
    assert "no real payment, no card details" in page.locator("main").inner_text()
    with page.expect_navigation():
        page.get_by_role("button", name="Pay now").click()

    assert page.get_by_role("heading", level=1).inner_text() == "Payment Successful"
    main = page.locator("main").inner_text()
    assert order.order_number in main
    assert "Your diamond is confirmed and being prepared for insured shipping." in main
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (Status.CONFIRMED, PaymentStatus.PAID)
    assert order.feed_order_status == FeedOrderStatus.SUCCESS
    with page.expect_navigation():
        page.get_by_role("link", name="Continue Shopping").click()
    assert page.url == f"{live_server.url}/"
    assert errors == []


def test_the_simulator_expiry_returns_to_the_diamond(
    page, live_server, simulator_on, shopper, demo_diamond
):
    errors = csp_errors_of(page)
    login(page, live_server, shopper, next_url=demo_diamond.get_absolute_url())
    proceed_to_payment(page, demo_diamond)

    with page.expect_navigation():
        page.get_by_role("button", name="Let the session expire").click()

    assert page.url == f"{live_server.url}{demo_diamond.get_absolute_url()}"
    assert Order.objects.get().status == Status.EXPIRED
    assert errors == []
