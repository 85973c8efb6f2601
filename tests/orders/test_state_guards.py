"""Guards of the order's state machine that the mutation run (tools/mutate_guards.py) found no
test for: each test here fails when its guard is removed or widened (docs/RELIABILITY.md,
"Mutation run: the state machine's guards")."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Availability, Diamond
from catalog.services import diamond_move
from feeds import base
from orders.carriers import carrier_choices
from orders.feed_orders import (
    feed_order_abandon,
    feed_order_place,
    feed_order_record_failure,
    feed_order_record_success,
)
from orders.fulfilment import (
    FulfilmentError,
    order_mark_delivered,
    order_return_approve,
    order_return_receive,
    order_return_request,
    order_ship,
    order_stone_receive,
)
from orders.models import FeedOrderStatus, FulfilmentStatus, Order, PaymentStatus, Status
from orders.money import (
    order_mark_refunded,
    order_mark_voided,
    order_note_capture_failed,
)
from orders.services import (
    DiamondUnavailable,
    PaidSession,
    order_create,
    order_feed_order_retry,
    order_fraud_warning,
    order_mark_expired,
    order_mark_paid,
    order_resolve,
)
from orders.states import LEGAL, may, outcome_unknown, state_of
from orders.transitions import order_transition
from tests.factories import (
    DiamondFactory,
    OrderFactory,
    StaffFactory,
    UserFactory,
    order_in_state,
)

pytestmark = pytest.mark.django_db


class CountingFeed(base.FeedAdapter):
    """A supplier that takes every order and counts them."""

    name = "counting-guards"
    calls = 0

    def create_order(self, diamond, *, reference, comments=""):
        CountingFeed.calls += 1
        return f"F-{CountingFeed.calls}"


@pytest.fixture
def supplier(monkeypatch):
    monkeypatch.setitem(base._registry, CountingFeed.name, CountingFeed)
    CountingFeed.calls = 0
    return CountingFeed


def state(order):
    order.refresh_from_db()
    return (order.status, order.payment_status, order.feed_order_status)


def test_a_task_from_before_attempt_numbers_never_orders_a_mismatched_payment(supplier):
    """`feed_order_started` starts only from a pending feed order: a task queued before
    attempts had numbers (attempt None: "the current one") finds attempt 0 on an order whose
    payment did not match, and must not take it on."""
    order = OrderFactory(mismatch=True, diamond__feed=supplier.name)
    assert order.feed_order_attempt == 0

    assert not feed_order_place.call(order_id=order.pk)

    assert supplier.calls == 0
    assert state(order) == (Status.PAID, PaymentStatus.PAID, FeedOrderStatus.NOT_ATTEMPTED)
    assert Order.objects.get(pk=order.pk).feed_order_started_at is None


def test_a_superseded_task_never_reaches_the_supplier(supplier, django_capture_on_commit_callbacks):
    """`feed_order_started` takes on only the attempt the task was queued for: after a
    stalled, never-started attempt 1 is re-queued as attempt 2, attempt 1's task does nothing."""
    order = OrderFactory(
        paid=True,
        diamond__feed=supplier.name,
        feed_order_requested_at=timezone.now() - timedelta(minutes=11),
    )
    with django_capture_on_commit_callbacks(execute=False):
        assert order_feed_order_retry(order=order, reason="stalled")
    order.refresh_from_db()
    assert order.feed_order_attempt == 2

    assert not feed_order_place.call(order_id=order.pk, attempt=1)
    assert supplier.calls == 0
    assert feed_order_place.call(order_id=order.pk, attempt=2)
    assert supplier.calls == 1
    assert state(order) == (Status.CONFIRMED, PaymentStatus.PAID, FeedOrderStatus.SUCCESS)


FIRST_ANSWERS = {
    "success": lambda order: feed_order_record_success(
        order=order, attempt=1, feed_order_id="F-FIRST"
    ),
    "failure": lambda order: feed_order_record_failure(order=order, attempt=1, error="refused"),
}
SECOND_ANSWERS = {
    "success": lambda order: feed_order_record_success(
        order=order, attempt=1, feed_order_id="F-SECOND"
    ),
    "failure": lambda order: feed_order_record_failure(order=order, attempt=1, error="again"),
    "unknown": lambda order: feed_order_record_failure(
        order=order, attempt=1, error="timeout", outcome_unknown=True
    ),
}


