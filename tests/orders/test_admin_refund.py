import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from catalog.models import Availability
from orders.models import FeedOrderStatus, PaymentStatus, Status
from tests.factories import OrderFactory

CHANGELIST = reverse("admin:orders_order_changelist")


def refund(client, orders, **form):
    data = {"action": "refund", "_selected_action": [str(o.pk) for o in orders], **form}
    return client.post(CHANGELIST, data, follow=True)


def messages_of(response):
    return {(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)}


@pytest.fixture
def paid_order(stripe_api):
    """Paid at Stripe (by card, charged at once); the supplier refused the order."""
    order = OrderFactory(
        status=Status.PAID,
        payment_status=PaymentStatus.PAID,
        feed_order_status=FeedOrderStatus.FAILED,
        feed_order_error="Supplier rejected the order.",
    )
    stripe_api.open_session(
        session_id=order.stripe_checkout_session_id, amount_total=order.amount_cents
    )
    paid = stripe_api.complete(order.stripe_checkout_session_id)
    order.stripe_payment_intent_id = paid["payment_intent"]
    order.save(update_fields=["stripe_payment_intent_id"])
    return order


@pytest.fixture
def logged_in(client, staff):
    client.force_login(staff)
    return client


@pytest.mark.django_db
def test_refund_asks_for_the_diamond_choice_and_a_reason_first(logged_in, paid_order, stripe_api):
    page = refund(logged_in, [paid_order])
    html = page.content.decode()
    assert page.status_code == 200
    assert paid_order.order_number in html and "$12,345.00 NZD" in html
    assert "Release it back to the catalog" in html and "Keep it reserved" in html
    assert 'name="reason"' in html

    missing = refund(logged_in, [paid_order], confirm="yes", release_diamond="yes")
    assert b"This field is required." in missing.content
    assert stripe_api.calls("POST", "/v1/refunds") == []
    paid_order.refresh_from_db()
    assert paid_order.payment_status == PaymentStatus.PAID


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("release", "availability"), [("yes", Availability.AVAILABLE), ("no", Availability.RESERVED)]
)
def test_refund_through_stripe_releases_or_keeps_the_diamond(
    logged_in, staff, paid_order, stripe_api, release, availability
):
    response = refund(
        logged_in, [paid_order], confirm="yes", release_diamond=release, reason="Stone gone"
    )
    (call,) = stripe_api.calls("POST", "/v1/refunds")
    assert call["params"]["payment_intent"] == paid_order.stripe_payment_intent_id
    assert (
        call["headers"]["idempotency-key"] == f"refund-{paid_order.pk}-0-{paid_order.amount_cents}"
    )
    (refund_id,) = stripe_api.refunds

    paid_order.refresh_from_db()
    assert (paid_order.status, paid_order.payment_status) == (Status.CANCELLED, "refunded")
    assert paid_order.feed_order_status == FeedOrderStatus.FAILED
    assert not paid_order.needs_attention
    assert paid_order.diamond.availability == availability
    event = paid_order.events.get(kind="refunded")
    assert event.actor == staff
    assert event.data == {
        "refund": refund_id,
        "refund_cents": paid_order.amount_cents,
        "amount_refunded_cents": paid_order.amount_cents,
    }
    kept = "the diamond is back on sale" if release == "yes" else "the diamond is reserved"
    assert (
        "success",
        f"Refunded for 1 order(s):<br>{paid_order.order_number}: refunded in full "
        f"($12,345.00 NZD, refund {refund_id}); the order is cancelled and {kept}.",
    ) in messages_of(response)


@pytest.mark.django_db
def test_a_stripe_error_is_shown_and_changes_nothing(logged_in, paid_order, stripe_api, settings):
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    stripe_api.fail("POST", "/v1/refunds", status=402, message="Charge already disputed.")
    response = refund(logged_in, [paid_order], confirm="yes", release_diamond="yes", reason="x")
    errors = [text for level, text in messages_of(response) if level == "error"]
    assert len(errors) == 1
    assert paid_order.order_number in errors[0]
    assert "Charge already disputed." in errors[0]
    assert "Nothing was changed" in errors[0]
    paid_order.refresh_from_db()
    assert paid_order.payment_status == PaymentStatus.PAID
    assert paid_order.diamond.availability == Availability.RESERVED
    assert not paid_order.events.exists()


@pytest.mark.django_db
def test_orders_that_are_not_paid_are_skipped(logged_in, paid_order, stripe_api):
    unpaid = OrderFactory()
    response = refund(
        logged_in, [paid_order, unpaid], confirm="yes", release_diamond="no", reason="x"
    )
    assert (
        "warning",
        f"Skipped 1 order(s):<br>{unpaid.order_number}: payment is pending, not paid",
    ) in messages_of(response)
    assert len(stripe_api.calls("POST", "/v1/refunds")) == 1
    unpaid.refresh_from_db()
    assert unpaid.payment_status == PaymentStatus.PENDING

    only_unpaid = refund(logged_in, [unpaid])
    assert any("Refund: nothing to do." in text for _, text in messages_of(only_unpaid))


@pytest.mark.django_db
def test_staff_with_only_the_refund_permission_can_refund(client, paid_order, stripe_api):
    from django.contrib.auth.models import Permission

    from tests.factories import StaffFactory

    user = StaffFactory(is_superuser=False)
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["view_order", "refund_order"])
    )
    client.force_login(user)
    assert 'value="refund"' in client.get(CHANGELIST).content.decode()
    refund(client, [paid_order], confirm="yes", release_diamond="no", reason="Customer asked")
    assert paid_order.events.get(kind="refunded").actor == user
