"""The Stripe double itself, through the real `stripe` SDK: it refuses what Stripe refuses, in
Stripe's words, and answers with objects of exactly the published fields in the SDK's shapes."""

import time

import pytest
import stripe
from django.utils import timezone

from payments.services import checkout_session_params
from tests.doubles.stripe import stripe_event
from tests.doubles.stripe_shapes import field_errors, shape_errors
from tests.factories import DiamondFactory, OrderFactory, UserFactory

PRICE = 1_234_500


@pytest.fixture
def sdk(stripe_api):
    return stripe.StripeClient(
        "sk_test_suite", base_addresses={"api": stripe_api.url}, max_network_retries=0
    )


def session_params(**overrides):
    """What the store sends to create a Checkout Session (`checkout_session_params`, for an
    order not saved), with `overrides`."""
    user = UserFactory.build(email="aroha@example.com")
    diamond = DiamondFactory.build()
    order = OrderFactory.build(user=user, diamond=diamond, amount_cents=PRICE)
    params = checkout_session_params(order=order, diamond=diamond, user=user, now=timezone.now())
    return {**params, **overrides}


def refused(call) -> stripe.StripeError:
    with pytest.raises(stripe.StripeError) as caught:
        call()
    return caught.value


def assert_stripes(obj):
    """Exactly the published fields, in the SDK's declared shapes."""
    obj = obj.to_dict() if hasattr(obj, "to_dict") else obj
    assert field_errors(obj) == []
    assert shape_errors(obj) == []


# ---------------------------------------------------------------- what Stripe refuses


def test_an_unknown_parameter_is_refused_as_stripe_refuses_it(sdk):
    error = refused(lambda: sdk.v1.checkout.sessions.create(params=session_params(colour="red")))
    assert isinstance(error, stripe.InvalidRequestError)
    assert (error.http_status, error.code, error.param) == (400, "parameter_unknown", "colour")
    assert error.user_message == "Received unknown parameter: colour"


def test_a_misnested_parameter_is_an_unknown_one(sdk):
    """`capture_method` belongs under `payment_intent_data`; at the top it does not exist."""
    error = refused(
        lambda: sdk.v1.checkout.sessions.create(params=session_params(capture_method="manual"))
    )
    assert (error.code, error.param) == ("parameter_unknown", "capture_method")
    nested = session_params(payment_intent_data={"capture": "manual"})
    error = refused(lambda: sdk.v1.checkout.sessions.create(params=nested))
    assert error.user_message == "Received unknown parameter: payment_intent_data[capture]"


def test_a_missing_required_parameter_is_refused(sdk):
    items = [{"price_data": {"unit_amount": 100, "product_data": {"name": "x"}}, "quantity": 1}]
    error = refused(
        lambda: sdk.v1.checkout.sessions.create(params=session_params(line_items=items))
    )
    assert (error.code, error.param) == ("parameter_missing", "line_items[0][price_data][currency]")


@pytest.mark.parametrize(
    ("params", "param", "message"),
    [
        (
            {"mode": "pay"},
            "mode",
            "Invalid mode: must be one of payment, setup, or subscription",
        ),
        (
            {"payment_intent_data": {"capture_method": "later"}},
            "payment_intent_data[capture_method]",
            "Invalid payment_intent_data[capture_method]: must be one of automatic, "
            "automatic_async, or manual",
        ),
        (
            {"shipping_address_collection": {"allowed_countries": ["NZ", " AU"]}},
            "shipping_address_collection[allowed_countries][1]",
            "Invalid shipping_address_collection[allowed_countries][1]: must be one of AC, AD",
        ),
    ],
)
def test_a_bad_enum_value_is_refused_though_the_sdk_types_allow_any_string(
    sdk, params, param, message
):
    error = refused(lambda: sdk.v1.checkout.sessions.create(params=session_params(**params)))
    assert (error.http_status, error.param, error.code) == (400, param, None)
    assert error.user_message.startswith(message)


