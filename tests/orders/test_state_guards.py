"""Guards of the order's state machine that the mutation run (tools/mutate_guards.py) found no
test for: each test here fails when its guard is removed or widened (docs/RELIABILITY.md,
"Mutation run: the state machine's guards")."""

import pytest

from feeds import base
from orders.feed_orders import feed_order_place
from orders.models import FeedOrderStatus, Order, PaymentStatus, Status
from tests.factories import OrderFactory

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

    assert not feed_order_place(order_id=order.pk)

    assert supplier.calls == 0
    assert state(order) == (Status.PAID, PaymentStatus.PAID, FeedOrderStatus.NOT_ATTEMPTED)
    assert Order.objects.get(pk=order.pk).feed_order_started_at is None