@pytest.mark.parametrize("money", ["paid", "authorised", "refunded"])
@pytest.mark.parametrize("second", sorted(SECOND_ANSWERS))
@pytest.mark.parametrize("first", sorted(FIRST_ANSWERS))
def test_an_attempts_answer_is_final(first, second, money):
    """The supplier's moves start only from a pending (or unknown) feed order: once an attempt
    was answered placed or refused, another answer for it is kept on the timeline and changes
    nothing (whether the money was taken, only held, or refunded in between)."""
    order = OrderFactory(paid=True, feed_order_started_at=timezone.now())
    if money == "authorised":
        Order.objects.filter(pk=order.pk).update(payment_status=PaymentStatus.AUTHORIZED)
        order.refresh_from_db()
    if money == "refunded":
        assert order_mark_refunded(order=order)
    assert FIRST_ANSWERS[first](order)
    order.refresh_from_db()
    before = (state(order), order.feed_order_id, order.feed_order_error)

    assert not SECOND_ANSWERS[second](order)

    order.refresh_from_db()
    assert (state(order), order.feed_order_id, order.feed_order_error) == before
    assert order.events.filter(kind="feed_order_late_answer").count() == 1


@pytest.mark.parametrize("money", ["paid", "authorised", "refunded"])
@pytest.mark.parametrize("answer", sorted(SECOND_ANSWERS))
def test_a_superseded_attempts_answer_leaves_the_current_attempt_in_flight(answer, money):
    """Each supplier move is guarded by the attempt: attempt 1 (abandoned, outcome unknown,
    retried by ops) answers while attempt 2 is still with the supplier."""
    order = OrderFactory(paid=True, feed_order_started_at=timezone.now())
    if money == "authorised":
        Order.objects.filter(pk=order.pk).update(payment_status=PaymentStatus.AUTHORIZED)
        order.refresh_from_db()
    assert feed_order_abandon(order=order)
    order.refresh_from_db()
    assert order_feed_order_retry(order=order, reason="checked with the supplier")
    assert order_transition(
        order, "feed_order_started", attempt=2, feed_order_started_at=timezone.now()
    )
    if money == "refunded":
        assert order_mark_refunded(order=order)
    order.refresh_from_db()
    before = (state(order), order.feed_order_attempt, order.feed_order_id)
    assert before[0][2] == FeedOrderStatus.PENDING

    assert not SECOND_ANSWERS[answer](order)

    order.refresh_from_db()
    assert (state(order), order.feed_order_attempt, order.feed_order_id) == before
    assert order.diamond.availability == Availability.RESERVED


def test_an_expiry_never_puts_a_stone_the_supplier_withdrew_back_on_sale():
    """The diamond moves only from the availability the move expects (reserved): a stone the
    feed marked sold elsewhere while the checkout was open stays off sale when it expires."""
    order = OrderFactory()
    Diamond.objects.filter(pk=order.diamond_id).update(availability=Availability.SOLD)

    assert order_mark_expired(order=order)

    assert Diamond.objects.get(pk=order.diamond_id).availability == Availability.SOLD


@pytest.mark.parametrize("availability", [Availability.SOLD, Availability.UNAVAILABLE])
def test_order_create_refuses_a_stone_that_is_not_available(availability):
    stone = DiamondFactory(availability=availability)
    with pytest.raises(DiamondUnavailable):
        order_create(user=UserFactory(), diamond=stone, amount_cents=100)
    assert not Order.objects.filter(diamond=stone).exists()
    stone.refresh_from_db()
    assert stone.availability == availability


def test_a_refund_keeps_the_stone_when_the_supplier_may_have_the_order():
    """Releasing on refund is only for a supplier order that was never placed: with the
    outcome unknown (the supplier may have it) the stone stays reserved."""
    order = OrderFactory(feed_unknown=True)

    assert order_mark_refunded(order=order, release_diamond=True)

    assert Diamond.objects.get(pk=order.diamond_id).availability == Availability.RESERVED
    assert state(order) == (Status.CANCELLED, PaymentStatus.REFUNDED, FeedOrderStatus.UNKNOWN)


