"""From confirmed to delivered and back: the admin actions (Ops group, confirmation page,
timeline, admin history, outcome), the shopper's progress line and return request, the emails
(once each) and Slack, the return's one refund, the dashboard's queues."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from catalog.models import Availability
from notifications.models import Category, Notification
from orders.checks import check_carriers
from orders.emails import order_email_render
from orders.fulfilment import order_return_request
from orders.invoices import order_invoice
from orders.models import FulfilmentStatus, Order, PaymentStatus, Status
from orders.money import order_mark_refunded, order_refund
from orders.selectors.fulfilment import fulfilment_queues
from tests.doubles.stripe import post_event, stripe_event
from tests.factories import DemoDiamondFactory, OrderFactory, StaffFactory, UserFactory
from tests.payments.conftest import login

FU = FulfilmentStatus


@pytest.fixture
def ops(db, ops_group):
    user = StaffFactory()
    user.groups.add(ops_group)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def act(django_capture_on_commit_callbacks):
    """POST an order action as ops would; what it queues after its commit (the emails'
    tasks) runs."""

    def post(client, order, action, **form):
        url = reverse("admin:orders_order_action", args=[order.pk, action])
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, form, follow=True)

    return post


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def emails(order, kind_words):
    return Notification.objects.filter(
        category=Category.ORDER_EMAIL, reference=order.order_number, title__contains=kind_words
    )


@pytest.mark.django_db
def test_ops_receive_ship_and_deliver_each_after_a_confirmation_page(act, ops):
    order = OrderFactory(confirmed=True)

    page = act(ops, order, "receive-stone")
    assert page.status_code == 200
    assert "matches its grading report" in page.content.decode()
    missing = act(ops, order, "receive-stone", confirm="yes")
    assert b"This field is required." in missing.content
    order.refresh_from_db()
    assert order.fulfilment_status == FU.AWAITING_STONE

    done = act(ops, order, "receive-stone", confirm="yes", checked="on", note="Inscription ok.")
    assert any("received and checked" in m for m in messages_of(done))
    order.refresh_from_db()
    assert order.fulfilment_status == FU.RECEIVED and order.received_at is not None

    form = act(ops, order, "ship").content.decode()
    assert "NZ Post" in form and "CourierPost" in form and 'name="tracking_number"' in form
    shipped = act(ops, order, "ship", confirm="yes", carrier="nzpost", tracking_number=" EG1 ")
    (message,) = messages_of(shipped)
    assert "https://www.nzpost.co.nz/tools/tracking/item/EG1" in message
    order.refresh_from_db()
    assert (order.fulfilment_status, order.carrier, order.tracking_number) == (
        FU.SHIPPED,
        "nzpost",
        "EG1",
    )
    # Shipping twice (a second click) changes nothing and says so.
    again = act(ops, order, "ship", confirm="yes", carrier="nzpost", tracking_number="EG2")
    assert "not available" in messages_of(again)[0]

    act(ops, order, "deliver", confirm="yes")
    order.refresh_from_db()
    assert order.fulfilment_status == FU.DELIVERED and order.delivered_at is not None

    kinds = list(order.events.values_list("kind", flat=True))
    assert kinds[-3:] == ["stone_received", "shipped", "delivered"]
    history = LogEntry.objects.filter(object_id=str(order.pk)).values_list(
        "change_message", flat=True
    )
    assert {h.split(":")[0] for h in history} == {"Receive stone", "Ship", "Mark delivered"}
    assert emails(order, "on its way").count() == 1
    assert emails(order, "delivered").count() == 1
    (slack,) = Notification.objects.filter(category=Category.ORDER_FULFILMENT)
    assert slack.title == f"Order {order.order_number} shipped"


@pytest.mark.django_db
def test_a_user_outside_the_ops_group_may_not_ship(act, client):
    order = OrderFactory(received=True)
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(viewer)
    response = act(client, order, "ship", confirm="yes", carrier="nzpost", tracking_number="X")
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.fulfilment_status == FU.RECEIVED


@pytest.mark.django_db
def test_ship_is_not_a_bulk_action(ops):
    page = ops.get(reverse("admin:orders_order_changelist")).content.decode()
    assert 'value="receive-stone"' in page and 'value="ship"' not in page


@pytest.mark.django_db
def test_the_on_its_way_email_carries_the_tracking_link():
    order = OrderFactory(shipped=True, carrier="courierpost", tracking_number="CP 77")
    subject, text, html = order_email_render(kind="order_shipped", order=order)
    assert subject == f"Your diamond is on its way — order {order.order_number}"
    link = "https://trackandtrace.courierpost.co.nz/search/CP%2077"
    assert link in text and f'href="{link}"' in html


@pytest.mark.django_db
def test_the_return_approved_email_says_how_to_send_it_back(settings):
    settings.STORE_ADDRESS = "Level 2, 10 Example Street, Auckland 1010"
    order = OrderFactory(delivered=True, fulfilment_status=FU.RETURN_APPROVED)
    _, text, _ = order_email_render(kind="return_approved", order=order)
    assert "Level 2\n   10 Example Street\n   Auckland 1010" in text
    assert "$12,345.00 NZD" in text and order.order_number in text


# ---------------------------------------------------------------- the shopper


@pytest.mark.django_db
def test_the_order_page_shows_the_progress_line_with_dates_and_the_tracking_link():
    order = OrderFactory(shipped=True, tracking_number="EG123")
    page = login(order.user).get(f"/account/orders/{order.order_number}/").content.decode()
    for step in ("Ordered", "Confirmed", "With us", "Shipped", "Delivered"):
        assert f'<span class="progress-line__label">{step}</span>' in page
    assert page.count("progress-line__step--done") == 4
    assert 'href="https://www.nzpost.co.nz/tools/tracking/item/EG123"' in page
    assert "Request a return" not in page  # not delivered yet


@pytest.mark.django_db
def test_no_progress_line_before_payment():
    order = OrderFactory()
    page = login(order.user).get(f"/account/orders/{order.order_number}/").content.decode()
    assert "progress-line" not in page


@pytest.mark.django_db
def test_the_shopper_requests_a_return_with_a_reason_within_return_days(settings):
    settings.RETURN_DAYS = 30
    order = OrderFactory(delivered=True)
    client = login(order.user)
    url = f"/account/orders/{order.order_number}/return/"
    assert (
        "Request a return" in client.get(f"/account/orders/{order.order_number}/").content.decode()
    )

    client.post(url, {"reason": "   "})
    order.refresh_from_db()
    assert order.fulfilment_status == FU.DELIVERED

    client.post(url, {"reason": "Smaller than I imagined."})
    order.refresh_from_db()
    assert order.fulfilment_status == FU.RETURN_REQUESTED
    assert order.return_reason == "Smaller than I imagined."
    assert order.needs_attention and order.attention.reason == "return_requested"
    (slack,) = Notification.objects.filter(category=Category.ORDER_FULFILMENT)
    assert "Return requested" in slack.title
    client.post(url, {"reason": "Again."})  # once only
    assert Notification.objects.filter(category=Category.ORDER_FULFILMENT).count() == 1


@pytest.mark.django_db
def test_no_return_after_return_days(settings):
    settings.RETURN_DAYS = 30
    order = OrderFactory(delivered=True, delivered_at=timezone.now() - timedelta(days=31))
    client = login(order.user)
    assert (
        "Request a return"
        not in client.get(f"/account/orders/{order.order_number}/").content.decode()
    )
    client.post(f"/account/orders/{order.order_number}/return/", {"reason": "Late."})
    order.refresh_from_db()
    assert order.fulfilment_status == FU.DELIVERED
    assert not order_return_request(order=order, actor=order.user, reason="Late.")


@pytest.mark.django_db
def test_nobody_else_can_request_a_return():
    order = OrderFactory(delivered=True)
    response = login(UserFactory()).post(
        f"/account/orders/{order.order_number}/return/", {"reason": "Not mine."}
    )
    assert response.status_code == 404
    order.refresh_from_db()
    assert order.fulfilment_status == FU.DELIVERED


# ---------------------------------------------------------------- the return's refund


@pytest.fixture
def charged_order(stripe_api, settings, django_capture_on_commit_callbacks):
    """A delivered order charged at Checkout: checkout, Stripe Checkout (the test double), the
    signed webhook, the demo supplier's confirmation; then received, shipped and delivered."""
    settings.CHECKOUT_CAPTURE = "automatic"
    buyer = UserFactory()
    client = login(buyer)
    stone = DemoDiamondFactory(price_model_nzd=Decimal("12345.67"))
    response = client.post(
        "/api/v2/checkout/create",
        data=json.dumps({"diamond_id": str(stone.pk)}),
        content_type="application/json",
    )
    order = Order.objects.get(order_number=response.json()["orderNumber"])
    session = stripe_api.complete(order.stripe_checkout_session_id)
    with django_capture_on_commit_callbacks(execute=True):  # the supplier order is placed
        event = stripe_event("checkout.session.completed", session)
        assert post_event(Client(), event).status_code == 200
    order.refresh_from_db()
    assert (order.status, order.fulfilment_status) == (Status.CONFIRMED, FU.AWAITING_STONE)
    Order.objects.filter(pk=order.pk).update(
        fulfilment_status=FU.DELIVERED, delivered_at=timezone.now()
    )
    order.refresh_from_db()
    return order


