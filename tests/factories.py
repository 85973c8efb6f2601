from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from catalog.models import Availability, Diamond, Feed
from gateway.models import SimulatedCheckout
from orders.models import (
    FeedOrderStatus,
    FulfilmentStatus,
    Order,
    OrderEvent,
    PaymentStatus,
    Status,
)
from orders.states import LEGAL

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"shopper{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(PASSWORD)


class StaffFactory(UserFactory):
    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True
    is_superuser = True


class DiamondFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Diamond

    feed = Feed.DEMO
    supplier_stone_id = factory.Sequence(lambda n: f"STONE-{n:05d}")
    offer_id = factory.LazyAttribute(lambda d: f"OFFER-{d.supplier_stone_id}")
    shape = "ROUND"
    carats = Decimal("1.01")
    color = "G"
    clarity = "VS1"
    cut = "EX"
    polish = "EX"
    symmetry = "EX"
    lab = "GIA"
    certificate_number = factory.Sequence(lambda n: f"{2200000000 + n}")
    image_url = "https://images.example.com/stone.jpg"
    price_nzd = Decimal("9876.00")
    price_model_nzd = Decimal("12345.00")
    availability = Availability.AVAILABLE


def _demo_stone_ids() -> list[str]:
    from feeds.demo import FAIL_PREFIX, demo_stones

    return [
        s.supplier_stone_id
        for s in demo_stones()
        if not s.supplier_stone_id.startswith(FAIL_PREFIX)
    ]


class DemoDiamondFactory(DiamondFactory):
    """A stone the demo feed really lists, so its feed order goes through."""

    supplier_stone_id = factory.Sequence(lambda n: _demo_stone_ids()[n % len(_demo_stone_ids())])


def _state(status, payment, feed, **extra):
    return {"status": status, "payment_status": payment, "feed_order_status": feed, **extra}


class OrderFactory(factory.django.DjangoModelFactory):
    """An order as checkout leaves it; a trait builds a later state the state table allows
    (`OrderFactory(paid=True)`, `OrderFactory(feed_failed=True)`, …).

    Its diamond is not one the demo feed lists: pass `diamond=DemoDiamondFactory(...)` when
    the test places the feed order.
    """

    class Meta:
        model = Order

    class Params:
        failed = factory.Trait(
            **_state(Status.FAILED, PaymentStatus.FAILED, FeedOrderStatus.NOT_ATTEMPTED)
        )
        expired = factory.Trait(
            **_state(Status.EXPIRED, PaymentStatus.EXPIRED, FeedOrderStatus.NOT_ATTEMPTED)
        )
        paid = factory.Trait(
            **_state(
                Status.PAID,
                PaymentStatus.PAID,
                FeedOrderStatus.PENDING,
                feed_order_attempt=1,
                stripe_payment_intent_id=factory.Sequence(lambda n: f"pi_test_factory{n:06d}"),
                paid_at=factory.LazyFunction(timezone.now),
                feed_order_requested_at=factory.LazyFunction(timezone.now),
            )
        )
        feed_failed = factory.Trait(
            paid=True,
            feed_order_status=FeedOrderStatus.FAILED,
            feed_order_error="Supplier said no: the stone is on hold by another buyer.",
        )
        feed_unknown = factory.Trait(
            paid=True,
            feed_order_status=FeedOrderStatus.UNKNOWN,
            feed_order_error="Read timed out.",
        )
        mismatch = factory.Trait(
            paid=True,
            feed_order_status=FeedOrderStatus.NOT_ATTEMPTED,
            feed_order_attempt=0,
            feed_order_requested_at=None,
            feed_order_error="Not placed: Stripe charged 100 usd but the order is for …",
        )
        confirmed = factory.Trait(
            paid=True,
            status=Status.CONFIRMED,
            feed_order_status=FeedOrderStatus.SUCCESS,
            feed_order_id=factory.Sequence(lambda n: f"FEED-{n:05d}"),
            confirmed_at=factory.LazyFunction(timezone.now),
            fulfilment_status=FulfilmentStatus.AWAITING_STONE,
        )
        # The stone's way (orders/fulfilment.py).
        received = factory.Trait(
            confirmed=True,
            fulfilment_status=FulfilmentStatus.RECEIVED,
            received_at=factory.LazyFunction(timezone.now),
        )
        shipped = factory.Trait(
            received=True,
            fulfilment_status=FulfilmentStatus.SHIPPED,
            shipped_at=factory.LazyFunction(timezone.now),
            carrier="nzpost",
            tracking_number=factory.Sequence(lambda n: f"NZ{n:08d}"),
        )
        delivered = factory.Trait(
            shipped=True,
            fulfilment_status=FulfilmentStatus.DELIVERED,
            delivered_at=factory.LazyFunction(timezone.now),
        )
        refunded = factory.Trait(
            feed_failed=True,
            status=Status.CANCELLED,
            payment_status=PaymentStatus.REFUNDED,
            refunded_at=factory.LazyFunction(timezone.now),
            amount_refunded_cents=factory.SelfAttribute("amount_cents"),
        )

    user = factory.SubFactory(UserFactory)
    diamond = factory.SubFactory(DiamondFactory, availability=Availability.RESERVED)
    feed = factory.LazyAttribute(lambda o: o.diamond.feed)
    offer_id = factory.LazyAttribute(lambda o: o.diamond.offer_id)
    order_number = factory.Sequence(lambda n: f"DO-20260101-{n + 1:04d}")
    idempotency_key = factory.Sequence(lambda n: f"checkout-factory-{n}")
    stripe_checkout_session_id = factory.Sequence(lambda n: f"cs_test_factory{n:06d}")
    amount_cents = 1234500
    currency = "nzd"


