"""Property-based fuzzing (hypothesis) of the webhook and both checkout endpoints: whatever
arrives, never a 5xx; unverified input stores nothing and is refused with a clear 4xx; every
verified event is stored once and handled without an error."""

import json
import time
import uuid

import pytest
from django.conf import settings
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from notifications.models import Notification
from orders.models import FeedOrderStatus, Order, PaymentStatus, Status
from payments.models import WebhookEvent
from tests.doubles.stripe import WEBHOOK_PATH, sign, stripe_event
from tests.factories import DiamondFactory, OrderFactory
from tests.payments.test_webhooks import session_for

pytestmark = pytest.mark.django_db

fuzz = hypothesis_settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Standard JSON, as Stripe sends it: no NaN/Infinity constants, no U+0000 (which PostgreSQL's
# jsonb cannot hold). Signed bodies outside that are covered separately below.
text = st.text(st.characters(exclude_characters="\x00"), max_size=40)
finite = st.floats(allow_nan=False, allow_infinity=False)
scalars = st.none() | st.booleans() | st.integers() | finite | text
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)
EVENT_TYPES = [
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
    "charge.refunded",
    "payment_intent.succeeded",
    "customer.created",
]
WEBHOOK_ANSWERS_400 = {"Invalid signature.", "Invalid payload.", "Not a Stripe event."}


def post(client, body: bytes, signature: str | None):
    extra = {} if signature is None else {"HTTP_STRIPE_SIGNATURE": signature}
    return client.post(WEBHOOK_PATH, data=body, content_type="application/json", **extra)


def signed_post(client, payload, *, secret=None, timestamp=None):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return post(
        client, body, sign(body, secret or settings.STRIPE_WEBHOOK_SECRET, timestamp=timestamp)
    )


# ---------------------------------------------------------------- unverified input


hex_signature = st.builds(
    lambda t, v: f"t={t},v1={v}",
    st.integers(min_value=0, max_value=2**40),
    st.text("0123456789abcdef", min_size=0, max_size=64),
)
bodies = (
    st.binary(max_size=2000)
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.builds(
        lambda e: json.dumps(e).encode(),
        st.builds(stripe_event, st.sampled_from(EVENT_TYPES), st.just({})),
    )
)


@fuzz
@given(body=bodies, signature=st.none() | st.text(max_size=200) | hex_signature)
def test_unsigned_or_badly_signed_input_is_400_and_stores_nothing(client, body, signature):
    response = post(client, body, signature)
    assert response.status_code == 400
    assert response.json()["message"] in WEBHOOK_ANSWERS_400
    assert not WebhookEvent.objects.exists()


@fuzz
@given(
    body=bodies,
    how=st.sampled_from(["wrong secret", "stale", "tampered"]),
    age=st.integers(min_value=301, max_value=10**9),
)
def test_signatures_with_the_wrong_secret_too_old_or_over_another_body_are_400(
    client, body, how, age
):
    if how == "wrong secret":
        response = signed_post(client, body, secret="whsec_someone_else")
    elif how == "stale":
        response = signed_post(client, body, timestamp=int(time.time()) - age)
    else:
        response = post(client, body + b" ", sign(body, settings.STRIPE_WEBHOOK_SECRET))
    assert response.status_code == 400
    # A body that is not UTF-8 is refused as a payload before its signature is looked at.
    assert response.json()["message"] in {"Invalid signature.", "Invalid payload."}
    assert not WebhookEvent.objects.exists()


@fuzz
@given(payload=json_values)
def test_signed_json_that_is_not_an_event_is_400_and_stores_nothing(client, payload):
    assume(not (isinstance(payload, dict) and payload.get("object") == "event"))
    response = signed_post(client, payload)
    assert response.status_code == 400
    assert response.json()["message"] == "Not a Stripe event."
    assert not WebhookEvent.objects.exists()


