"""The money path is straight: one paid order's whole walk — Stripe's signed event into the
webhook, the supplier order, the capture of the held payment, the shopper's emails and the ops
alert — crosses from `payments` (the HTTP edge) into `orders` exactly once. Everything after
that call is the order's own business, down to the payment gateway beneath it.

Measured for real: every Python call made while the walk runs is recorded with the module of
its caller and of the function called.
"""

import sys

import pytest
from django.core import mail

from notifications.models import Category, Notification
from orders.models import FeedOrderStatus, PaymentStatus, Status
from tests.doubles.stripe import post_event, stripe_event
from tests.payments.test_money_safety import capture_calls, start_checkout, state

pytestmark = pytest.mark.django_db(transaction=True)


def _app(frame) -> str:
    return (frame.f_globals.get("__name__") or "").partition(".")[0]


def crossings(run) -> list[str]:
    """The calls from a `payments` function into an `orders` function while `run()` runs
    (building a value to pass along, a dataclass's `__init__`, is part of the call)."""
    found = []

    def watch(frame, event, arg):
        caller = frame.f_back
        if (
            event == "call"
            and frame.f_code.co_name != "__init__"
            and caller is not None
            and (_app(caller), _app(frame)) == ("payments", "orders")
        ):
            found.append(
                f"{caller.f_globals['__name__']}.{caller.f_code.co_name} → "
                f"{frame.f_globals['__name__']}.{frame.f_code.co_name}"
            )

    sys.setprofile(watch)
    try:
        run()
    finally:
        sys.setprofile(None)
    return found


def test_one_paid_order_crosses_from_payments_into_orders_once(
    settings, stripe_api, client, shopper_client, demo_diamond
):
    settings.CHECKOUT_CAPTURE = "manual"
    order = start_checkout(shopper_client, demo_diamond)
    session = stripe_api.complete(order.stripe_checkout_session_id)
    event = stripe_event("checkout.session.completed", session)

    walk = crossings(lambda: post_event(client, event))

    assert walk == ["payments.fulfilment.session_fulfil → orders.payment_events.payment_received"]
    # … and the walk went all the way: supplier order, capture, emails, the ops alert.
    assert state(order) == (Status.CONFIRMED, PaymentStatus.PAID, FeedOrderStatus.SUCCESS)
    assert len(capture_calls(stripe_api)) == 1
    assert [m.subject.split(" — ")[0] for m in mail.outbox] == [
        "We've received your payment",
        "Your order is confirmed",
    ]
    assert Notification.objects.filter(
        category=Category.ORDER_COMPLETED, reference=order.order_number
    ).exists()
