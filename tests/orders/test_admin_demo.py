import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from catalog.models import Availability
from orders.demo import seed_demo_orders
from orders.models import Order, PaymentStatus, Status


def seed():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def demo(settings):
    settings.DEBUG = True
    settings.DEMO_FEED_FAIL_ORDERS = False
    return seed()


@pytest.mark.django_db
def test_seed_demo_creates_a_confirmed_and_a_needs_attention_order(demo):
    confirmed = Order.objects.get(reference="demo-confirmed")
    failed = Order.objects.get(reference="demo-feed-failed")
    assert f"Demo order {confirmed.order_number} (confirmed): created for shopper" in demo
    assert f"Demo order {failed.order_number} (needs attention): created for shopper" in demo

    assert (confirmed.status, confirmed.feed_order_status) == (Status.CONFIRMED, "success")
    assert confirmed.feed_order_id == f"DEMO-{confirmed.order_number}"
    assert confirmed.diamond.availability == Availability.SOLD
    assert confirmed.user.username == failed.user.username == "shopper"

    assert failed.needs_attention
    assert (failed.payment_status, failed.feed_order_status) == (PaymentStatus.PAID, "failed")
    assert "Demo feed refused the order" in failed.feed_order_error
    assert failed.diamond.availability == Availability.RESERVED
    kinds = list(failed.events.values_list("kind", flat=True))
    assert kinds == ["checkout_created", "checkout_session_created", "paid", "feed_order_failed"]


@pytest.mark.django_db
def test_seeding_again_creates_no_more_orders(demo):
    before = set(Order.objects.values_list("pk", "status"))
    out = seed()
    assert set(Order.objects.values_list("pk", "status")) == before
    assert out.count(": unchanged") >= 2


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
    from django.contrib.auth import get_user_model

    staff = get_user_model().objects.get(username="staff")
    client.force_login(staff)
    failed = Order.objects.get(reference="demo-feed-failed")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:orders_order_changelist"),
            {"action": "retry_feed_order", "_selected_action": [str(failed.pk)]},
            follow=True,
        )
    failed.refresh_from_db()
    assert (failed.status, failed.feed_order_status) == (Status.CONFIRMED, "success")
    assert "Retried the feed order for 1 order(s)" in response.content.decode()
    assert failed.events.get(kind="feed_order_retried").actor == staff
    assert not Order.objects.needs_attention().exists()