def test_a_huge_payload_is_refused_before_it_is_read_in_json_with_a_warning(client, caplog):
    body = json.dumps(stripe_event("customer.created", {"blob": "x" * 3_000_000})).encode()
    response = signed_post(client, body)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert not WebhookEvent.objects.exists()
    assert [r.levelname for r in caplog.records if "DATA_UPLOAD_MAX_MEMORY_SIZE" in r.message] == [
        "WARNING"
    ]
    assert not [r for r in caplog.records if r.levelname == "ERROR" or r.exc_info]


def test_a_large_but_acceptable_event_is_stored(client):
    event = stripe_event("customer.created", {"object": "customer", "blob": "x" * 1_000_000})
    response = signed_post(client, event)
    assert response.status_code == 200
    assert WebhookEvent.objects.get().payload == event


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity", "1e999", "-1E400"])
def test_a_signed_body_with_a_non_json_constant_or_an_infinite_number_is_refused(client, constant):
    """`1e999` is JSON, but Python reads it as infinity, which jsonb cannot hold: storing it
    failed with 503, which Stripe would retry for three days."""
    event = stripe_event("customer.created", {"object": "customer"})
    body = (
        json.dumps(event)
        .encode()
        .replace(b'"livemode": false', b'"x": ' + constant.encode() + b', "livemode": false')
    )
    response = signed_post(client, body)
    assert response.status_code == 400
    assert response.json()["message"] == "Invalid payload."
    assert not WebhookEvent.objects.exists()


def test_a_signed_event_containing_u0000_is_refused_not_retried_forever(client):
    event = stripe_event("customer.created", {"object": "customer", "name": "a\u0000b"})
    response = signed_post(client, json.dumps(event).encode())
    assert response.status_code == 400
    assert response.json()["message"] == "Invalid payload."


# ---------------------------------------------------------------- verified events


session_like = st.fixed_dictionaries(
    {"object": st.just("checkout.session")},
    optional={
        "id": text | st.integers() | st.none(),
        "payment_status": st.sampled_from(["paid", "unpaid", "no_payment_required"]) | text,
        "status": st.sampled_from(["open", "complete", "expired"]) | text,
        "amount_total": st.integers() | st.none() | text,
        "amount": st.integers() | text,
        "amount_refunded": st.integers() | text,
        "refunded": st.booleans() | text,
        "currency": st.sampled_from(["nzd", "usd", "NZD"]) | text | st.none(),
        "client_reference_id": text | st.integers() | st.none(),
        "payment_intent": text | st.none() | st.dictionaries(text, json_values, max_size=2),
        "metadata": st.fixed_dictionaries(
            {},
            optional={
                "order_id": st.uuids().map(str),  # malformed ids: see the test below
                "order_number": text | st.integers(),
                "diamond_id": text | st.uuids().map(str),
            },
        )
        | st.none(),
    },
)
event_ids = st.text("abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=60).map(
    lambda s: f"evt_{s}"
)


@fuzz
@given(
    event_type=st.sampled_from(EVENT_TYPES) | text,
    obj=session_like | st.dictionaries(text, json_values, max_size=5),
    event_id=event_ids,
)
def test_any_verified_event_is_stored_once_and_handled_without_error(
    client, event_type, obj, event_id
):
    event_id = f"{event_id}_{uuid.uuid4().hex}"
    event = stripe_event(event_type, obj, event_id=event_id)

    first = signed_post(client, event)
    again = signed_post(client, event)

    assert (first.status_code, again.status_code) == (200, 200), first.json()
    assert again.json()["message"] == "Already processed."
    record = WebhookEvent.objects.get(stripe_event_id=event_id)
    # (jsonb keeps numbers as numerics, so compare what identifies the event)
    assert (record.payload["id"], record.payload["type"]) == (event_id, event_type)
    assert record.type == event_type[:100]
    assert record.processed_at is not None
    # Handled, or (a field of a type Stripe never sends) recorded and ignored, never failed.
    assert record.processing_error == "" or record.processing_error.startswith(
        "Malformed Stripe data"
    ), record.processing_error
    assert "processing failed" not in first.json()["message"]


