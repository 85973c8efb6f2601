"""After paying, in a real browser: the success link tells the truth, the order page, My orders
on a phone, and the password reset by email (read back from a real SMTP server)."""

import re

import pytest

from catalog.models import Availability, Diamond
from orders.emails import order_email_render
from orders.models import Order, Status
from tests.browser.conftest import login, screenshot
from tests.factories import PASSWORD, OrderFactory, UserFactory
from tests.smtp import message_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def start_checkout(page, live_server, user, stone):
    login(page, live_server, user, next_url=stone.get_absolute_url())
    page.get_by_role("link", name="Purchase").click()
    with page.expect_navigation():
        page.get_by_role("dialog", name="Confirm & Pay").get_by_role(
            "button", name="Proceed to Payment"
        ).click()
    assert "/checkout/simulator/cs_sim_" in page.url


def click(page, role, name):
    with page.expect_navigation():
        page.get_by_role(role, name=name).click()


def heading(page) -> str:
    return page.get_by_role("heading", level=1).inner_text()


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_delayed_payment_that_fails_shows_payment_failed_on_the_success_link(
    new_page, live_server, stones
):
    stone = stones["DEMO-0004"]
    page = new_page()
    start_checkout(page, live_server, UserFactory(username="delayed"), stone)

    click(page, "button", "Pay by bank transfer (delayed)")
    order = Order.objects.get()
    simulator_url = page.url
    page.goto(  # where Stripe sends the shopper once a delayed method is submitted
        f"/checkout/success/?order={order.order_number}"
        f"&session_id={order.stripe_checkout_session_id}"
    )
    assert heading(page) == "Payment Processing"
    assert "Payment Successful" not in page.locator("main").inner_text()

    page.goto("/account/orders/")  # no second payment invited while it settles
    assert "Payment processing" in page.locator("main").inner_text()
    assert page.get_by_role("button", name=re.compile("Complete payment")).count() == 0

    page.goto(simulator_url)
    click(page, "button", "Fail the transfer")
    click(page, "link", "Go to the success page")

    assert heading(page) == "Payment Failed"
    main = page.locator("main").inner_text()
    assert "Payment Successful" not in main
    assert "you have not been charged" in main
    assert f"{stone.shape.title()} {stone.carats:.2f}ct diamond" in main
    assert f"${stone.price_model_nzd:,.2f} NZD" in main
    order = Order.objects.get()
    assert order.status == Status.FAILED
    screenshot(page, "payment-failed")

    click(page, "button", "Try again")  # a new checkout of the same stone
    assert "/checkout/simulator/cs_sim_" in page.url
    assert Order.objects.filter(diamond=stone, status=Status.PENDING_PAYMENT).count() == 1


def test_the_order_page_from_the_success_page_and_my_orders_on_a_phone(
    new_page, live_server, stones
):
    stone = stones["DEMO-0006"]
    page = new_page()
    start_checkout(page, live_server, UserFactory(username="buyer"), stone)
    click(page, "button", "Pay now")
    assert heading(page) == "Payment Successful"
    number = page.locator(".order-number").inner_text()

    click(page, "link", "your order page")

    assert heading(page) == f"Order {number}"
    main = page.locator("main").inner_text()
    assert "Confirmed" in main
    assert f"${stone.price_model_nzd:,.2f} NZD" in main
    assert "Questions about your order?" in main
    screenshot(page, "order-page")

    phone = new_page(viewport=PHONE)
    login(phone, live_server, Order.objects.get(order_number=number).user, next_url="/")
    phone.goto("/account/orders/")
    assert no_sideways_scroll(phone)
    number_cell = phone.locator(".order-number").first
    assert number_cell.inner_text() == number
    box = number_cell.bounding_box()
    assert box["height"] < 40  # on one line: "DO-20261201-0008", never "DO-/20261201-/0008"
    assert phone.get_by_text("Confirmed", exact=True).first.is_visible()
    screenshot(phone, "my-orders-phone")
    phone.goto(f"/account/orders/{number}/")
    assert no_sideways_scroll(phone)


def test_password_reset_end_to_end(new_page, live_server, smtp_server):
    user = UserFactory(username="forgot", email="forgot@example.com")
    page = new_page()
    page.goto("/accounts/login/")
    click(page, "link", "Forgot your password?")
    page.get_by_label("Email").fill("FORGOT@example.com")
    click(page, "button", "Send reset link")
    assert heading(page) == "Check your email"

    (message,) = smtp_server.wait_for(1)
    assert message["To"] == "forgot@example.com"
    link = re.search(r"http://\S+/accounts/reset/\S+/", message_text(message)).group(0)
    assert link.startswith(live_server.url)

    page.goto(link)
    assert heading(page) == "Choose a new password"
    page.get_by_label(re.compile(r"^New password:?$")).fill("a-brand-new-passphrase-9")
    page.get_by_label("New password confirmation").fill("a-brand-new-passphrase-9")
    click(page, "button", "Set new password")
    assert heading(page) == "Your password has been changed"

    login(page, live_server, user, password="a-brand-new-passphrase-9")
    assert "Signed in as forgot" in page.locator("header").inner_text()
    other = new_page()
    other.goto("/accounts/login/")
    other.get_by_label("Username").fill("forgot")
    other.get_by_label("Password").fill(PASSWORD)
    click(other, "button", "Log in")
    assert "/accounts/login/" in other.url  # the old password no longer works


def test_a_stone_bought_is_not_offered_again(new_page, live_server, stones):
    """A failed payment's Try again is offered only while the stone is for sale."""
    stone = stones["DEMO-0007"]
    page = new_page()
    start_checkout(page, live_server, UserFactory(username="late"), stone)
    click(page, "button", "Pay by bank transfer (delayed)")
    click(page, "button", "Fail the transfer")
    Diamond.objects.filter(pk=stone.pk).update(availability=Availability.SOLD)
    click(page, "link", "Go to the success page")

    assert heading(page) == "Payment Failed"
    assert page.get_by_role("button", name="Try again").count() == 0
    assert "Sorry, this diamond is no longer available." in page.locator("main").inner_text()


def test_the_payment_received_email_as_a_mail_client_shows_it(page, stones, settings):
    """The README's picture of a received email: the HTML part, rendered by the browser."""
    order = OrderFactory(
        user=UserFactory(username="aroha", first_name="Aroha"),
        diamond=stones["DEMO-0006"],
        amount_cents=int(stones["DEMO-0006"].price_model_nzd * 100),
        order_number="DO-20261201-0008",
        status=Status.PAID,
        payment_status="paid",
    )
    order.shipping_name = "Aroha Smith"
    order.shipping_address = {
        "line1": "12 Queen Street",
        "line2": "Level 3",
        "city": "Auckland",
        "state": "",
        "postal_code": "1010",
        "country": "NZ",
    }
    order.shipping_phone = "+64 21 555 123"
    _, _, html = order_email_render(kind="payment_received", order=order)

    page.set_viewport_size({"width": 700, "height": 900})
    page.set_content(html)

    assert page.get_by_role("heading", level=1).inner_text() == (
        "Thank you — we've received your payment"
    )
    assert (
        page.get_by_role("link", name="View your order")
        .get_attribute("href")
        .endswith("/account/orders/DO-20261201-0008/")
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 700
    screenshot(page, "email-payment-received")