@pytest.mark.django_db
@pytest.mark.parametrize(("restock", "availability"), [("yes", "available"), ("no", "sold")])
def test_receive_return_refunds_once_and_puts_the_stone_on_sale_only_when_asked(
    act, ops, stripe_api, charged_order, restock, availability
):
    order = charged_order
    assert order_return_request(order=order, actor=order.user, reason="Changed my mind.")
    act(ops, order, "approve-return", confirm="yes")
    order.refresh_from_db()
    assert order.fulfilment_status == FU.RETURN_APPROVED
    assert emails(order, "how to send it back").count() == 1

    page = act(ops, order, "receive-return").content.decode()
    assert "Put it back on sale" in page and "$12,345.67 NZD" in page
    done = act(ops, order, "receive-return", confirm="yes", restock=restock)
    act(ops, order, "receive-return", confirm="yes", restock=restock)  # a second click

    (refund,) = stripe_api.refunds.values()
    assert refund["amount"] == order.amount_cents
    order.refresh_from_db()
    assert (order.status, order.payment_status, order.fulfilment_status) == (
        Status.CANCELLED,
        PaymentStatus.REFUNDED,
        FU.RETURNED,
    )
    assert order.diamond.availability == availability
    assert f"the diamond is {availability}" in messages_of(done)[0]
    assert emails(order, "Your refund of").count() == 1
    assert not order.needs_attention