def test_a_retry_starts_a_new_attempt_a_worker_can_take_on(
    supplier, django_capture_on_commit_callbacks
):
    """A retry clears the previous attempt's start, so the new attempt can be taken on."""
    order = OrderFactory(
        feed_failed=True, diamond__feed=supplier.name, feed_order_started_at=timezone.now()
    )

    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert order_feed_order_retry(order=order, reason="ops")
    assert len(queued) == 1
    assert feed_order_place.call(order_id=order.pk, attempt=2)

    assert supplier.calls == 1
    assert state(order) == (Status.CONFIRMED, PaymentStatus.PAID, FeedOrderStatus.SUCCESS)


@pytest.mark.parametrize(
    "traits",
    [
        {"refunded": True},  # cancelled / refunded / failed
        {"mismatch": True},  # paid, but no supplier order is to be placed
        {"status": Status.PENDING_PAYMENT},
        {"confirmed": True},
        # an attempt asked for 2 minutes ago: still in progress
        {"paid": True, "feed_order_requested_at": timezone.now() - timedelta(minutes=2)},
    ],
    ids=["refunded", "mismatch", "pending_payment", "confirmed", "in_progress"],
)
def test_a_refused_retry_changes_nothing_and_queues_nothing(
    traits, django_capture_on_commit_callbacks
):
    order = OrderFactory(**traits)
    if "feed_order_requested_at" in traits:  # the factory's LazyFunction ran at import
        Order.objects.filter(pk=order.pk).update(
            feed_order_requested_at=timezone.now() - timedelta(minutes=2)
        )
        order.refresh_from_db()
    before = (state(order), order.feed_order_attempt)
    assert not may(order, "feed_order_retried", timezone.now())

    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert not order_feed_order_retry(order=order, reason="ops")

    assert queued == []
    order.refresh_from_db()
    assert (state(order), order.feed_order_attempt) == before


def test_resolving_twice_keeps_the_first_resolution():
    first, second = StaffFactory(), StaffFactory()
    order = OrderFactory(feed_failed=True)
    assert order_resolve(order=order, actor=first, note="Asked the supplier.")
    order.refresh_from_db()
    resolved = (order.resolved_at, order.resolved_by, order.resolution_note)

    assert not may(order, "resolved", timezone.now())
    assert not order_resolve(order=order, actor=second, note="Again.")

    order.refresh_from_db()
    assert (order.resolved_at, order.resolved_by, order.resolution_note) == resolved


def test_only_an_attempt_a_worker_took_on_has_an_unknown_outcome():
    """A stalled attempt no worker took on was never sent: retrying it is safe."""
    now = timezone.now()
    stalled = {"paid": True, "feed_order_requested_at": now - timedelta(minutes=11)}
    assert not outcome_unknown(OrderFactory.build(**stalled, feed_order_started_at=None), now)
    assert outcome_unknown(OrderFactory.build(**stalled, feed_order_started_at=now), now)
    assert outcome_unknown(OrderFactory.build(feed_unknown=True), now)
    assert not outcome_unknown(OrderFactory.build(feed_failed=True), now)


class RetriedWhileOnThePhone(base.FeedAdapter):
    """A supplier that takes the order, but answers only after the attempt went stale and ops
    retried it (what a slow supplier and an impatient operator do in production)."""

    name = "slow-supplier"  # at most 20 characters: `Order.feed`

    def create_order(self, diamond, *, reference, comments=""):
        order = Order.objects.get(order_number=reference)
        Order.objects.filter(pk=order.pk).update(
            feed_order_requested_at=timezone.now() - timedelta(minutes=11)
        )
        order.refresh_from_db()
        assert order_feed_order_retry(order=order, reason="stalled; ops retried")
        return "F-FROM-ATTEMPT-1"


def test_a_workers_answer_applies_to_its_own_attempt_not_the_current_one(
    monkeypatch, django_capture_on_commit_callbacks
):
    """The worker passes the supplier's answer on with the attempt it ran: attempt 1's late
    answer never confirms attempt 2, which is still queued (its own answer is the one that
    counts)."""
    monkeypatch.setitem(base._registry, RetriedWhileOnThePhone.name, RetriedWhileOnThePhone)
    order = OrderFactory(paid=True, diamond__feed=RetriedWhileOnThePhone.name)

    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert feed_order_place.call(order_id=order.pk, attempt=1)

    assert len(queued) == 1  # attempt 2's task
    order.refresh_from_db()
    assert state(order) == (Status.PAID, PaymentStatus.PAID, FeedOrderStatus.PENDING)
    assert (order.feed_order_attempt, order.feed_order_id) == (2, "")
    late = order.events.get(kind="feed_order_late_answer")
    assert "F-FROM-ATTEMPT-1" in late.message


