"""The whole journey in a real browser, as `make run` serves it.

DEBUG on and no Stripe keys: *Proceed to Payment* leads to the local payment simulator, whose
signed events go through the real webhook code, and the demo feed places the supplier order.
The catalog is the demo feed's own stones (`feed_import`), the Slack alerts reach the local
Slack double, and the README's screenshots are taken on the way.
"""

import re
from datetime import timedelta
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from catalog.models import Availability, Diamond
from gateway.base import checkout_lifetime
from gateway.models import SimulatedCheckout
from orders.models import FeedOrderStatus, Order, PaymentStatus, Status
from orders.selectors.purchase import RESERVED_BY_OTHER
from tests.browser.conftest import (
    ATTENTION_BG,
    ATTENTION_BORDER,
    ROW_STYLE,
    login,
    pay_in_simulator,
    screenshot,
)
from tests.factories import OrderFactory, StaffFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


# The success page's text (inside <main>) with the order number taken out: the same words
# whatever then happens to the order, once it is paid.
def success_expected(stone, *, held: bool = False) -> str:
    """`held`: the card is only authorised (the supplier has not confirmed): the page says so."""
    top = (
        [
            "Payment Authorised",
            "Order number: DO-… Processing",
            "Your payment is authorised: we charge your card once your diamond is confirmed.",
        ]
        if held
        else [
            "Payment Successful",
            "Order number: DO-… Confirmed",
            "Your diamond is confirmed and being prepared for insured shipping.",
        ]
    )
    return "\n".join(
        [
            *top,
            f"{stone.shape.title()} {stone.carats:.2f}ct diamond",
            f"${stone.price_model_nzd:,.2f} NZD",
            "We'll keep you updated by email; you can follow it on your order page.",
            "Continue Shopping",
        ]
    )


RESERVED = RESERVED_BY_OTHER


def confirm_pay_copy(diamond) -> str:
    return (
        "You'll be redirected to our secure payment provider to complete your purchase of this "
        f"{diamond.shape.title()} {diamond.carats:.2f}ct diamond for "
        f"${diamond.price_model_nzd:,.0f} NZD."
    )


SIGN_UP_PASSWORD = "Mt-Ruapehu-snow-2026"


