"""The Stripe object builders: every object in every state has exactly the fields of the object
Stripe publishes, in the shapes the SDK's classes declare (tests/doubles/stripe_shapes.py)."""

import typing

import pytest
import stripe

from gateway import stripe_objects as so
from payments.webhooks import HANDLERS
from tests.doubles.stripe_shapes import field_errors, shape_errors

CREATED = 1_790_000_000
SHIPPING = so.shipping_details(
    name="Aroha Smith",
    address=so.address(line1="12 Queen Street", city="Auckland", postal_code="1010", country="NZ"),
)


def session(**overrides):
    values = {
        "id": "cs_test_a1",
        "created": CREATED,
        "expires_at": CREATED + 3600,
        "amount_total": 1_234_500,
        "currency": "nzd",
        "success_url": "https://shop.example.com/checkout/success/",
        "cancel_url": "https://shop.example.com/diamonds/1/",
        "url": "https://checkout.stripe.com/c/pay/cs_test_a1",
        "metadata": {"order_number": "DO-20260101-0001"},
        "customer_email": "aroha@example.com",
        "allowed_countries": ["NZ", "AU"],
        "phone_number_collection": True,
        **overrides,
    }
    return so.checkout_session(**values)


def intent(capture_method="manual"):
    return so.payment_intent(
        id="pi_3A", amount=1_234_500, currency="nzd", created=CREATED, capture_method=capture_method
    )


def card_charge(**overrides):
    values = {
        "id": "ch_3A",
        "amount": 1_234_500,
        "currency": "nzd",
        "created": CREATED,
        "payment_intent": "pi_3A",
        **overrides,
    }
    return so.charge(**values)


def a_dispute(payment_intent=None):
    return so.dispute(
        id="dp_1",
        charge="ch_3A",
        payment_intent=payment_intent,
        amount=1_234_500,
        currency="nzd",
        created=CREATED,
        evidence_due_by=CREATED + 7 * 86400,
    )


def every_state() -> list[dict]:
    """One of each object in each state the builders make."""
    opened = session()
    held = card_charge(captured=False)
    pending = card_charge(status="pending", payment_method_type="nz_bank_account")
    failed = so.charge_settled(pending, succeeded=False)
    authorised = so.payment_intent_paid(intent(), charge=held)
    captured = so.charge_captured(held)
    first = so.refund(id="re_1", charge=captured, amount=100_000, created=CREATED)
    dispute = a_dispute()
    return [
        opened,
        so.checkout_session_completed(
            opened,
            payment_intent="pi_3A",
            payment_status="unpaid",
            phone="+64215550100",
            shipping_details=SHIPPING,
        ),
        so.checkout_session_settled(opened, succeeded=True),
        so.checkout_session_expired(opened),
        intent(),
        authorised,
        so.payment_intent_paid(intent("automatic"), charge=card_charge()),
        so.payment_intent_paid(intent("automatic"), charge=pending),
        so.payment_intent_failed(intent("automatic"), charge=failed),
        so.payment_intent_captured(authorised),
        so.payment_intent_canceled(authorised, canceled_at=CREATED + 60, reason="abandoned"),
        held,
        captured,
        pending,
        failed,
        so.charge_settled(pending, succeeded=True),
        so.charge_refunded(captured, refund=first),
        so.charge_disputed(captured),
        first,
        so.refund(id="re_2", charge=pending, amount=1, created=CREATED),
        so.refund_failed(first),
        dispute,
        so.dispute_updated(dispute, status="under_review")[0],
        so.early_fraud_warning(id="issfr_1", charge="ch_3A", payment_intent=None, created=CREATED),
        so.early_fraud_warning(id="issfr_2", charge="ch_3A", payment_intent="pi_3A", created=1),
        so.list_object(url="/v1/checkout/sessions", data=[opened]),
        so.event(id="evt_1", type="charge.refunded", object=captured, created=CREATED),
    ]


@pytest.mark.parametrize("obj", every_state(), ids=lambda o: o["object"])
def test_every_object_has_exactly_the_published_fields_in_the_sdks_shapes(obj):
    assert field_errors(obj) == []
    if obj["object"] != "list":
        assert shape_errors(obj) == []


def test_the_shape_check_catches_an_invented_field_a_null_and_a_wrong_nested_shape():
    opened = session()
    assert field_errors({**opened, "capture_method": "manual"})
    assert field_errors({k: v for k, v in opened.items() if k != "payment_link"})
    assert shape_errors({**opened, "custom_text": None})  # never null at Stripe
    assert shape_errors({**opened, "phone_number_collection": {"enabled": "yes"}})
    details = so.customer_details(email="a@example.com", phone="+64")
    assert shape_errors({**opened, "customer_details": {**details, "mobile": "+64"}})
    assert shape_errors({**card_charge(), "amount": "100"})