@fuzz
@given(
    amount=st.integers(min_value=-(2**40), max_value=2**40) | st.none() | text,
    currency=st.sampled_from(["nzd", "usd", "aud", ""]) | st.none(),
    use_order_amount=st.booleans(),
)
def test_a_paid_session_pays_the_order_and_places_a_feed_order_only_on_an_exact_match(
    client, amount, currency, use_order_amount
):
    order = OrderFactory()
    amount = order.amount_cents if use_order_amount else amount
    session = session_for(order, amount_total=amount, currency=currency)

    response = signed_post(client, stripe_event("checkout.session.completed", session))

    assert response.status_code == 200
    order.refresh_from_db()
    if isinstance(amount, str) or (isinstance(amount, int) and amount < 0):
        # Not an amount Stripe can send: recorded and ignored, the order unchanged.
        assert "malformed Stripe data" in response.json()["message"]
        assert (order.status, order.payment_status) == (Status.PENDING_PAYMENT, "pending")
        return
    assert (order.status, order.payment_status) == (Status.PAID, PaymentStatus.PAID)
    if (amount, currency) == (order.amount_cents, "nzd"):
        assert order.feed_order_status != FeedOrderStatus.NOT_ATTEMPTED
    else:
        assert order.feed_order_status == FeedOrderStatus.NOT_ATTEMPTED
        assert order.needs_attention
        assert "Not placed" in order.feed_order_error
        assert not Notification.objects.filter(
            reference=order.order_number, category="ORDER_COMPLETED"
        ).exists()


def unknown_session(order, *, metadata_order_id, reference):
    return {
        "id": f"cs_test_unknown_{uuid.uuid4().hex}",
        "object": "checkout.session",
        "payment_status": "paid",
        "amount_total": order.amount_cents,
        "currency": "nzd",
        "client_reference_id": reference,
        "metadata": {"order_id": metadata_order_id},
    }


@fuzz
@given(metadata_order_id=st.uuids().map(str), reference=text | st.none())
def test_an_event_for_an_unknown_session_changes_no_order(client, metadata_order_id, reference):
    order = OrderFactory()
    assume(reference != order.order_number)
    session = unknown_session(order, metadata_order_id=metadata_order_id, reference=reference)

    response = signed_post(client, stripe_event("checkout.session.completed", session))

    assert response.status_code == 200
    assert response.json()["message"].startswith("No order for Checkout Session")
    record = WebhookEvent.objects.get(checkout_session_id=session["id"])
    assert record.processing_error == ""
    order.refresh_from_db()
    assert order.status == Status.PENDING_PAYMENT


@fuzz
@given(metadata_order_id=text.filter(lambda v: v.strip() != ""))
def test_an_event_with_a_malformed_order_id_is_an_unknown_session(client, metadata_order_id):
    order = OrderFactory()
    session = unknown_session(order, metadata_order_id=metadata_order_id, reference=None)

    response = signed_post(client, stripe_event("checkout.session.completed", session))

    assert response.status_code == 200
    record = WebhookEvent.objects.get(checkout_session_id=session["id"])
    assert record.processing_error == ""
    assert record.processed_at is not None


# ---------------------------------------------------------------- the checkout endpoints


@pytest.fixture
def checkout_client(client, shopper, stripe_api):
    client.force_login(shopper)
    return client


@pytest.fixture
def for_sale(db):
    return DiamondFactory(supplier_stone_id="DEMO-0001")


CHECKOUT_STATUSES = {201, 400, 404, 409, 422, 429}


checkout_payloads = st.fixed_dictionaries(
    {"diamond_id": text | st.uuids().map(str) | json_values},
    optional={"reference": json_values, "comments": json_values},
)


