"""Demo orders for `seed_demo`, so the ops dashboard has something to triage after `make run`.

With the payment simulator on (DEBUG, no Stripe key) every order takes the shopper's real
path: `checkout_create`, then the simulator's signed `checkout.session.completed` through the
webhook, then the demo feed. So the webhook log, the timeline and the Slack outbox are filled
as in real life, and the demo payments can be refunded from the admin.

- "confirmed": paid, feed order placed.
- "needs attention": paid, but the feed order failed because the demo feed was told to refuse
  orders while it ran (`DEMO_FEED_FAIL_ORDERS`, switched on for that one call). The stone is an
  ordinary demo stone, so *Retry feed order* in the admin succeeds.
- "awaiting payment" (simulator only): a checkout the shopper has not paid yet; it expires
  like any other.

Without the simulator (a Stripe key is configured) the two paid orders are written through
the order services with made-up Stripe ids (`cs_test_demo_…`), which Stripe does not know.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.test.utils import override_settings

from catalog.models import Availability, Diamond, Feed
from orders.feed_orders import feed_order_place
from orders.models import Order
from orders.services import (
    PaidSession,
    order_attach_checkout_session,
    order_create,
    order_mark_paid,
)
from payments.gateway import simulator_enabled
from payments.services import CheckoutError, checkout_amount_cents, checkout_create
from payments.simulator import SimulatorError, simulator_deliver

DEMO_SHOPPER = "shopper"
COMMENTS = "Demo order created by seed_demo."


@dataclass(frozen=True)
class DemoOrder:
    reference: str
    stone_id: str
    label: str
    paid: bool = True
    feed_fails: bool = False


DEMO_ORDERS = (
    DemoOrder("demo-confirmed", "DEMO-0002", "confirmed"),
    DemoOrder("demo-feed-failed", "DEMO-0003", "needs attention", feed_fails=True),
    DemoOrder("demo-awaiting-payment", "DEMO-0006", "awaiting payment", paid=False),
)


def seed_demo_orders(*, stdout) -> list[Order]:
    """Create the demo orders that do not exist yet (found by their `reference`)."""
    shopper = get_user_model().objects.filter(username=DEMO_SHOPPER).first()
    if shopper is None:
        stdout.write(f"Demo orders: skipped, there is no {DEMO_SHOPPER!r} user.")
        return []
    simulated = simulator_enabled()
    orders = []
    for spec in DEMO_ORDERS:
        existing = Order.objects.filter(reference=spec.reference).first()
        if existing is not None:
            stdout.write(f"Demo order {existing.display_number} ({spec.label}): unchanged")
            orders.append(existing)
            continue
        if not spec.paid and not simulated:
            stdout.write(f"Demo order ({spec.label}): skipped, it needs the payment simulator.")
            continue
        diamond = Diamond.objects.filter(feed=Feed.DEMO, supplier_stone_id=spec.stone_id).first()
        if diamond is None or diamond.availability != Availability.AVAILABLE or not diamond.price:
            stdout.write(f"Demo order ({spec.label}): skipped, stone {spec.stone_id} is not free.")
            continue
        try:
            if simulated:
                order = _simulated_order(shopper=shopper, diamond=diamond, spec=spec)
            else:
                order = _recorded_order(shopper=shopper, diamond=diamond, spec=spec)
        except (CheckoutError, SimulatorError) as exc:
            stdout.write(f"Demo order ({spec.label}): not created: {exc}")
            continue
        stdout.write(
            f"Demo order {order.display_number} ({spec.label}): created for {shopper.username}, "
            f"{order.get_status_display().lower()}, feed order "
            f"{order.get_feed_order_status_display().lower()}"
        )
        orders.append(order)
    return orders


def _simulated_order(*, shopper, diamond: Diamond, spec: DemoOrder) -> Order:
    order = checkout_create(
        user=shopper, diamond_id=diamond.pk, reference=spec.reference, comments=COMMENTS
    )
    if spec.paid:
        # With the in-process task backend the feed order runs as the payment commits; with
        # the database backend the direct call claims the attempt first and the queued task
        # finds nothing left to do.
        with override_settings(DEMO_FEED_FAIL_ORDERS=spec.feed_fails):
            simulator_deliver(order=order, action="pay")
            feed_order_place(order_id=order.pk, attempt=1)
    return Order.objects.get(pk=order.pk)


def _recorded_order(*, shopper, diamond: Diamond, spec: DemoOrder) -> Order:
    order = order_create(
        user=shopper,
        diamond=diamond,
        amount_cents=checkout_amount_cents(diamond),
        reference=spec.reference,
        comments=COMMENTS,
    )
    session_id = f"cs_test_demo_{order.order_number}"
    order_attach_checkout_session(order=order, session_id=session_id, url="")
    session = PaidSession(
        session_id=session_id,
        payment_intent_id=f"pi_test_demo_{order.order_number}",
        amount_total=order.amount_cents,
        currency=order.currency,
    )
    with override_settings(DEMO_FEED_FAIL_ORDERS=spec.feed_fails):
        order_mark_paid(order=order, session=session)
        feed_order_place(order_id=order.pk, attempt=1)
    return Order.objects.get(pk=order.pk)
