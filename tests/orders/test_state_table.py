"""The state table, enumerated: every move from every state, what the database allows, and the
four defects the scattered rules used to let through."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from catalog.models import Availability, Diamond
from feeds import base
from notifications.models import Category, Notification
from orders.feed_orders import (
    feed_order_place,
    feed_order_record_failure,
    feed_order_record_success,
)
from orders.models import FeedOrderStatus, FulfilmentStatus, Order, PaymentStatus, Status
from orders.money import (
    order_mark_refunded,
)
from orders.services import (
    order_feed_order_retry,
    order_resolve,
)
from orders.states import LEGAL, TRANSITIONS, all_states, attention_rule, may, state_of
from orders.transitions import order_transition
from tests.factories import DiamondFactory, OrderFactory, StaffFactory

pytestmark = pytest.mark.django_db

# Values a move needs beyond its table row (an attempt number for the supplier's answers).
MOVE_VALUES = {"resolved": {"resolved_at": timezone.now()}}


def put_in(order, state) -> Order:
    """The order, written into `state` (legal) with every guard's condition satisfied."""
    status, payment, feed, fulfilment = state
    Order.objects.filter(pk=order.pk).update(
        status=status,
        payment_status=payment,
        feed_order_status=feed,
        fulfilment_status=fulfilment,
        # Delivered just now, so that a return request's "within RETURN_DAYS" guard holds.
        delivered_at=timezone.now(),
        feed_order_attempt=1,
        feed_order_started_at=None,
        # Long ago, so that a retry's "only a stalled attempt" guard holds.
        feed_order_requested_at=timezone.now() - timedelta(hours=1),
        resolved_at=None,
    )
    return Order.objects.get(pk=order.pk)


class Rollback(Exception):
    pass


@pytest.mark.parametrize("name", sorted(TRANSITIONS))
def test_each_move_runs_from_exactly_the_states_the_table_admits(name):
    """Every legal state, against the database: the move happens exactly where the table
    admits it, lands where the table says, and the result is legal."""
    transition = TRANSITIONS[name]
    order = OrderFactory(diamond=DiamondFactory(availability=Availability.RESERVED))
    for state in sorted(LEGAL):
        try:
            with transaction.atomic():
                current = put_in(order, state)
                moved = order_transition(current, name, attempt=1, **MOVE_VALUES.get(name, {}))
                current.refresh_from_db()
                after = state_of(current)
                assert moved == transition.admits(state), (name, state)
                assert after == (transition.apply(state) if moved else state), (name, state)
                assert after in LEGAL, (name, state, after)
                raise Rollback
        except Rollback:
            pass


@pytest.mark.parametrize("name", sorted(TRANSITIONS))
def test_every_target_of_an_admitted_state_is_legal(name):
    transition = TRANSITIONS[name]
    for state in LEGAL:
        if transition.admits(state):
            assert transition.apply(state) in LEGAL, (name, state)


def test_the_enumeration_covers_every_combination_once():
    states = all_states()
    assert (
        len(states)
        == len(set(states))
        == (len(Status) * len(PaymentStatus) * len(FeedOrderStatus) * len(FulfilmentStatus))
    )
    assert set(states) > LEGAL


@pytest.mark.parametrize(
    "state", sorted(set(all_states()) - LEGAL)[::59], ids="/".join
)  # a spread of the illegal ones
def test_the_database_refuses_an_illegal_combination_written_behind_the_orms_back(state):
    order = OrderFactory()
    table = Order._meta.db_table
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, payment_status = %s, feed_order_status = %s, "
            "fulfilment_status = %s WHERE id = %s",
            [*state, order.pk.hex if connection.vendor == "sqlite" else order.pk],
        )


def test_may_agrees_with_the_table_and_says_why_not():
    now = timezone.now()
    unpaid = OrderFactory()
    assert not may(unpaid, "feed_order_retried", now)
    assert may(OrderFactory(feed_failed=True), "feed_order_retried", now)
    assert may(OrderFactory(confirmed=True), "refunded", now)
    assert not may(OrderFactory(refunded=True), "refunded", now)


# ---------------------------------------------------------------- the four defects


def test_a_refund_while_the_supplier_call_is_in_flight_does_not_confirm_or_sell(
    django_capture_on_commit_callbacks,
):
    """Defect 1: the supplier answers success after the refund released the stone, which
    another shopper is now checking out."""
    order = OrderFactory(paid=True, diamond=DiamondFactory(availability=Availability.RESERVED))
    with django_capture_on_commit_callbacks(execute=True):
        assert order_mark_refunded(order=order, release_diamond=True)
    Diamond.objects.filter(pk=order.diamond_id).update(availability=Availability.RESERVED)
    other = OrderFactory(diamond=order.diamond)  # another shopper's open checkout

    with django_capture_on_commit_callbacks(execute=True):
        assert feed_order_record_success(order=order, attempt=1, feed_order_id="F-LATE")

    order.refresh_from_db()
    assert (order.status, order.payment_status, order.feed_order_status) == (
        Status.CANCELLED,
        PaymentStatus.REFUNDED,
        FeedOrderStatus.SUCCESS,
    )
    assert order.feed_order_id == "F-LATE"
    assert Diamond.objects.get(pk=order.diamond_id).availability == Availability.RESERVED
    assert other.diamond_id == order.diamond_id
    assert not Notification.objects.filter(category=Category.ORDER_COMPLETED).exists()
    alert = Notification.objects.get(category=Category.ORDER_FEED_FAILURE)
    assert "refunded" in alert.title
    assert order.needs_attention
    assert order.attention.reason == "placed_after_refund"


