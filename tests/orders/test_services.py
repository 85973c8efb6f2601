"""Order transitions: each checks where it starts, writes where it ends and a timeline entry."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Availability
from orders.feed_orders import feed_order_record_failure, feed_order_record_success
from orders.models import FeedOrderStatus, Order, PaymentStatus, Status
from orders.money import (
    order_mark_refunded,
)
from orders.services import (
    DiamondUnavailable,
    PaidSession,
    order_create,
    order_fail_checkout,
    order_mark_expired,
    order_mark_paid,
    order_resolve,
)
from tests.factories import DiamondFactory, OrderFactory, StaffFactory, UserFactory
from tests.threads import at_once


def paid_session(order, **overrides):
    values = {
        "session_id": order.stripe_checkout_session_id,
        "payment_intent_id": "pi_test_1",
        "amount_total": order.amount_cents,
        "currency": "nzd",
        **overrides,
    }
    return PaidSession(**values)


@pytest.mark.django_db
def test_order_create_reserves_the_diamond_and_numbers_the_order():
    diamond = DiamondFactory()
    user = UserFactory()
    order = order_create(user=user, diamond=diamond, amount_cents=1234500, reference="ring")
    diamond.refresh_from_db()
    assert diamond.availability == Availability.RESERVED
    assert order.order_number == f"DO-{timezone.now():%Y%m%d}-0001"
    assert (order.status, order.payment_status, order.feed_order_status) == (
        Status.PENDING_PAYMENT,
        PaymentStatus.PENDING,
        FeedOrderStatus.NOT_ATTEMPTED,
    )
    assert order.idempotency_key == f"checkout-{order.id}"
    assert (order.feed, order.offer_id, order.reference) == ("demo", diamond.offer_id, "ring")
    event = order.events.get()
    assert (event.kind, event.actor) == ("checkout_created", user)


@pytest.mark.django_db
def test_a_reserved_diamond_cannot_be_ordered_again():
    diamond = DiamondFactory()
    order_create(user=UserFactory(), diamond=diamond, amount_cents=100)
    with pytest.raises(DiamondUnavailable):
        order_create(user=UserFactory(), diamond=diamond, amount_cents=100)
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_the_database_allows_one_open_checkout_per_diamond():
    """Even if the diamond row says available, a second open order is refused."""
    first = order_create(user=UserFactory(), diamond=DiamondFactory(), amount_cents=100)
    first.diamond.availability = Availability.AVAILABLE
    first.diamond.save()
    with pytest.raises(DiamondUnavailable):
        order_create(user=UserFactory(), diamond=first.diamond, amount_cents=100)


@pytest.mark.django_db(transaction=True)
def test_concurrent_orders_for_one_diamond_have_one_winner(postgres_only):
    diamond = DiamondFactory()
    users = [UserFactory() for _ in range(8)]

    def attempt(user):
        try:
            order_create(user=user, diamond=diamond, amount_cents=100)
            return "won"
        except DiamondUnavailable:
            return "unavailable"

    assert sorted(at_once(attempt, users)) == ["unavailable"] * 7 + ["won"]
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_a_failed_checkout_releases_the_diamond_once():
    order = OrderFactory()
    assert order_fail_checkout(order=order, error="Stripe said no")
    assert not order_fail_checkout(order=order, error="again")
    order.refresh_from_db()
    order.diamond.refresh_from_db()
    assert (order.status, order.payment_status) == (Status.FAILED, PaymentStatus.FAILED)
    assert order.diamond.availability == Availability.AVAILABLE
    assert order.events.get().kind == "checkout_failed"


@pytest.mark.django_db
def test_expiry_does_not_touch_a_paid_order(django_capture_on_commit_callbacks):
    order = OrderFactory()
    with django_capture_on_commit_callbacks(execute=False):
        assert order_mark_paid(order=order, session=paid_session(order))
    assert not order_mark_expired(order=order)
    order.refresh_from_db()
    assert order.status == Status.PAID


@pytest.mark.django_db
def test_payment_is_recorded_once_and_enqueues_one_feed_order(django_capture_on_commit_callbacks):
    order = OrderFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert order_mark_paid(order=order, session=paid_session(order))
        assert not order_mark_paid(order=order, session=paid_session(order))
    assert len(callbacks) == 2  # the feed order and the payment-received email, once each
    order.refresh_from_db()
    assert (order.status, order.payment_status, order.feed_order_status) == (
        Status.PAID,
        PaymentStatus.PAID,
        FeedOrderStatus.PENDING,
    )
    assert order.stripe_payment_intent_id == "pi_test_1"
    assert order.feed_order_requested_at is not None


@pytest.mark.django_db
def test_a_feed_success_after_a_refund_keeps_the_order_cancelled(
    django_capture_on_commit_callbacks,
):
    order = OrderFactory()
    with django_capture_on_commit_callbacks(execute=False):
        order_mark_paid(order=order, session=paid_session(order))
        assert order_mark_refunded(order=order)
        assert feed_order_record_success(
            order=order, attempt=order.feed_order_attempt, feed_order_id="F-1"
        )
    order.refresh_from_db()
    assert (order.status, order.payment_status, order.feed_order_status) == (
        Status.CANCELLED,
        PaymentStatus.REFUNDED,
        FeedOrderStatus.SUCCESS,
    )


@pytest.mark.django_db
def test_a_timeout_is_an_unknown_outcome_not_a_plain_failure(django_capture_on_commit_callbacks):
    order = OrderFactory()
    with django_capture_on_commit_callbacks(execute=False):
        order_mark_paid(order=order, session=paid_session(order))
        assert feed_order_record_failure(
            order=order,
            attempt=order.feed_order_attempt,
            error="Read timed out",
            outcome_unknown=True,
        )
    order.refresh_from_db()
    assert order.feed_order_status == FeedOrderStatus.UNKNOWN
    assert "could be bought twice" in order.feed_order_error
    assert order.events.last().kind == "feed_order_unknown"


@pytest.mark.django_db
def test_resolving_needs_a_note_and_keeps_the_history():
    staff = StaffFactory()
    order = OrderFactory(
        status=Status.PAID, payment_status="paid", feed_order_status=FeedOrderStatus.FAILED
    )
    assert order.needs_attention
    with pytest.raises(ValueError):
        order_resolve(order=order, actor=staff, note="  ")
    assert order_resolve(order=order, actor=staff, note="Supplier confirmed by phone.")
    assert not order_resolve(order=order, actor=staff, note="twice")
    order.refresh_from_db()
    assert not order.needs_attention
    assert (order.resolved_by, order.resolution_note) == (staff, "Supplier confirmed by phone.")
    assert order.feed_order_status == FeedOrderStatus.FAILED
    event = order.events.get()
    assert (event.kind, event.actor) == ("resolved", staff)


NOW = timezone.now()
STALL, RECENT = timedelta(minutes=11), timedelta(minutes=2)
ATTENTION_CASES = [
    ({"feed_order_status": "failed"}, True),
    ({"feed_order_status": "not_attempted"}, True),
    ({"feed_order_status": "pending", "feed_order_requested_at": NOW - STALL}, True),
    ({"feed_order_status": "pending", "feed_order_requested_at": NOW - RECENT}, False),
    (
        {
            "feed_order_status": "success",
            "status": "confirmed",
            "fulfilment_status": "awaiting_stone",
        },
        False,
    ),
    ({"feed_order_status": "failed", "resolved_at": NOW}, False),
    ({"feed_order_status": "failed", "status": "cancelled", "payment_status": "refunded"}, False),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("fields", "expected"), ATTENTION_CASES)
def test_needs_attention_in_python_and_in_sql_agree(fields, expected):
    order = OrderFactory(**{"status": "paid", "payment_status": "paid", **fields})
    assert order.needs_attention is expected
    assert Order.objects.needs_attention().filter(pk=order.pk).exists() is expected