@pytest.mark.parametrize(
    ("minutes", "message"),
    [
        (29, "The `expires_at` timestamp must be at least 30 minutes from Checkout Session"),
        (24 * 60 + 1, "The `expires_at` timestamp must be less than 24 hours from Checkout"),
    ],
)
def test_expires_at_outside_30_minutes_to_24_hours_is_refused(sdk, minutes, message):
    expires_at = int(time.time()) + minutes * 60
    params = session_params(expires_at=expires_at)
    error = refused(lambda: sdk.v1.checkout.sessions.create(params=params))
    assert (error.http_status, error.param) == (400, "expires_at")
    assert error.user_message.startswith(message)


def test_expires_at_at_the_limits_is_accepted(sdk):
    for minutes in (30, 24 * 60):
        expires_at = int(time.time()) + minutes * 60 + (5 if minutes == 30 else -5)
        session = sdk.v1.checkout.sessions.create(params=session_params(expires_at=expires_at))
        assert session.expires_at == expires_at


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({f"k{i}": "v" for i in range(51)}, "Metadata can have up to 50 keys, but you've set 51."),
        ({"k" * 41: "v"}, f"Invalid key: {'k' * 41} must be a string under 40 characters"),
        ({"k": "v" * 501}, f"Invalid val: {'v' * 501} must be a string under 500 characters"),
    ],
)
def test_metadata_over_stripes_limits_is_refused_wherever_it_is(sdk, metadata, message):
    for params in (
        session_params(metadata=metadata),
        session_params(payment_intent_data={"metadata": metadata}),
    ):
        error = refused(lambda params=params: sdk.v1.checkout.sessions.create(params=params))
        assert error.http_status == 400
        assert error.user_message.startswith(message)


def test_metadata_at_stripes_limits_is_accepted(sdk):
    metadata = {f"{i:02d}" + "k" * 38: "v" * 500 for i in range(50)}
    session = sdk.v1.checkout.sessions.create(params=session_params(metadata=metadata))
    assert session.metadata.to_dict() == metadata


def test_an_idempotency_key_replays_only_the_request_it_was_first_used_with(sdk, stripe_api):
    params = session_params()
    first = sdk.v1.checkout.sessions.create(params=params, options={"idempotency_key": "k-1"})
    again = sdk.v1.checkout.sessions.create(params=params, options={"idempotency_key": "k-1"})
    assert again.id == first.id and len(stripe_api.sessions) == 1
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.last_response.headers

    changed = {**params, "client_reference_id": "DO-20260101-9999"}
    error = refused(
        lambda: sdk.v1.checkout.sessions.create(params=changed, options={"idempotency_key": "k-1"})
    )
    assert isinstance(error, stripe.IdempotencyError)
    assert error.http_status == 400
    assert error.error.type == "idempotency_error"
    assert error.user_message.startswith(
        "Keys for idempotent requests can only be used with the same parameters they were "
        "first used with. Try using a key other than 'k-1'"
    )
    elsewhere = refused(
        lambda: sdk.v1.refunds.create(
            params={"payment_intent": "pi_x"}, options={"idempotency_key": "k-1"}
        )
    )
    assert isinstance(elsewhere, stripe.IdempotencyError)
    assert len(stripe_api.sessions) == 1


def test_a_refused_request_leaves_its_key_free_for_the_corrected_retry(sdk):
    bad = session_params(expires_at=int(time.time()) + 60)
    refused(lambda: sdk.v1.checkout.sessions.create(params=bad, options={"idempotency_key": "k"}))
    good = sdk.v1.checkout.sessions.create(
        params=session_params(), options={"idempotency_key": "k"}
    )
    assert good.status == "open"


def test_an_unknown_path_a_missing_object_and_a_missing_key_are_stripes_answers(sdk, stripe_api):
    error = refused(lambda: sdk.raw_request("get", "/v1/checkout/session"))
    assert error.http_status == 404
    assert error.user_message.startswith("Unrecognized request URL (GET: /v1/checkout/session).")
    missing = refused(lambda: sdk.v1.payment_intents.retrieve("pi_nope"))
    assert (missing.http_status, missing.code, missing.param) == (404, "resource_missing", "intent")
    assert missing.user_message == "No such payment_intent: 'pi_nope'"
    keyless = stripe.StripeClient(
        "sk_live_nope", base_addresses={"api": stripe_api.url}, max_network_retries=0
    )
    assert refused(lambda: keyless.v1.charges.retrieve("ch_1")).http_status == 401