def test_a_confirmed_order_refunded_later_does_not_need_attention():
    order = OrderFactory(confirmed=True)
    assert order_mark_refunded(order=order)
    order.refresh_from_db()
    assert not order.needs_attention


def test_resolve_then_retry_then_fail_again_is_seen_again(django_capture_on_commit_callbacks):
    """Defect 2: a retry reopens a resolved order."""
    staff = StaffFactory()
    order = OrderFactory(feed_failed=True)
    assert order_resolve(order=order, actor=staff, note="Asked the supplier.")
    order.refresh_from_db()
    assert not order.needs_attention

    with django_capture_on_commit_callbacks(execute=False):
        assert order_feed_order_retry(order=order, actor=staff)
    order.refresh_from_db()
    assert order.resolved_at is None
    assert order.feed_order_attempt == 2
    assert feed_order_record_failure(order=order, attempt=2, error="Still on hold")

    assert Order.objects.needs_attention().filter(pk=order.pk).exists()
    order.refresh_from_db()
    assert order.attention.reason == "feed_failed"


def test_a_late_answer_from_an_abandoned_attempt_does_not_overwrite_the_current_one(
    django_capture_on_commit_callbacks,
):
    """Defect 3: results are tied to the attempt that asked for them."""
    order = OrderFactory(paid=True, feed_order_started_at=timezone.now())
    assert feed_order_record_failure(
        order=order, attempt=1, error="worker stopped", outcome_unknown=True
    )
    with django_capture_on_commit_callbacks(execute=False):
        assert order_feed_order_retry(order=order, reason="checked with the supplier")
    order.refresh_from_db()
    assert feed_order_record_success(order=order, attempt=2, feed_order_id="F-CURRENT")

    # Attempt 1's supplier call finally answers.
    assert not feed_order_record_success(order=order, attempt=1, feed_order_id="F-STALE")
    assert not feed_order_record_failure(order=order, attempt=1, error="too late")

    order.refresh_from_db()
    assert order.feed_order_id == "F-CURRENT"
    assert order.feed_order_status == FeedOrderStatus.SUCCESS
    late = order.events.filter(kind="feed_order_late_answer")
    assert late.count() == 2
    assert "F-STALE" in late.first().message


class CountingFeed(base.FeedAdapter):
    """A supplier that counts the orders it is asked to place."""

    name = "counting"
    calls = 0

    def create_order(self, diamond, *, reference, comments=""):
        CountingFeed.calls += 1
        return "F-1"


def test_an_attempt_a_worker_has_taken_on_is_never_placed_twice(monkeypatch):
    """Defect 4: the claim guard (`feed_order_started_at` is empty) is what stops a second
    worker from placing the same attempt while the first is still on the phone."""
    monkeypatch.setitem(base._registry, CountingFeed.name, CountingFeed)
    CountingFeed.calls = 0
    order = OrderFactory(paid=True, diamond__feed=CountingFeed.name)
    # The first worker has claimed attempt 1 and is waiting on the supplier.
    assert order_transition(
        order, "feed_order_started", attempt=1, feed_order_started_at=timezone.now()
    )
    assert not feed_order_place.call(order_id=order.pk, attempt=1)
    assert CountingFeed.calls == 0
    order.refresh_from_db()
    assert order.feed_order_status == FeedOrderStatus.PENDING

    # Without a claim, the attempt is placed exactly once however often it is asked for.
    other = OrderFactory(paid=True, diamond__feed=CountingFeed.name)
    assert feed_order_place.call(order_id=other.pk, attempt=1)
    assert not feed_order_place.call(order_id=other.pk, attempt=1)
    assert CountingFeed.calls == 1


def test_an_unknown_outcome_later_answered_applies_to_its_attempt(
    django_capture_on_commit_callbacks,
):
    order = OrderFactory(paid=True, feed_order_started_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert feed_order_record_failure(
            order=order, attempt=1, error="timeout", outcome_unknown=True
        )
        order.refresh_from_db()
        assert attention_rule(order, timezone.now()).reason == "feed_unknown"
        assert feed_order_record_success(order=order, attempt=1, feed_order_id="F-9")
    order.refresh_from_db()
    assert order.status == Status.CONFIRMED
    assert order.confirmed_at is not None
