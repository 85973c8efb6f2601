"""Demo orders for `seed_demo`, so the ops dashboard has something to triage after `make run`.

Both orders go through the real order services (checkout, payment, the demo feed): a
confirmed order, and a paid order whose feed order failed because the demo feed was told to
refuse orders while it was placed. That stone is an ordinary demo stone, so *Retry feed order*
in the admin succeeds. The Stripe ids are made up (`cs_test_demo_…`, `pi_test_demo_…`): their
Stripe Dashboard links lead nowhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.test.utils import override_settings

from catalog.models import Availability, Diamond, Feed
from orders.models import Order
from orders.services import (
    PaidSession,
    order_attach_checkout_session,
    order_create,
    order_feed_order_place,
    order_mark_paid,
)

DEMO_SHOPPER = "shopper"


@dataclass(frozen=True)
class DemoOrder:
    reference: str
    stone_id: str
    feed_fails: bool
    label: str


DEMO_ORDERS = (
    DemoOrder("demo-confirmed", "DEMO-0002", feed_fails=False, label="confirmed"),
    DemoOrder("demo-feed-failed", "DEMO-0003", feed_fails=True, label="needs attention"),
)


def seed_demo_orders(*, stdout) -> list[Order]:
    """Create the demo orders that do not exist yet (found by their `reference`)."""
    shopper = get_user_model().objects.filter(username=DEMO_SHOPPER).first()
    if shopper is None:
        stdout.write(f"Demo orders: skipped, there is no {DEMO_SHOPPER!r} user.")
        return []
    orders = []
    for spec in DEMO_ORDERS:
        existing = Order.objects.filter(reference=spec.reference).first()
        if existing is not None:
            stdout.write(f"Demo order {existing.display_number} ({spec.label}): unchanged")
            orders.append(existing)
            continue
        diamond = Diamond.objects.filter(feed=Feed.DEMO, supplier_stone_id=spec.stone_id).first()
        if diamond is None or diamond.availability != Availability.AVAILABLE or not diamond.price:
            stdout.write(f"Demo order ({spec.label}): skipped, stone {spec.stone_id} is not free.")
            continue
        order = _paid_demo_order(shopper=shopper, diamond=diamond, spec=spec)
        stdout.write(
            f"Demo order {order.display_number} ({spec.label}): created for {shopper.username}, "
            f"{order.get_status_display().lower()}, feed order "
            f"{order.get_feed_order_status_display().lower()}"
        )
        orders.append(order)
    return orders


def _paid_demo_order(*, shopper, diamond: Diamond, spec: DemoOrder) -> Order:
    order = order_create(
        user=shopper,
        diamond=diamond,
        amount_cents=int(diamond.price * 100),
        reference=spec.reference,
        comments="Demo order created by seed_demo.",
    )
    session_id = f"cs_test_demo_{order.order_number}"
    order_attach_checkout_session(order=order, session_id=session_id, url="")
    session = PaidSession(
        session_id=session_id,
        payment_intent_id=f"pi_test_demo_{order.order_number}",
        amount_total=order.amount_cents,
        currency=order.currency,
    )
    # The demo feed refuses every order while DEMO_FEED_FAIL_ORDERS is on. With the in-process
    # task backend the feed order runs as the payment commits; with the database backend the
    # direct call below claims the attempt first and the queued task finds nothing to do.
    with override_settings(DEMO_FEED_FAIL_ORDERS=spec.feed_fails):
        order_mark_paid(order=order, session=session)
        order_feed_order_place(order_id=order.pk)
    return Order.objects.select_related("diamond").get(pk=order.pk)
