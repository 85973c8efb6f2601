import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from catalog.models import Availability
from config.demo import DEMO_FEED_FAILURE, seed_demo_orders
from orders.models import Order, PaymentStatus, Status
from payments.models import WebhookEvent

FAILED_KINDS = ["checkout_created", "checkout_session_created", "authorized", "feed_order_failed"]


# seed_demo puts its staff user in the Ops group (made by a migration).
pytestmark = pytest.mark.usefixtures("ops_group")


def seed():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def simulator(settings):
    """`make run`: DEBUG on, no Stripe key, so the payment simulator stands in for Stripe."""
    settings.DEBUG = True
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""
    settings.DEMO_FEED_FAIL_ORDERS = False


@pytest.fixture
def demo(simulator):
    return seed()


def changelist_action(client, action, order, **extra):
    data = {"action": action, "_selected_action": [str(order.pk)], **extra}
    return client.post(reverse("admin:orders_order_changelist"), data, follow=True)


@pytest.mark.django_db
def test_seed_demo_creates_confirmed_failed_and_awaiting_orders(demo):
    confirmed = Order.objects.get(reference="demo-confirmed")
    failed = Order.objects.get(reference="demo-feed-failed")
    awaiting = Order.objects.get(reference="demo-awaiting-payment")
    assert f"Demo order {confirmed.order_number} (confirmed): created for shopper" in demo
    assert f"Demo order {failed.order_number} (needs attention): created for shopper" in demo
    assert f"Demo order {awaiting.order_number} (awaiting payment): created for shopper" in demo
    assert {o.user.username for o in [confirmed, failed, awaiting]} == {"shopper"}

    assert (confirmed.status, confirmed.feed_order_status) == (Status.CONFIRMED, "success")
    assert confirmed.feed_order_id == f"DEMO-{confirmed.order_number}"
    assert confirmed.diamond.availability == Availability.SOLD

    assert failed.needs_attention
    # Authorised, as `make run` takes payments: the money is held, not taken.
    assert (failed.payment_status, failed.feed_order_status) == (
        PaymentStatus.AUTHORIZED,
        "failed",
    )
    # The error says why it failed: the seeding, not the feed or a setting that is off.
    assert failed.feed_order_error == DEMO_FEED_FAILURE
    assert "seed_demo recorded this feed order as failed on purpose" in failed.feed_order_error
    assert failed.diamond.availability == Availability.RESERVED
    assert list(failed.events.values_list("kind", flat=True)) == FAILED_KINDS

    assert (awaiting.status, awaiting.payment_status) == (Status.PENDING_PAYMENT, "pending")
    assert awaiting.stripe_checkout_url
    assert not awaiting.needs_attention

    # The payments came through the real webhook path: the event log shows them.
    shipped = Order.objects.get(reference="demo-shipped")
    delivered = Order.objects.get(reference="demo-delivered")
    sessions = set(WebhookEvent.objects.values_list("checkout_session_id", flat=True))
    assert sessions == {
        o.stripe_checkout_session_id for o in (confirmed, failed, shipped, delivered)
    }
    assert list(Order.objects.needs_attention()) == [failed]


@pytest.mark.django_db
def test_seed_demo_adds_a_shipped_and_a_delivered_order(demo):
    shipped = Order.objects.get(reference="demo-shipped")
    delivered = Order.objects.get(reference="demo-delivered")
    assert f"Demo order {shipped.order_number} (shipped): created" in demo
    assert (shipped.status, shipped.fulfilment_status) == (Status.CONFIRMED, "shipped")
    assert (delivered.status, delivered.fulfilment_status) == (Status.CONFIRMED, "delivered")
    assert shipped.carrier == "nzpost" and shipped.tracking_number.startswith("EG")
    assert delivered.delivered_at is not None
    kinds = list(delivered.events.values_list("kind", flat=True))
    assert kinds[-3:] == ["stone_received", "shipped", "delivered"]
    assert {e.actor.username for e in delivered.events.filter(kind="shipped")} == {"staff"}


@pytest.mark.django_db
def test_seeding_again_creates_no_more_orders(demo):
    before = set(Order.objects.values_list("pk", "status"))
    out = seed()
    assert set(Order.objects.values_list("pk", "status")) == before
    assert out.count(": unchanged") == 5


@pytest.mark.django_db
def test_with_a_stripe_key_the_paid_orders_are_recorded_without_stripe(settings):
    settings.DEBUG = True
    settings.STRIPE_SECRET_KEY = "sk_test_configured"
    out = seed()
    assert "(awaiting payment): skipped, it needs the payment simulator" in out
    failed = Order.objects.get(reference="demo-feed-failed")
    assert failed.stripe_checkout_session_id.startswith("cs_test_demo_")
    # Recorded as paid: there is no Stripe here to hold or capture the money.
    assert list(failed.events.values_list("kind", flat=True)) == [
        "paid" if kind == "authorized" else kind for kind in FAILED_KINDS
    ]
    assert Order.objects.get(reference="demo-confirmed").status == Status.CONFIRMED
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_without_the_demo_shopper_nothing_is_created():
    out = io.StringIO()
    assert seed_demo_orders(stdout=out) == []
    assert "skipped" in out.getvalue()
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_retrying_the_demo_failure_from_the_admin_confirms_it(
    demo, client, django_capture_on_commit_callbacks
):
    staff = get_user_model().objects.get(username="staff")
    client.force_login(staff)
    failed = Order.objects.get(reference="demo-feed-failed")
    with django_capture_on_commit_callbacks(execute=True):
        response = changelist_action(client, "retry", failed, confirm="yes")
    failed.refresh_from_db()
    assert (failed.status, failed.feed_order_status) == (Status.CONFIRMED, "success")
    assert "Retried the feed order for 1 order(s)" in response.content.decode()
    assert failed.events.get(kind="feed_order_retried").actor == staff
    assert not Order.objects.needs_attention().exists()


@pytest.mark.django_db
def test_the_demo_failure_can_be_cancelled_through_the_simulator(demo, client):
    staff = get_user_model().objects.get(username="staff")
    client.force_login(staff)
    failed = Order.objects.get(reference="demo-feed-failed")
    response = changelist_action(client, "cancel", failed, confirm="yes", reason="Demo cancel")
    failed.refresh_from_db()
    assert (failed.status, failed.payment_status) == (Status.CANCELLED, "voided")
    # The supplier refused the stone: off sale until a feed import lists it again.
    assert failed.diamond.availability == Availability.UNAVAILABLE
    assert (
        f"{failed.order_number}: cancelled; the authorisation was released"
        in response.content.decode()
    )