@fuzz
@given(
    body=st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()),
    payload=checkout_payloads,
    kind=st.sampled_from(["raw body", "payload", "payload for a real diamond"]),
)
def test_json_checkout_never_fails_with_a_5xx_and_explains_every_refusal(
    checkout_client, for_sale, body, payload, kind
):
    if kind == "payload for a real diamond":
        payload["diamond_id"] = str(for_sale.pk)
    if kind != "raw body":
        body = json.dumps(payload).encode()
    orders_before = Order.objects.count()

    response = checkout_client.post(
        "/api/v2/checkout/create", data=body, content_type="application/json"
    )

    assert response.status_code in CHECKOUT_STATUSES, response.content
    answer = response.json()
    if response.status_code == 201:
        assert set(answer) == {"checkoutUrl", "orderNumber"}
    else:
        assert set(answer) == {"error"}
        assert isinstance(answer["error"]["code"], str) and answer["error"]["code"]
        assert isinstance(answer["error"]["message"], str) and len(answer["error"]["message"]) > 10
        assert Order.objects.count() == orders_before


@fuzz
@given(diamond_id=st.none() | text | st.uuids().map(str), real=st.booleans())
def test_form_checkout_never_fails_with_a_5xx(checkout_client, for_sale, diamond_id, real):
    data = {} if diamond_id is None else {"diamond_id": str(for_sale.pk) if real else diamond_id}
    response = checkout_client.post("/checkout/create/", data)
    assert response.status_code == 303
    location = response["Location"]
    assert location.startswith(("https://checkout.stripe.com/", "/"))


# ---------------------------------------------------------------- hostile input, every endpoint
#
# Valid-looking input that used to reach a 500: nesting deep enough to exhaust recursion,
# U+0000 (PostgreSQL refuses it), lone UTF-16 surrogates (no UTF-8 encoder accepts them) and
# identifiers longer than their columns. Every endpoint that takes input gets all of them.

BAD_CHARACTERS = ["\x00", "\ud800", "\udbff", "\udc00", "\udfff"]
hostile_text = st.builds(
    lambda before, bad, after: before + bad + after, text, st.sampled_from(BAD_CHARACTERS), text
)
over_long = st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=256, max_size=600)
nesting_depths = st.integers(min_value=65, max_value=20_000)


def nested(depth: int, *, kind="[") -> str:
    return ("[" * depth + "]" * depth) if kind == "[" else ('{"a":' * depth + "1" + "}" * depth)


# In a form or a query string a lone surrogate can only arrive as its (invalid) UTF-8 bytes.
hostile_form_value = (
    hostile_text.map(lambda s: s.replace("\x00", "%00").encode("utf-8", "surrogatepass"))
    | over_long.map(str.encode)
    | st.sampled_from([b"%00", b"%ED%A0%80", b"%ED%BF%BF", b"%C0%80", b"%FF%FE", b"a%00b"])
)


def form_body(fields: dict[str, bytes]) -> bytes:
    return b"&".join(name.encode() + b"=" + value for name, value in fields.items())


@fuzz
@given(
    where=st.sampled_from(["diamond_id", "reference", "comments", "key"]),
    bad=hostile_text,
    depth=nesting_depths,
    kind=st.sampled_from(["[", "{"]),
    how=st.sampled_from(["bad text", "deep body", "deep field"]),
)
def test_json_checkout_refuses_hostile_input_with_a_json_400(
    checkout_client, for_sale, where, bad, depth, kind, how
):
    payload = {"diamond_id": str(for_sale.pk)}
    if how == "bad text":
        if where == "key":
            payload[bad] = "x"
        else:
            payload[where] = bad
        body = json.dumps(payload).encode()  # ensure_ascii: surrogates travel as \udxxx
    elif how == "deep body":
        body = nested(depth, kind=kind).encode()
    else:
        body = json.dumps({**payload, where: "HERE"}).replace('"HERE"', nested(depth, kind=kind))
        body = body.encode()

    response = checkout_client.post(
        "/api/v2/checkout/create", data=body, content_type="application/json"
    )

    assert response.status_code == 400, response.content[:300]
    assert set(response.json()) == {"error"}
    assert response.json()["error"]["code"]
    assert not Order.objects.exists()


