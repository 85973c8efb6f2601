"""From confirmed to delivered and back, in a real browser: ops receive the stone, ship it
(carrier and tracking number) and mark it delivered; the shopper follows the progress line to
the carrier's tracking link, reads each email once (from the test SMTP server), asks to return
the stone; ops approve the return and receive it, and Stripe's double records exactly one
refund."""

import json
from collections import Counter
from decimal import Decimal

import pytest
from django.test import Client

from orders.models import FulfilmentStatus, Order, PaymentStatus, Status
from tests.browser.conftest import login, screenshot
from tests.browser.test_after_paying import PHONE, heading, no_sideways_scroll
from tests.doubles.stripe import post_event, stripe_event
from tests.factories import DemoDiamondFactory, StaffFactory, UserFactory
from tests.payments.conftest import login as client_login
from tests.smtp import message_text, subject_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TRACKING = "EG123456789NZ"


def confirmed_order(stripe_api) -> Order:
    """A shopper's order paid at Stripe (the double) and confirmed by the demo supplier."""
    buyer = UserFactory(username="mere", first_name="Mere", last_name="Tane")
    stone = DemoDiamondFactory(price_model_nzd=Decimal("8450.00"))
    response = client_login(buyer).post(
        "/api/v2/checkout/create",
        data=json.dumps({"diamond_id": str(stone.pk)}),
        content_type="application/json",
    )
    order = Order.objects.get(order_number=response.json()["orderNumber"])
    address = {"line1": "12 Kauri Road", "city": "Wellington", "postal_code": "6011"}
    session = stripe_api.complete(
        order.stripe_checkout_session_id,
        shipping={"name": "Mere Tane", "address": {**address, "country": "NZ"}},
    )
    event = stripe_event("checkout.session.completed", session)
    assert post_event(Client(), event).status_code == 200
    order.refresh_from_db()
    assert (order.status, order.fulfilment_status) == (
        Status.CONFIRMED,
        FulfilmentStatus.AWAITING_STONE,
    )
    return order


def ops_action(page, button: str, *, confirm: str | None = None, **fields):
    """On the admin order page: the action's button, its confirmation page (fields filled),
    confirm; returns the outcome message."""
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()
    for label, value in fields.items():
        control = page.get_by_label(label.replace("_", " "), exact=False)
        if value is True:
            control.check()
        elif control.evaluate("e => e.tagName") == "SELECT":
            control.select_option(label=value)
        else:
            control.fill(value)
    with page.expect_navigation():
        page.get_by_role("button", name=confirm or button).click()
    return page.locator("ul.messagelist li").first.inner_text()


