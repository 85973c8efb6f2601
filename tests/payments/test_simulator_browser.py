"""The whole purchase journey in Chromium: the simulator with no keys, and the hand-off to
Stripe Checkout (whose page is answered locally: nothing leaves the machine)."""

import pytest

from orders.models import FeedOrderStatus, Order, PaymentStatus, Status
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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
    page, live_server, settings, shopper, demo_diamond
):
    settings.DEBUG = True
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""
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
    assert "Your diamond order is being processed." in main
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID
    assert order.status in (Status.PAID, Status.CONFIRMED)
    assert order.feed_order_status in (FeedOrderStatus.PENDING, FeedOrderStatus.SUCCESS)
    with page.expect_navigation():
        page.get_by_role("link", name="Continue Shopping").click()
    assert page.url == f"{live_server.url}/"
    assert errors == []


def test_the_simulator_expiry_returns_to_the_diamond(
    page, live_server, settings, shopper, demo_diamond
):
    settings.DEBUG = True
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""
    errors = csp_errors_of(page)
    login(page, live_server, shopper, next_url=demo_diamond.get_absolute_url())
    proceed_to_payment(page, demo_diamond)

    with page.expect_navigation():
        page.get_by_role("button", name="Let the session expire").click()

    assert page.url == f"{live_server.url}{demo_diamond.get_absolute_url()}"
    assert Order.objects.get().status == Status.EXPIRED
    assert errors == []


def test_proceed_to_payment_hands_over_to_stripe_checkout(
    page, live_server, stripe_api, shopper, demo_diamond
):
    errors = csp_errors_of(page)
    reached = []

    def stripe_checkout_page(route):
        reached.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<h1>Stripe Checkout</h1>")

    page.route("https://checkout.stripe.com/**", stripe_checkout_page)
    login(page, live_server, shopper, next_url=demo_diamond.get_absolute_url())

    proceed_to_payment(page, demo_diamond)

    order = Order.objects.get()
    assert reached == [order.stripe_checkout_url]
    assert page.url == order.stripe_checkout_url
    assert errors == []