@fuzz
@given(value=hostile_form_value)
def test_form_checkout_refuses_hostile_input_and_stores_nothing(checkout_client, for_sale, value):
    response = checkout_client.post(
        "/checkout/create/",
        data=form_body({"diamond_id": value}),
        content_type="application/x-www-form-urlencoded",
    )
    if b"%00" in value:  # refused before any view (config.middleware.RequestInputMiddleware)
        assert response.status_code == 400
    else:
        assert response.status_code == 303
        assert not response["Location"].startswith("https://")
    assert not Order.objects.exists()


@fuzz
@given(order=hostile_form_value, session_id=hostile_form_value | st.just(b""))
def test_the_success_page_answers_404_to_hostile_order_numbers(checkout_client, order, session_id):
    OrderFactory()
    query = b"order=" + order + b"&session_id=" + session_id
    response = checkout_client.get("/checkout/success/?" + query.decode("latin-1"))
    assert response.status_code == (400 if b"%00" in query else 404)


def _event_with(obj_value, *, event_id=None, event_type="checkout.session.completed") -> dict:
    session = {"object": "checkout.session", "id": "cs_test_fuzz", "metadata": {"x": obj_value}}
    return stripe_event(event_type, session, event_id=event_id)


@fuzz
@given(
    how=st.sampled_from(["bad text", "bad key", "bad id", "bad type", "long id", "deep"]),
    bad=hostile_text,
    long_id=over_long,
    depth=nesting_depths,
    kind=st.sampled_from(["[", "{"]),
)
def test_signed_hostile_webhook_bodies_are_a_400_and_store_nothing(
    client, how, bad, long_id, depth, kind
):
    if how == "bad text":
        body = json.dumps(_event_with(bad)).encode()
    elif how == "bad key":
        body = json.dumps(_event_with({bad: 1})).encode()
    elif how == "bad id":
        body = json.dumps(_event_with("x", event_id=f"evt_{bad}")).encode()
    elif how == "bad type":
        body = json.dumps(_event_with("x", event_type=bad)).encode()
    elif how == "long id":
        body = json.dumps(_event_with("x", event_id=f"evt_{long_id}")).encode()
    else:
        body = json.dumps(_event_with("HERE")).replace('"HERE"', nested(depth, kind=kind))
        body = body.encode()

    response = signed_post(client, body)

    assert response.status_code == 400, response.content[:300]
    assert response.json()["message"] in WEBHOOK_ANSWERS_400
    assert not WebhookEvent.objects.exists()


ACCOUNT_FIELDS = {
    "/accounts/signup/": ["full_name", "email", "password1", "password2"],
    "/accounts/login/": ["username", "password"],
}


@fuzz
@given(
    path=st.sampled_from(sorted(ACCOUNT_FIELDS)),
    values=st.lists(hostile_form_value | text.map(str.encode), min_size=4, max_size=4),
)
def test_signup_and_login_refuse_hostile_input_without_an_error(client, path, values):
    from django.contrib.auth import get_user_model

    users_before = get_user_model().objects.count()
    fields = dict(zip(ACCOUNT_FIELDS[path], values, strict=False))

    response = client.post(
        path, data=form_body(fields), content_type="application/x-www-form-urlencoded"
    )

    if any(b"%00" in v for v in fields.values()):  # refused before any view
        assert response.status_code == 400
    else:
        assert response.status_code in (200, 302), response.status_code
    if any(b"%00" in v or b"%ED" in v or len(v) > 255 for v in values):
        assert response.status_code in (200, 400)  # refused, with the form's errors or before
        assert get_user_model().objects.count() == users_before