def test_only_what_stripe_can_expand_is_expanded(sdk):
    session = sdk.v1.checkout.sessions.create(params=session_params())
    error = refused(
        lambda: sdk.v1.checkout.sessions.retrieve(session.id, params={"expand": ["url"]})
    )
    assert error.user_message == "This property cannot be expanded (url)."


# ---------------------------------------------------------------- Stripe's rules on money


def paid_card(sdk, stripe_api, *, capture_method="automatic"):
    params = session_params(payment_intent_data={"capture_method": capture_method})
    session = sdk.v1.checkout.sessions.create(params=params)
    return stripe_api.complete(session.id)


def test_a_manual_capture_is_captured_once_and_a_release_refunds_the_hold(sdk, stripe_api):
    held = paid_card(sdk, stripe_api, capture_method="manual")
    assert held["payment_status"] == "unpaid"
    intent = sdk.v1.payment_intents.retrieve(held["payment_intent"])
    assert intent.status == "requires_capture"
    captured = sdk.v1.payment_intents.capture(intent.id)
    assert (captured.status, captured.amount_received) == ("succeeded", PRICE)
    again = refused(lambda: sdk.v1.payment_intents.capture(intent.id))
    assert again.code == "payment_intent_unexpected_state"
    assert refused(lambda: sdk.v1.payment_intents.cancel(intent.id)).http_status == 400

    other = paid_card(sdk, stripe_api, capture_method="manual")
    canceled = sdk.v1.payment_intents.cancel(
        other["payment_intent"], params={"cancellation_reason": "abandoned"}
    )
    assert (canceled.status, canceled.cancellation_reason) == ("canceled", "abandoned")
    charge = sdk.v1.charges.retrieve(canceled.latest_charge)
    assert (charge.captured, charge.refunded, charge.amount_refunded) == (False, True, PRICE)


def test_refunds_by_payment_intent_or_charge_up_to_what_is_left(sdk, stripe_api):
    paid = paid_card(sdk, stripe_api)
    first = sdk.v1.refunds.create(params={"payment_intent": paid["payment_intent"], "amount": 100})
    assert (first.amount, first.currency, first.status) == (100, "nzd", "succeeded")
    too_much = refused(
        lambda: sdk.v1.refunds.create(params={"charge": first.charge, "amount": PRICE})
    )
    assert (too_much.code, too_much.param) == ("amount_too_large", "amount")
    rest = sdk.v1.refunds.create(params={"charge": first.charge})
    assert rest.amount == PRICE - 100
    charge = sdk.v1.charges.retrieve(first.charge)
    assert (charge.amount_refunded, charge.refunded) == (PRICE, True)
    assert "refunds" not in charge  # sent only when expanded, since 2022-11-15
    listed = sdk.v1.refunds.list(params={"charge": first.charge, "limit": 1})
    assert ([r.id for r in listed.data], listed.has_more) == ([rest.id], True)
    every = sdk.v1.refunds.list(params={"payment_intent": paid["payment_intent"]})
    assert [r.id for r in every.auto_paging_iter()] == [rest.id, first.id]
    unknown = refused(lambda: sdk.v1.refunds.list(params={"charge": "ch_unknown"}))
    assert (unknown.code, unknown.param) == ("resource_missing", "charge")
    done = refused(lambda: sdk.v1.refunds.create(params={"charge": first.charge}))
    assert done.code == "charge_already_refunded"
    reason = refused(
        lambda: sdk.v1.refunds.create(params={"charge": first.charge, "reason": "changed_mind"})
    )
    assert reason.user_message.startswith("Invalid reason: must be one of duplicate, fraudulent")