# The payment simulator's own record of each payment (gateway.SimulatedCheckout), by the
# order's payment status: what the simulator's PaymentIntent says now.
SIMULATED_INTENT = {
    PaymentStatus.PENDING: "requires_payment_method",
    PaymentStatus.AUTHORIZED: "requires_capture",
    PaymentStatus.PAID: "succeeded",
    PaymentStatus.PARTIALLY_REFUNDED: "succeeded",
    PaymentStatus.REFUNDED: "succeeded",
    PaymentStatus.VOIDED: "canceled",
}


def simulated_payment(order: Order) -> Order:
    """Give `order` a payment in the local payment simulator (DEBUG on, no Stripe key) that
    matches its state, so capture, void and refund go through the simulator."""
    token = order.pk.hex
    intent = SIMULATED_INTENT.get(order.payment_status, "requires_payment_method")
    SimulatedCheckout.objects.create(
        session_id=f"cs_sim_{token}",
        payment_intent_id=f"pi_sim_{token}",
        charge_id=f"ch_sim_{token}",
        idempotency_key=order.idempotency_key,
        params={
            "mode": "payment",
            "currency": order.currency,
            "line_items": [
                {
                    "price_data": {"currency": order.currency, "unit_amount": order.amount_cents},
                    "quantity": 1,
                }
            ],
            "metadata": {"order_id": str(order.pk), "order_number": order.order_number},
        },
        status="complete" if intent != "requires_payment_method" else "open",
        payment_status="paid" if intent == "succeeded" else "unpaid",
        intent_status=intent,
        amount_refunded=order.amount_refunded_cents,
        expires_at=order.created_at + timedelta(minutes=30),
    )
    Order.objects.filter(pk=order.pk).update(
        stripe_checkout_session_id=f"cs_sim_{token}", stripe_payment_intent_id=f"pi_sim_{token}"
    )
    order.refresh_from_db()
    return order


# The date each step of the stone's way sets, with the steps that set it.
FULFILMENT_DATES = {
    "received_at": FulfilmentStatus.values[2:],
    "shipped_at": FulfilmentStatus.values[3:],
    "delivered_at": FulfilmentStatus.values[4:],
    "return_requested_at": FulfilmentStatus.values[5:],
    "returned_at": FulfilmentStatus.values[7:],
}


def order_in_state(state: tuple[str, str, str, str], **kwargs) -> Order:
    """An order written into a legal `(status, payment_status, feed_order_status,
    fulfilment_status)`, with the dates and details a real order in that state carries."""
    assert state in LEGAL, state
    status, payment, feed, fulfilment = state
    started = status not in (Status.PENDING_PAYMENT, Status.FAILED, Status.EXPIRED)
    order = OrderFactory(paid=started, **kwargs)
    now = timezone.now()
    refunded = payment in (PaymentStatus.REFUNDED, PaymentStatus.PARTIALLY_REFUNDED)
    Order.objects.filter(pk=order.pk).update(
        status=status,
        payment_status=payment,
        feed_order_status=feed,
        feed_order_attempt=int(feed != FeedOrderStatus.NOT_ATTEMPTED),
        feed_order_error={
            FeedOrderStatus.FAILED: "Supplier said no: the stone is on hold by another buyer.",
            FeedOrderStatus.UNKNOWN: "Read timed out.",
        }.get(feed, ""),
        feed_order_id=f"FEED-{order.order_number}" if feed == FeedOrderStatus.SUCCESS else "",
        confirmed_at=now if status == Status.CONFIRMED else None,
        captured_at=now if refunded or payment == PaymentStatus.PAID else None,
        refunded_at=now if refunded else None,
        amount_refunded_cents=(
            {PaymentStatus.REFUNDED: order.amount_cents, PaymentStatus.PARTIALLY_REFUNDED: 100}
        ).get(payment, 0),
        fulfilment_status=fulfilment,
        **{name: now if fulfilment in steps else None for name, steps in FULFILMENT_DATES.items()},
        **(
            {"carrier": "nzpost", "tracking_number": f"NZ{order.pk.hex[:10].upper()}"}
            if fulfilment in FULFILMENT_DATES["shipped_at"]
            else {}
        ),
        return_reason=(
            "It is smaller than I imagined."
            if fulfilment in FULFILMENT_DATES["return_requested_at"]
            else ""
        ),
    )
    if started:
        OrderEvent.objects.create(order=order, kind="paid", message="Payment received.")
    return Order.objects.get(pk=order.pk)


def orders_in_every_state(**kwargs) -> list[Order]:
    """One order in each of `orders.states.LEGAL`, in a fixed order."""
    return [order_in_state(state, **kwargs) for state in sorted(LEGAL)]
