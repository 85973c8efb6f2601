"""Demo orders for `seed_demo`, so the ops dashboard has something to triage after `make run`.

With the payment simulator on (DEBUG, no Stripe key) every order takes the shopper's real
path: `checkout_create`, then the simulator's signed `checkout.session.completed` through the
webhook, then the demo feed. So the webhook log, the timeline and the Slack outbox are filled
as in real life, and the demo payments can be refunded from the admin.

- "confirmed": paid, feed order placed.
- "needs attention": paid, but its first feed order is recorded as failed by the seeding
  itself, without asking the demo feed, and its error says exactly that (the feed is working
  and `DEMO_FEED_FAIL_ORDERS` is untouched). The stone is an ordinary demo stone, so
  *Retry feed order* in the admin succeeds.
- "awaiting payment" (simulator only): a checkout the shopper has not paid yet; it expires
  like any other.
- "shipped" and "delivered": confirmed, then taken along the stone's way by the demo staff user
  through the fulfilment services (received, shipped with NZ Post and a made-up tracking
  number, and delivered), so the order page shows its progress line and the delivered one can
  be returned.

Without the simulator (a Stripe key is configured) the two paid orders are written through
the order services with made-up Stripe ids (`cs_test_demo_…`), which Stripe does not know.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from catalog.models import Availability, Diamond, Feed
from gateway.simulator import SimulatorError, simulator_enabled
from orders.feed_orders import feed_order_place, feed_order_record_failure
from orders.fulfilment import order_mark_delivered, order_ship, order_stone_receive
from orders.models import Order
from orders.services import (
    PaidSession,
    order_attach_checkout_session,
    order_create,
    order_mark_paid,
)
from payments.services import CheckoutError, checkout_amount_cents, checkout_create
from payments.simulator import simulator_deliver

DEMO_SHOPPER = "shopper"
COMMENTS = "Demo order created by seed_demo."
DEMO_FEED_FAILURE = (
    "Not placed: seed_demo recorded this feed order as failed on purpose, without asking the "
    "demo feed, so the dashboard has an order to triage. The demo feed itself is working "
    "(DEMO_FEED_FAIL_ORDERS is not involved), so Retry feed order places it."
)


@dataclass(frozen=True)
class DemoOrder:
    reference: str
    stone_id: str
    label: str
    paid: bool = True
    feed_fails: bool = False
    # How far along the stone's way: "", "shipped" or "delivered".
    fulfilled: str = ""


DEMO_ORDERS = (
    DemoOrder("demo-confirmed", "DEMO-0002", "confirmed"),
    DemoOrder("demo-feed-failed", "DEMO-0003", "needs attention", feed_fails=True),
    DemoOrder("demo-awaiting-payment", "DEMO-0006", "awaiting payment", paid=False),
    DemoOrder("demo-shipped", "DEMO-0004", "shipped", fulfilled="shipped"),
    DemoOrder("demo-delivered", "DEMO-0008", "delivered", fulfilled="delivered"),
)
DEMO_STAFF = "staff"
DEMO_CARRIER = "nzpost"


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
        if spec.fulfilled:
            order = _fulfil(order=order, spec=spec)
        stdout.write(
            f"Demo order {order.display_number} ({spec.label}): created for {shopper.username}, "
            f"{order.get_status_display().lower()}, feed order "
            f"{order.get_feed_order_status_display().lower()}"
            + (f", {order.get_fulfilment_status_display().lower()}" if spec.fulfilled else "")
        )
        orders.append(order)
    return orders


def _fulfil(*, order: Order, spec: DemoOrder) -> Order:
    """Receive, ship and (for "delivered") deliver the confirmed order, as ops would."""
    staff = get_user_model().objects.filter(username=DEMO_STAFF).first()
    order_stone_receive(order=order, actor=staff, note="Demo: checked by seed_demo.")
    order_ship(
        order=order,
        actor=staff,
        carrier=DEMO_CARRIER,
        tracking_number=f"EG{order.order_number.replace('-', '')[-9:]}NZ",
    )
    if spec.fulfilled == "delivered":
        order_mark_delivered(order=order, actor=staff)
    return Order.objects.get(pk=order.pk)


def _simulated_order(*, shopper, diamond: Diamond, spec: DemoOrder) -> Order:
    order = checkout_create(
        user=shopper, diamond_id=diamond.pk, reference=spec.reference, comments=COMMENTS
    )
    if spec.paid:
        # With the in-process task backend the feed order runs as the payment commits; with
        # the database backend the direct call claims the attempt first and the queued task
        # finds nothing left to do.
        with _first_attempt(order=order, spec=spec):
            simulator_deliver(order=order, action="pay")
    return Order.objects.get(pk=order.pk)


@contextmanager
def _first_attempt(*, order: Order, spec: DemoOrder):
    """Pay inside the block; then the first feed order is placed, or, for the failing demo
    order, recorded as failed in the payment's own transaction, so the queued attempt finds
    nothing to do when it runs at commit (the supplier is never asked)."""
    if not spec.feed_fails:
        yield
        feed_order_place.call(order_id=order.pk, attempt=1)
        return
    with transaction.atomic():
        yield
        paid = Order.objects.get(pk=order.pk)
        feed_order_record_failure(order=paid, attempt=1, error=DEMO_FEED_FAILURE)


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
    with _first_attempt(order=order, spec=spec):
        order_mark_paid(order=order, session=session)
    return Order.objects.get(pk=order.pk)
