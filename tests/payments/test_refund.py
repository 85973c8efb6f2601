import json

import pytest

from catalog.models import Availability
from orders.models import Order, PaymentStatus, Status
from orders.money import RefundError, order_refund
from tests.doubles.stripe import post_event, stripe_event
from tests.factories import OrderFactory

REFUNDS = "/v1/refunds"


@pytest.fixture
def paid_order(stripe_api, client, shopper_client, demo_diamond, settings):
    """An order charged at Checkout (automatic capture) whose supplier order is not placed
    yet: checkout, Stripe Checkout, signed webhook."""
    settings.CHECKOUT_CAPTURE = "automatic"
    response = shopper_client.post(
        "/api/v2/checkout/create",
        data=json.dumps({"diamond_id": str(demo_diamond.pk)}),
        content_type="application/json",
    )
    order = Order.objects.get(order_number=response.json()["orderNumber"])
    session = stripe_api.complete(order.stripe_checkout_session_id)
    event = stripe_event("checkout.session.completed", session)
    assert post_event(client, event).status_code == 200
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID
    return order


@pytest.mark.django_db
def test_refund_goes_through_stripe_then_cancels_the_order_and_frees_the_diamond(
    stripe_api, paid_order, staff
):
    refund_id = order_refund(
        order=paid_order, actor=staff, release_diamond=True, reason="Customer changed their mind"
    )

    (call,) = stripe_api.calls("POST", REFUNDS)
    assert (
        call["headers"]["idempotency-key"] == f"refund-{paid_order.pk}-0-{paid_order.amount_cents}"
    )
    assert call["params"]["payment_intent"] == paid_order.stripe_payment_intent_id
    assert call["params"]["reason"] == "requested_by_customer"
    assert call["params"]["metadata"] == {
        "order_id": str(paid_order.pk),
        "order_number": paid_order.order_number,
        "reason": "Customer changed their mind",
        "refunded_by": staff.username,
    }
    assert refund_id in stripe_api.refunds
    assert call["params"]["amount"] == str(paid_order.amount_cents)  # the whole payment
    paid_order.refresh_from_db()
    assert (paid_order.status, paid_order.payment_status) == (
        Status.CANCELLED,
        PaymentStatus.REFUNDED,
    )
    event = paid_order.events.get(kind="refunded")
    assert event.actor == staff
    assert event.data == {
        "refund": refund_id,
        "refund_cents": paid_order.amount_cents,
        "amount_refunded_cents": paid_order.amount_cents,
    }
    paid_order.diamond.refresh_from_db()
    assert paid_order.diamond.availability == Availability.AVAILABLE


@pytest.mark.django_db
def test_refund_can_keep_the_diamond_reserved(stripe_api, paid_order, staff):
    order_refund(order=paid_order, actor=staff, release_diamond=False)

    paid_order.refresh_from_db()
    assert paid_order.payment_status == PaymentStatus.REFUNDED
    paid_order.diamond.refresh_from_db()
    assert paid_order.diamond.availability == Availability.RESERVED


@pytest.mark.django_db
def test_a_second_refund_is_refused_without_calling_stripe(stripe_api, paid_order, staff):
    order_refund(order=paid_order, actor=staff, release_diamond=True)

    with pytest.raises(RefundError, match="refunded, not paid"):
        order_refund(order=paid_order, actor=staff, release_diamond=True)

    assert len(stripe_api.calls("POST", REFUNDS)) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("status", [PaymentStatus.PENDING, PaymentStatus.FAILED])
def test_an_unpaid_order_is_refused_clearly(stripe_api, staff, status):
    order = OrderFactory(failed=status == PaymentStatus.FAILED)

    with pytest.raises(RefundError, match=f"{order.order_number} cannot be refunded"):
        order_refund(order=order, actor=staff, release_diamond=True)

    assert not stripe_api.requests


@pytest.mark.django_db
def test_a_paid_order_without_a_payment_intent_is_refused(stripe_api, staff):
    order = OrderFactory(paid=True, stripe_payment_intent_id="")

    with pytest.raises(RefundError, match="no Stripe payment intent"):
        order_refund(order=order, actor=staff, release_diamond=True)

    assert not stripe_api.requests


@pytest.mark.django_db
def test_stripe_refusing_the_refund_changes_nothing_and_says_why(
    stripe_api, settings, paid_order, staff
):
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    stripe_api.fail("POST", REFUNDS, status=402, message="Charge ch_1 has been disputed.")

    with pytest.raises(RefundError) as caught:
        order_refund(order=paid_order, actor=staff, release_diamond=True)

    message = str(caught.value)
    assert paid_order.order_number in message
    assert paid_order.stripe_payment_intent_id in message
    assert "Charge ch_1 has been disputed." in message
    assert "Nothing was changed." in message
    paid_order.refresh_from_db()
    assert (paid_order.status, paid_order.payment_status) == (Status.PAID, PaymentStatus.PAID)
    assert not paid_order.events.filter(kind="refunded").exists()
    paid_order.diamond.refresh_from_db()
    assert paid_order.diamond.availability == Availability.RESERVED


@pytest.mark.django_db
def test_a_retried_refund_reuses_the_idempotency_key(stripe_api, settings, paid_order, staff):
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    stripe_api.fail("POST", REFUNDS, status=500)

    with pytest.raises(RefundError):
        order_refund(order=paid_order, actor=staff, release_diamond=True)
    order_refund(order=paid_order, actor=staff, release_diamond=True)

    keys = [c["headers"]["idempotency-key"] for c in stripe_api.calls("POST", REFUNDS)]
    assert keys == [f"refund-{paid_order.pk}-0-{paid_order.amount_cents}"] * 2
    assert len(stripe_api.refunds) == 1


@pytest.mark.django_db
def test_a_charge_refunded_webhook_after_the_refund_changes_nothing_more(
    stripe_api, client, paid_order, staff
):
    order_refund(order=paid_order, actor=staff, release_diamond=False)
    charge = stripe_api.charge_for(paid_order.stripe_checkout_session_id)

    response = post_event(client, stripe_event("charge.refunded", charge))

    assert response.status_code == 200
    paid_order.refresh_from_db()
    assert paid_order.payment_status == PaymentStatus.REFUNDED
    assert paid_order.events.filter(kind="refunded").count() == 1