def test_a_completed_session_keeps_shipping_where_the_pinned_version_puts_it():
    completed = so.checkout_session_completed(
        session(),
        payment_intent="pi_3A",
        payment_status="paid",
        phone="+64215550100",
        shipping_details=SHIPPING,
    )
    assert completed["status"] == "complete" and completed["url"] is None
    assert completed["collected_information"]["shipping_details"] == SHIPPING
    assert completed["customer_details"]["phone"] == "+64215550100"
    assert completed["customer_details"]["email"] == "aroha@example.com"
    assert "shipping_details" not in completed

    legacy = so.checkout_session_with_legacy_shipping(completed)
    assert legacy["shipping_details"] == SHIPPING
    assert "collected_information" not in legacy
    assert "collected_information" in completed  # the builders never change what they get


def test_a_manual_capture_holds_the_money_until_captured():
    held = card_charge(captured=False)
    authorised = so.payment_intent_paid(intent("manual"), charge=held)
    assert (authorised["status"], authorised["amount_capturable"]) == ("requires_capture", 1234500)
    assert authorised["amount_received"] == 0 and authorised["latest_charge"] == "ch_3A"
    assert (held["captured"], held["amount_captured"], held["paid"]) == (False, 0, True)

    captured = so.payment_intent_captured(authorised)
    assert (captured["status"], captured["amount_received"]) == ("succeeded", 1_234_500)
    assert captured["amount_capturable"] == 0
    assert so.charge_captured(held)["amount_captured"] == 1_234_500


def test_a_delayed_payment_is_processing_then_settles_or_fails():
    pending = card_charge(status="pending", payment_method_type="nz_bank_account")
    assert so.payment_intent_paid(intent("automatic"), charge=pending)["status"] == "processing"
    assert pending["payment_method_details"]["type"] == "nz_bank_account"
    settled = so.charge_settled(pending, succeeded=True)
    paid = so.payment_intent_paid(intent("automatic"), charge=settled)
    assert (paid["status"], paid["amount_received"]) == ("succeeded", 1_234_500)
    failed = so.charge_settled(pending, succeeded=False)
    assert (failed["status"], failed["paid"], failed["failure_code"]) == (
        "failed",
        False,
        "card_declined",
    )
    retry = so.payment_intent_failed(intent("automatic"), charge=failed)
    assert retry["status"] == "requires_payment_method"
    assert retry["last_payment_error"]["charge"] == failed["id"]


def test_refunds_add_up_on_the_charge_which_does_not_list_them():
    captured = card_charge()
    first = so.refund(id="re_1", charge=captured, amount=10_000, created=CREATED)
    partly = so.charge_refunded(captured, refund=first)
    assert (partly["amount_refunded"], partly["refunded"]) == (10_000, False)
    rest = so.refund(id="re_2", charge=partly, amount=1_224_500, created=CREATED + 1)
    fully = so.charge_refunded(partly, refund=rest)
    assert (fully["amount_refunded"], fully["refunded"]) == (1_234_500, True)
    assert "refunds" not in fully  # sent only when expanded, since 2022-11-15
    failed = so.refund_failed(rest, failure_reason="lost_or_stolen_card")
    assert (failed["status"], failed["failure_reason"]) == ("failed", "lost_or_stolen_card")
    assert so.charge_refund_failed(fully, refund=failed)["amount_refunded"] == 10_000
    assert (first["currency"], first["payment_intent"], first["charge"]) == (
        "nzd",
        "pi_3A",
        "ch_3A",
    )


@pytest.mark.parametrize("payment_intent", ["pi_3A", None])
def test_disputes_and_fraud_warnings_always_name_the_charge(payment_intent):
    dispute = a_dispute(payment_intent)
    warning = so.early_fraud_warning(
        id="issfr_1", charge="ch_3A", payment_intent=payment_intent, created=CREATED
    )
    for obj in (dispute, warning):
        assert (obj["charge"], obj["payment_intent"]) == ("ch_3A", payment_intent)


def test_the_event_envelope_is_stripes_for_the_sdks_pinned_version():
    event = so.event(id="evt_1", type="checkout.session.completed", object=session(), created=1)
    assert event["api_version"] == stripe.api_version
    assert event["request"] == {"id": None, "idempotency_key": None}
    assert "previous_attributes" not in event["data"]

    moved, before = so.dispute_updated(a_dispute(), status="under_review")
    updated = so.event(
        id="evt_2",
        type="charge.dispute.updated",
        object=moved,
        created=2,
        previous_attributes=before,
        request_id="req_1",
        idempotency_key="key-1",
    )
    assert updated["data"]["previous_attributes"] == {"status": "needs_response"}
    assert updated["request"] == {"id": "req_1", "idempotency_key": "key-1"}
    assert shape_errors(updated) == []

    with pytest.raises(ValueError, match="previous_attributes"):
        so.event(id="evt_3", type="charge.dispute.updated", object=moved, created=3)
    with pytest.raises(ValueError, match="previous_attributes"):
        so.event(id="evt_4", type="charge.refunded", object={}, created=4, previous_attributes={})


def test_the_event_types_the_webhook_handles_are_stripes():
    known = set(typing.get_args(stripe.Event.__annotations__["type"]))
    assert set(HANDLERS) <= known