def test_an_order_refunded_before_a_worker_took_it_on_never_reaches_the_supplier(supplier):
    """`feed_order_started` starts only from a paid order: the queued task of an order refunded
    meanwhile does nothing."""
    order = OrderFactory(paid=True, diamond__feed=supplier.name)
    assert order_mark_refunded(order=order, release_diamond=True)

    assert not feed_order_place.call(order_id=order.pk, attempt=1)

    assert supplier.calls == 0
    assert state(order) == (Status.CANCELLED, PaymentStatus.REFUNDED, FeedOrderStatus.PENDING)


@pytest.mark.parametrize("authorized", [False, True], ids=["paid", "authorised"])
def test_a_mismatched_payment_never_moves_an_order_that_is_no_longer_open(authorized):
    """A late event for a payment of the wrong amount (a retried session, a second payment)
    on an order that is past pending payment records nothing and moves nothing."""
    for legal in sorted(LEGAL):
        if legal[0] == Status.PENDING_PAYMENT:
            continue
        order = order_in_state(legal)
        session = PaidSession(
            session_id=order.stripe_checkout_session_id,
            payment_intent_id="pi_late_mismatch",
            amount_total=order.amount_cents + 100,
            currency=order.currency,
            authorized=authorized,
        )
        assert order_mark_paid(order=order, session=session) is False, legal
        order.refresh_from_db()
        assert state_of(order) == legal
        assert not order.events.filter(kind="payment_mismatch").exists(), legal


def test_an_uncleared_fraud_warning_keeps_a_queued_supplier_order_from_starting(supplier):
    """`feed_order_started` refuses while an early fraud warning stands (one that came before
    the payment, or while the task waited in the queue); once ops clear it, the order goes."""
    order = OrderFactory(paid=True, diamond__feed=supplier.name)
    Order.objects.filter(pk=order.pk).update(fraud_warning_at=timezone.now())

    assert not feed_order_place.call(order_id=order.pk, attempt=1)
    assert supplier.calls == 0
    assert state(order) == (Status.PAID, PaymentStatus.PAID, FeedOrderStatus.PENDING)

    Order.objects.filter(pk=order.pk).update(fraud_cleared_at=timezone.now())
    assert feed_order_place.call(order_id=order.pk, attempt=1)
    assert supplier.calls == 1
    assert state(order) == (Status.CONFIRMED, PaymentStatus.PAID, FeedOrderStatus.SUCCESS)


def test_a_fraud_warning_stops_only_a_paid_order_whose_supplier_order_is_not_yet_placed():
    """`feed_order_stopped` starts only from a paid order with a pending, untaken attempt: on
    any other order (placed, refused, outcome unknown, cancelled, not yet paid) a warning is
    recorded, and the order's state stays as it was."""
    for legal in sorted(LEGAL):
        if legal[0] == Status.PAID and legal[2] == FeedOrderStatus.PENDING:
            continue
        order = order_in_state(legal, feed_order_started_at=None)
        outcome = order_fraud_warning(
            order=order, stripe_event_id="", fraud_type="card_never_received"
        )
        assert outcome != "feed order stopped", legal
        order.refresh_from_db()
        assert state_of(order) == legal


def test_a_fraud_warning_never_stops_an_attempt_a_worker_already_took_on():
    """`feed_order_stopped` is guarded by `not_started`: once a worker has the attempt, the
    supplier may already have the order, so a warning only alerts."""
    order = OrderFactory(paid=True, feed_order_started_at=timezone.now())
    outcome = order_fraud_warning(order=order, stripe_event_id="", fraud_type="card_never_received")
    assert outcome == "alerted"
    assert state(order) == (Status.PAID, PaymentStatus.PAID, FeedOrderStatus.PENDING)


def test_a_void_never_cancels_an_order_whose_payment_was_taken():
    """`voided` starts only from an authorised payment: a late "authorisation released" for a
    payment already captured (or refunded) changes nothing; the money was taken."""
    for legal in sorted(LEGAL):
        if legal[:2] == (Status.PAID, PaymentStatus.AUTHORIZED):
            continue
        order = order_in_state(legal)
        assert not order_mark_voided(order=order, reason="lapsed"), legal
        order.refresh_from_db()
        assert state_of(order) == legal