def test_receive_ship_deliver_return_and_one_refund(
    new_page, live_server, stripe_api, smtp_server, settings, ops_group
):
    settings.CHECKOUT_CAPTURE = "automatic"
    settings.STOREFRONT_URL = live_server.url
    order = confirmed_order(stripe_api)
    number = order.order_number
    smtp_server.wait_for(2)  # payment received, order confirmed

    ops = new_page(viewport={"width": 1280, "height": 900})
    staff = StaffFactory(username="ops-ana", is_superuser=False)
    staff.groups.add(ops_group)
    admin_url = f"/admin/orders/order/{order.pk}/change/"
    login(ops, live_server, staff, next_url=admin_url)

    outcome = ops_action(
        ops, "Receive stone", The_stone_matches_its_grading_report=True, Note="Inscription ok."
    )
    assert number in outcome and "received and checked" in outcome
    with ops.expect_navigation():
        ops.get_by_role("button", name="Ship").click()
    ops.get_by_label("Carrier").select_option(label="NZ Post")
    ops.get_by_label("Tracking number").fill(TRACKING)
    screenshot(ops, "admin-ship")
    with ops.expect_navigation():
        ops.get_by_role("button", name="Ship").click()
    outcome = ops.locator("ul.messagelist li").first.inner_text()
    assert f"tracking number {TRACKING}" in outcome
    assert ops.url.endswith(admin_url)
    outcome = ops_action(ops, "Mark delivered")
    assert "delivered" in outcome

    # The shopper: the progress line, dated, and the carrier's tracking link.
    shopper = new_page(viewport={"width": 1280, "height": 900})
    login(shopper, live_server, order.user, next_url=f"/account/orders/{number}/")
    progress = shopper.locator(".order-progress")
    labels = progress.locator(".progress-line__label").all_inner_texts()
    assert labels == ["Ordered", "Confirmed", "With us", "Shipped", "Delivered"]
    assert progress.locator(".progress-line__step--done").count() == 5
    assert progress.locator("time").count() == 5
    link = progress.get_by_role("link", name="track your parcel")
    assert link.get_attribute("href") == f"https://www.nzpost.co.nz/tools/tracking/item/{TRACKING}"
    assert heading(shopper) == f"Order {number}"
    assert "Delivered" in shopper.locator(".order-page__status").inner_text()
    progress.scroll_into_view_if_needed()
    screenshot(shopper, "order-progress")

    phone = new_page(viewport=PHONE)
    login(phone, live_server, order.user, next_url=f"/account/orders/{number}/")
    assert no_sideways_scroll(phone)
    phone.locator(".order-progress").scroll_into_view_if_needed()
    screenshot(phone, "order-progress-phone")

    # Each mail once: on its way (with the tracking link), delivered.
    mails = smtp_server.wait_for(4)
    on_its_way = next(m for m in mails if "on its way" in subject_of(m))
    assert f"https://www.nzpost.co.nz/tools/tracking/item/{TRACKING}" in message_text(on_its_way)

    # The shopper asks to return it.
    shopper.get_by_text("Request a return").click()
    shopper.get_by_label("Why are you returning it?").fill("The colour is not what I hoped.")
    with shopper.expect_navigation():
        shopper.get_by_role("button", name="Send return request").click()
    assert "return request is with us" in shopper.locator("ul.messages").inner_text()
    assert "Return requested" in shopper.locator(".order-page__status").inner_text()
    assert shopper.get_by_text("Request a return").count() == 0

    # Ops approve it, then receive it: one refund at Stripe, the stone kept off sale.
    ops.goto(admin_url)
    assert "asked to return the stone" in ops.locator("main, #content").first.inner_text()
    outcome = ops_action(ops, "Approve return")
    assert "how to send the stone back" in outcome
    with ops.expect_navigation():
        ops.get_by_role("button", name="Receive return").click()
    assert "refunded $8,450.00 NZD" in ops.locator(".order-effect").inner_text()
    ops.get_by_label("Keep it off sale").check()
    with ops.expect_navigation():
        ops.get_by_role("button", name="Receive return").click()
    outcome = ops.locator("ul.messagelist li").first.inner_text()
    assert "return received; refunded $8,450.00 NZD" in outcome, outcome

    (refund,) = stripe_api.refunds.values()
    assert refund["amount"] == order.amount_cents == 845_000
    assert len(stripe_api.calls("POST", "/v1/refunds")) == 1
    order.refresh_from_db()
    assert (order.status, order.payment_status, order.fulfilment_status) == (
        Status.CANCELLED,
        PaymentStatus.REFUNDED,
        FulfilmentStatus.RETURNED,
    )
    assert order.diamond.availability == "sold"

    shopper.reload()
    status = shopper.locator(".order-page__status").inner_text()
    assert "Returned" in status and "$8,450.00 NZD" in status

    # Every mail once: received, confirmed, on its way, delivered, return approved, refund.
    mails = smtp_server.wait_for(6)
    subjects = Counter(subject_of(m) for m in mails)
    assert subjects == Counter(
        {
            f"We've received your payment — order {number}": 1,
            f"Your order is confirmed — order {number}": 1,
            f"Your diamond is on its way — order {number}": 1,
            f"Your diamond has been delivered — order {number}": 1,
            f"Your return is approved: how to send it back — order {number}": 1,
            f"Your refund of $8,450.00 NZD — order {number}": 1,
        }
    )
    approved = next(m for m in mails if "return is approved" in subject_of(m))
    assert "insured, tracked courier" in message_text(approved)