def sign_up(page, username: str) -> str:
    """A new shopper signs up from the catalog's header, follows the link in the confirmation
    email (the outbox delivers it to Django's in-memory mailbox), is welcomed, and carries on
    to the catalog, logged in. Returns the full name they gave."""
    full_name = f"{username.title()} Ngata"
    email = f"{username}@example.com"
    page.goto("/")
    with page.expect_navigation():
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign up").click()
    page.get_by_label("Full name").fill(full_name)
    page.get_by_label("Email").fill(email)
    page.get_by_label(re.compile(r"^Password:?$")).fill(SIGN_UP_PASSWORD)
    page.get_by_label("Password confirmation").fill(SIGN_UP_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign up").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Check your inbox"

    (message,) = [m for m in mail.outbox if m.to == [email]]
    link = re.search(r"http://\S+/accounts/signup/confirm/\S+", message.body).group(0)
    page.goto(link)
    assert page.get_by_role("heading", level=1).inner_text() == f"Welcome, {full_name}"
    with page.expect_navigation():
        page.get_by_role("link", name="Continue where you were").click()
    assert urlsplit(page.url).path == "/"
    assert f"Signed in as {full_name}" in page.locator("header").inner_text()
    return full_name


def open_confirm_pay(page, diamond):
    """Purchase → the Confirm & Pay dialog, checked against the SPEC's copy."""
    page.get_by_role("link", name="Purchase").click()
    dialog = page.get_by_role("dialog", name="Confirm & Pay")
    dialog.wait_for()
    assert dialog.locator("#confirm-pay-copy").inner_text() == confirm_pay_copy(diamond)
    assert dialog.get_by_role("button", name="Proceed to Payment").is_visible()
    return dialog


def proceed_to_simulator(page, button_scope):
    with page.expect_navigation():
        button_scope.get_by_role("button", name="Proceed to Payment").click()
    assert "/checkout/simulator/cs_sim_" in page.url
    assert page.get_by_role("heading", level=1).inner_text() == "Test checkout"
    assert "Test payment simulator — no real payment" in page.locator("main").inner_text()


def success_text(page, number: str) -> str:
    lines = page.locator("main").inner_text().replace(number, "DO-…").splitlines()
    return "\n".join(line.strip() for line in lines if line.strip())


def my_orders_row(page, number: str) -> str:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My orders").click()
    page.get_by_role("heading", name="My orders").wait_for()
    return page.get_by_role("row").filter(has_text=number).inner_text()


def slack_messages(slack_api, channel: str) -> list[dict]:
    return [m for m in slack_api.messages if m.get("channel") == channel]


def test_a_new_shopper_signs_up_filters_and_buys_a_diamond(page, stones, slack_api):
    sign_up(page, "newshopper")
    assert page.get_by_role("heading", level=1).inner_text() == "Diamonds"
    screenshot(page, "catalog")

    page.get_by_label("Natural", exact=True).check()
    page.get_by_label("Oval", exact=True).check()
    page.get_by_label("From carat").fill("0.7")
    page.get_by_label("To carat").fill("1.1")
    page.get_by_label("To price, NZD").fill("15000")
    with page.expect_navigation():
        page.get_by_role("button", name="Apply").click()
    assert "Showing 1\u20132 of 2 diamonds" in page.locator("main").inner_text()
    titles = page.locator(".diamond-card__title").all_inner_texts()
    assert titles == ["Oval 0.75ct", "Oval 1.00ct"]  # lowest price first

    stone = stones["DEMO-0002"]
    with page.expect_navigation():
        page.get_by_role("link", name="Oval 1.00ct").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Oval 1.00ct Diamond"
    dialog = open_confirm_pay(page, stone)
    screenshot(page, "confirm-pay")

    proceed_to_simulator(page, dialog)
    number = pay_in_simulator(page)
    assert success_text(page, number) == success_expected(stone)
    screenshot(page, "payment-successful")

    assert "Confirmed" in my_orders_row(page, number)
    order = Order.objects.get(order_number=number)
    assert order.user.username == "newshopper"
    assert (order.status, order.payment_status, order.feed_order_status) == (
        Status.CONFIRMED,
        PaymentStatus.PAID,
        FeedOrderStatus.SUCCESS,
    )
    [completed] = slack_messages(slack_api, "#ops")
    assert completed["attachments"][0]["color"] == "#28a745"
    assert number in completed["attachments"][0]["title"]
    assert slack_messages(slack_api, "#errors") == []

    page.goto(stone.get_absolute_url())  # the buyer is told it is theirs, not just "sold"
    assert page.get_by_role("link", name="Purchase").count() == 0
    assert page.get_by_role("status").inner_text() == f"You bought this diamond — order {number}."


def test_a_failed_feed_order_is_invisible_to_the_shopper_and_ops_retry_it(
    new_page, live_server, stones, slack_api, settings
):
    settings.DEMO_FEED_FAIL_ORDERS = True
    stone = stones["DEMO-0013"]
    calm = OrderFactory(
        order_number="DO-20260101-0001",
        diamond=stones["DEMO-0020"],
        status=Status.CONFIRMED,
        payment_status=PaymentStatus.PAID,
        feed_order_status=FeedOrderStatus.SUCCESS,
        fulfilment_status="awaiting_stone",
        feed_order_id="DEMO-FEED-1",
    )

    shopper = new_page()
    sign_up(shopper, "unlucky")
    shopper.goto(stone.get_absolute_url())
    proceed_to_simulator(shopper, open_confirm_pay(shopper, stone))
    number = pay_in_simulator(shopper)
    assert success_text(shopper, number) == success_expected(stone, held=True)

    order = Order.objects.get(order_number=number)
    assert (order.status, order.payment_status, order.feed_order_status) == (
        Status.PAID,
        PaymentStatus.AUTHORIZED,  # the money is held, not taken
        FeedOrderStatus.FAILED,
    )
    assert order.feed_order_error
    [alert] = slack_messages(slack_api, "#errors")
    assert alert["attachments"][0]["color"] == "#dc3545"
    assert number in alert["attachments"][0]["title"]
    row = my_orders_row(shopper, number)
    assert "Processing" in row
    assert order.feed_order_error not in shopper.locator("main").inner_text()

    staff = new_page()
    login(staff, live_server, StaffFactory(username="ops"), next_url="/admin/")
    assert staff.locator("#attention-heading").inner_text() == "1 order needs attention"
    staff.goto("/admin/orders/order/")
    rows = staff.locator("#result_list tbody tr")
    assert number in rows.first.inner_text()
    attention_row = rows.filter(has_text=number)
    assert attention_row.evaluate(ROW_STYLE) == {
        "background": ATTENTION_BG,
        "borderColor": ATTENTION_BORDER,
        "borderStyle": "solid",
        "borderWidth": "4px",
    }
    assert rows.filter(has_text=calm.order_number).evaluate(ROW_STYLE)["background"] != ATTENTION_BG
    screenshot(staff, "admin-needs-attention")

    with staff.expect_navigation():
        attention_row.get_by_role("link", name=number).click()
    assert order.feed_order_error in staff.locator("#content").inner_text()
    settings.DEMO_FEED_FAIL_ORDERS = False  # the supplier is back
    with staff.expect_navigation():
        staff.get_by_role("button", name="Retry feed order").click()
    with staff.expect_navigation():  # the confirmation page: no money moves
        staff.get_by_role("button", name="Retry feed order").click()
    message = staff.locator("ul.messagelist li.success").inner_text()
    assert f"{number}: retried; the supplier confirmed" in message

    order.refresh_from_db()
    assert (order.status, order.feed_order_status) == (Status.CONFIRMED, FeedOrderStatus.SUCCESS)
    assert Diamond.objects.get(pk=stone.pk).availability == Availability.SOLD
    assert not Order.objects.needs_attention().exists()
    [completed] = slack_messages(slack_api, "#ops")
    assert number in completed["attachments"][0]["title"]
    shopper.reload()
    assert "Confirmed" in shopper.get_by_role("row").filter(has_text=number).inner_text()


@pytest.mark.parametrize("expiry", ["simulator button", "reconcile_payments"])
def test_an_expired_checkout_releases_the_stone_to_the_next_shopper(
    new_page, live_server, stones, settings, expiry
):
    stone = stones["DEMO-0019"]
    first, second = new_page(), new_page()
    login(first, live_server, UserFactory(), next_url=stone.get_absolute_url())
    proceed_to_simulator(first, open_confirm_pay(first, stone))
    order = Order.objects.get(diamond=stone)
    assert order.status == Status.PENDING_PAYMENT
    assert Diamond.objects.get(pk=stone.pk).availability == Availability.RESERVED

    login(second, live_server, UserFactory(), next_url=stone.get_absolute_url())
    assert second.get_by_role("link", name="Purchase").count() == 0
    assert second.get_by_role("status").inner_text() == RESERVED

    if expiry == "simulator button":
        with first.expect_navigation():
            first.get_by_role("button", name="Let the session expire").click()
        assert first.url == f"{live_server.url}{stone.get_absolute_url()}"
    else:
        lapsed = timezone.now() - checkout_lifetime() - timedelta(minutes=1)
        Order.objects.filter(pk=order.pk).update(created_at=lapsed)
        # … and at "Stripe" (the simulator keeps its own sessions): the session has lapsed.
        SimulatedCheckout.objects.filter(session_id=order.stripe_checkout_session_id).update(
            expires_at=lapsed + checkout_lifetime()
        )
        out = StringIO()
        call_command("reconcile_payments", stdout=out)
        assert f"{order.order_number}: expired at Stripe (missed webhook); diamond released." in (
            out.getvalue()
        )
        first.reload()
        assert "This test checkout is closed: the order is expired" in first.locator(
            "main"
        ).inner_text().replace("\n", " ")
        assert first.get_by_role("button", name="Pay now").count() == 0

    order.refresh_from_db()
    assert (order.status, order.payment_status) == (Status.EXPIRED, PaymentStatus.EXPIRED)
    assert Diamond.objects.get(pk=stone.pk).availability == Availability.AVAILABLE

    second.reload()
    proceed_to_simulator(second, open_confirm_pay(second, stone))
    number = pay_in_simulator(second)
    assert Order.objects.get(order_number=number).status == Status.CONFIRMED
    assert "Checkout expired" in my_orders_row(first, order.order_number)


def test_the_whole_purchase_works_without_javascript(new_page, live_server, stones):
    page = new_page(java_script_enabled=False)
    stone = stones["DEMO-0009"]
    sign_up(page, "noscript")
    page.goto(stone.get_absolute_url())
    with page.expect_navigation():
        page.get_by_role("link", name="Purchase").click()
    assert page.url == f"{live_server.url}/diamonds/{stone.pk}/purchase/"
    assert page.get_by_role("heading", level=1).inner_text() == "Confirm & Pay"
    assert page.locator("#confirm-pay-copy").inner_text() == confirm_pay_copy(stone)

    proceed_to_simulator(page, page.locator("main"))
    number = pay_in_simulator(page)
    assert success_text(page, number) == success_expected(stone)
    assert "Confirmed" in my_orders_row(page, number)