def test_a_capture_failure_is_noted_only_on_an_order_still_waiting_for_its_capture():
    """`capture_failed` starts only from a held payment the supplier confirmed: a late failure
    answer on an order already captured, cancelled or not yet confirmed by the supplier records
    nothing and alerts no one."""
    for legal in sorted(LEGAL):
        if legal[:3] == (Status.PAID, PaymentStatus.AUTHORIZED, FeedOrderStatus.SUCCESS):
            continue
        order = order_in_state(legal)
        assert not order_note_capture_failed(order=order, error="card_declined"), legal
        order.refresh_from_db()
        assert state_of(order) == legal
        assert not order.events.filter(kind="capture_failed").exists(), legal


def test_a_supplier_confirmation_sells_only_a_stone_the_order_still_holds():
    """The availability move `sell` starts only from `reserved`: a stone ops withdrew or that
    is on sale again is not marked sold by a late confirmation."""
    for availability in (Availability.AVAILABLE, Availability.UNAVAILABLE, Availability.ON_HOLD):
        diamond = DiamondFactory(availability=availability)
        assert diamond_move(diamonds=[diamond.pk], move="sell") == 0
        diamond.refresh_from_db()
        assert diamond.availability == availability


@pytest.mark.parametrize(
    ("move", "allowed_from"),
    [
        (
            lambda order: order_stone_receive(order=order, actor=None),
            FulfilmentStatus.AWAITING_STONE,
        ),
        (
            lambda order: order_ship(
                order=order, actor=None, carrier=carrier_choices()[0][0], tracking_number="T1"
            ),
            FulfilmentStatus.RECEIVED,
        ),
        (lambda order: order_mark_delivered(order=order, actor=None), FulfilmentStatus.SHIPPED),
    ],
    ids=["receive", "ship", "deliver"],
)
def test_the_stone_moves_forward_one_step_at_a_time(move, allowed_from):
    """Each step of the stone's way starts only from the step before it: receiving, shipping
    or delivering again (a double click, a stale page) never takes an order back a step or
    skips one."""
    for legal in sorted(LEGAL):
        if legal[0] != Status.CONFIRMED or legal[3] == allowed_from:
            continue
        order = order_in_state(legal)
        assert not move(order), legal
        order.refresh_from_db()
        assert state_of(order) == legal


def test_a_return_is_requested_only_of_a_delivered_stone():
    """`return_requested` starts only from `delivered`: a second request (already requested,
    approved or returned) or one before delivery changes nothing, even within the window."""
    for legal in sorted(LEGAL):
        if legal[0] != Status.CONFIRMED or legal[3] == FulfilmentStatus.DELIVERED:
            continue
        order = order_in_state(legal)
        Order.objects.filter(pk=order.pk).update(delivered_at=timezone.now())
        order.refresh_from_db()
        assert not order_return_request(order=order, actor=None, reason="Too small"), legal
        order.refresh_from_db()
        assert state_of(order) == legal


def test_a_return_is_approved_only_when_one_was_requested():
    """`return_approved` starts only from `return_requested`: approving from any other step
    of the stone's way (not yet delivered, delivered with no request, already approved or
    returned) changes nothing and emails no one."""
    for legal in sorted(LEGAL):
        if legal[0] != Status.CONFIRMED or legal[3] == FulfilmentStatus.RETURN_REQUESTED:
            continue
        order = order_in_state(legal)
        assert not order_return_approve(order=order, actor=None), legal
        order.refresh_from_db()
        assert state_of(order) == legal


def test_a_return_is_received_only_once_it_was_approved():
    """`returned` starts only from `return_approved`: a stone received back without an
    approved return (or twice) is refused before any refund is asked for."""
    for legal in sorted(LEGAL):
        if legal[0] != Status.CONFIRMED or legal[3] == FulfilmentStatus.RETURN_APPROVED:
            continue
        order = order_in_state(legal)
        with pytest.raises(FulfilmentError):
            order_return_receive(order=order, actor=None, restock=False)
        order.refresh_from_db()
        assert state_of(order) == legal