@pytest.mark.django_db
def test_a_refund_a_partial_refund_and_a_return_credit_what_stripe_refunded(
    act, ops, stripe_api, charged_order, staff
):
    order = charged_order
    order_refund(order=order, actor=staff, amount_cents=100_000, release_diamond=False)
    order_refund(order=order, actor=staff, amount_cents=34_567, release_diamond=False)
    assert order_return_request(order=order, actor=order.user, reason="Not for me.")
    act(ops, order, "approve-return", confirm="yes")
    act(ops, order, "receive-return", confirm="yes", restock="no")
    # Stripe reports the refunds again: nothing more is credited.
    charge = stripe_api.charge_for(order.stripe_checkout_session_id)
    assert post_event(Client(), stripe_event("charge.refunded", charge)).status_code == 200

    order.refresh_from_db()
    refunded_by_stripe = sorted(r["amount"] for r in stripe_api.refunds.values())
    assert refunded_by_stripe == [34_567, 100_000, 1_100_000]
    invoice = order_invoice(order=order)
    assert sorted(line.amount_cents for line in invoice.credits) == refunded_by_stripe
    assert sum(line.amount_cents for line in invoice.credits) == order.amount_cents
    assert invoice.net.amount_cents == 0


@pytest.mark.django_db
def test_a_return_whose_refund_stripe_refuses_stays_returned_and_needs_attention(
    act, ops, stripe_api, charged_order
):
    order = charged_order
    assert order_return_request(order=order, actor=order.user, reason="Not for me.")
    act(ops, order, "approve-return", confirm="yes")
    stripe_api.fail("POST", "/v1/refunds", status=400, message="Refused.")
    done = act(ops, order, "receive-return", confirm="yes", restock="no")
    assert "the refund failed" in messages_of(done)[0]
    order.refresh_from_db()
    assert (order.status, order.fulfilment_status) == (Status.CONFIRMED, FU.RETURNED)
    assert order.attention.reason == "return_not_refunded"


# ---------------------------------------------------------------- the dashboard


@pytest.mark.django_db
def test_the_dashboard_queues_count_and_link_to_the_filtered_list(ops, settings):
    settings.SUPPLIER_DAYS = 7
    late = timezone.now() - timedelta(days=8)
    OrderFactory(confirmed=True)
    overdue = OrderFactory(confirmed=True, confirmed_at=late)
    OrderFactory(received=True)
    OrderFactory(shipped=True)
    OrderFactory(delivered=True)
    OrderFactory(delivered=True, fulfilment_status=FU.RETURN_REQUESTED)

    queues = {q.key: q for q in fulfilment_queues()}
    assert {key: q.count for key, q in queues.items()} == {
        "awaiting_stone": 2,
        "to_ship": 1,
        "in_transit": 1,
        "returns": 1,
    }
    assert queues["awaiting_stone"].overdue == 1

    home = ops.get(reverse("admin:index")).content.decode()
    for label in ("Awaiting the stone", "To ship", "In transit", "Returns to handle"):
        assert label in home
    assert "1 overdue (over 7 days)" in home
    listed = ops.get(queues["awaiting_stone"].overdue_url)
    assert list(listed.context["cl"].result_list) == [overdue]
    shipping = ops.get(queues["in_transit"].url)
    assert [o.fulfilment_status for o in shipping.context["cl"].result_list] == [FU.SHIPPED]


@pytest.mark.django_db
def test_a_confirmed_order_refunded_before_shipping_leaves_the_queues(staff):
    order = OrderFactory(confirmed=True, diamond__availability=Availability.SOLD)
    assert order_mark_refunded(order=order, actor=staff)
    assert all(q.count == 0 for q in fulfilment_queues())


# ---------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("carriers", "ids"),
    [
        ({}, ["orders.E010"]),
        ({"nzpost": {"name": "", "tracking_url": "https://t.example/{number}"}}, ["orders.E011"]),
        ({"x": {"name": "X", "tracking_url": "http://t.example/{number}"}}, ["orders.E012"]),
        ({"x": {"name": "X", "tracking_url": "https://t.example/"}}, ["orders.E012"]),
        ({"x": {"name": "X", "tracking_url": "https://t.example/?n={number}"}}, []),
    ],
)
def test_the_carriers_setting_is_checked(settings, carriers, ids):
    settings.CARRIERS = carriers
    assert [error.id for error in check_carriers(None)] == ids