def test_a_held_payment_cannot_be_refunded(sdk, stripe_api):
    held = paid_card(sdk, stripe_api, capture_method="manual")
    error = refused(
        lambda: sdk.v1.refunds.create(params={"payment_intent": held["payment_intent"]})
    )
    assert error.param == "payment_intent"


def test_sessions_are_found_by_their_payment_intent(sdk, stripe_api):
    paid = paid_card(sdk, stripe_api)
    paid_card(sdk, stripe_api)
    found = sdk.v1.checkout.sessions.list(
        params={"payment_intent": paid["payment_intent"], "expand": ["data.payment_intent"]}
    )
    assert [s.id for s in found.data] == [paid["id"]]
    assert found.data[0].payment_intent.id == paid["payment_intent"]
    assert refused(
        lambda: sdk.v1.checkout.sessions.list(params={"expand": ["payment_intent"]})
    ).param == ("expand")


# ---------------------------------------------------------------- Stripe's shapes


def test_every_object_the_double_answers_or_sends_is_stripes(sdk, stripe_api):
    opened = sdk.v1.checkout.sessions.create(
        params=session_params(payment_intent_data={"capture_method": "manual"})
    )
    seen = [opened]
    stripe_api.complete(opened.id)
    expanded = sdk.v1.checkout.sessions.retrieve(opened.id, params={"expand": ["payment_intent"]})
    seen += [expanded, expanded.payment_intent]
    seen.append(sdk.v1.payment_intents.capture(expanded.payment_intent.id))
    charge_id = seen[-1].latest_charge
    seen.append(sdk.v1.refunds.create(params={"charge": charge_id, "amount": 500}))
    seen.append(sdk.v1.charges.retrieve(charge_id, params={"expand": ["payment_intent"]}))
    seen.append(seen[-1].payment_intent)
    listed = sdk.v1.checkout.sessions.list(params={"limit": 5})
    seen += list(listed.data)
    expired = sdk.v1.checkout.sessions.create(params=session_params())
    seen.append(sdk.v1.checkout.sessions.expire(expired.id))

    # A delayed method (charged, not held: automatic capture) that fails to settle.
    automatic = session_params()
    automatic["payment_intent_data"].pop("capture_method", None)
    delayed = sdk.v1.checkout.sessions.create(params=automatic)
    seen.append(stripe_api.complete(delayed.id, payment_status="unpaid"))
    seen += [stripe_api.intent_for(delayed.id), stripe_api.charge_for(delayed.id)]
    seen.append(stripe_api.settle(delayed.id, succeeded=False))
    seen += [stripe_api.intent_for(delayed.id), stripe_api.charge_for(delayed.id)]
    dispute = stripe_api.dispute(opened.id, with_payment_intent=False)
    moved, before = stripe_api.dispute_update(dispute["id"], status="under_review")
    warning = stripe_api.early_fraud_warning(opened.id, with_payment_intent=False)
    seen += [dispute, moved, warning, stripe_api.refund_from_dashboard(opened.id)]
    updated = stripe_event("charge.dispute.updated", moved, previous_attributes=before)
    seen += [updated, stripe_event("radar.early_fraud_warning.created", warning)]

    for obj in seen:
        assert_stripes(obj)
    assert field_errors(listed.to_dict()) == []
    assert (dispute["charge"], dispute["payment_intent"]) == (charge_id, None)
    assert (warning["charge"], warning["payment_intent"]) == (charge_id, None)
    assert updated["api_version"] == stripe.api_version


def test_checkout_collects_what_the_session_asked_for(sdk, stripe_api):
    session = sdk.v1.checkout.sessions.create(params=session_params())
    completed = stripe_api.complete(session.id)
    shipping = completed["collected_information"]["shipping_details"]
    assert shipping["address"]["country"] == "NZ" and shipping["name"]
    assert completed["customer_details"]["phone"]
    intent = stripe_api.intent_for(session.id)
    assert intent["shipping"]["address"] == shipping["address"]
    assert intent["metadata"]["order_number"] == session.metadata["order_number"]
