"""Fulfilment from Stripe's objects: reading them into the order's facts
(`orders.payment_events`) — which order an object is about, what a Checkout Session says was
paid — and fulfilling from a session. The webhook, the success page and reconciliation all go
through here, so each decides the same way and the order is marked paid exactly once."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from orders import payment_events
from orders.payment_events import Applied, PaidSession, PaymentRef
from payments.shipping import shipping_from_session

PAID_SESSION_STATES = ("paid", "no_payment_required")
# What a completed session's money is: taken, or only held (authorised).
FULFILLED = ("paid", "authorized")


def session_payment_state(session: dict) -> str:
    """ "paid", "authorized", "processing" or "unpaid", decided from Stripe's own fields.

    A session whose `payment_status` is `paid` was charged. With manual capture
    (`payment_intent_data.capture_method=manual`) Checkout completes with `payment_status`
    `unpaid` while the card is only authorised, so the PaymentIntent decides: `requires_capture`
    means the money is held, `processing` a payment still settling, `succeeded` captured.
    Source: Stripe's "Place a hold on a payment method" (docs.stripe.com/payments/
    place-a-hold-on-a-payment-method) and the PaymentIntent lifecycle
    (docs.stripe.com/payments/paymentintents/lifecycle).
    """
    if stripe_text(session, "payment_status") in PAID_SESSION_STATES:
        return "paid"
    intent = session.get("payment_intent")
    status = stripe_text(intent, "status") if isinstance(intent, dict) else None
    return {
        "requires_capture": "authorized",
        "processing": "processing",
        "succeeded": "paid",
    }.get(status, "unpaid")


class MalformedStripeData(ValueError):
    """A verified Stripe object whose field has a type, size or form Stripe never sends (a
    currency as a number, a 300-character id, a date as a word). Asking again cannot help:
    the webhook records the event and answers that it was ignored, once."""


# Stripe's ids are short words of letters, digits and underscores (`pi_3Nx…`, `ch_…`); our
# columns hold 255 characters.
_STRIPE_ID = re.compile(r"[A-Za-z0-9_]{1,255}")
_CURRENCY = re.compile(r"[a-z]{3}")
# The largest amount the order's columns (a positive big integer) can hold.
MAX_AMOUNT = 2**63 - 1
# Stripe's timestamps: seconds since 1970, before the year 3000.
MAX_TIMESTAMP = 32503680000


def _malformed(obj: dict, name: str, what: str) -> MalformedStripeData:
    kind = obj.get("object") if isinstance(obj.get("object"), str) else "object"
    return MalformedStripeData(f"{kind[:40]}.{name} is not {what}")


def stripe_object(obj: dict, name: str) -> dict:
    """A nested object (`{}` when null or absent)."""
    value = obj.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _malformed(obj, name, "an object")
    return value


def stripe_id(obj: dict, name: str) -> str:
    """An id, given as an id or as the expanded object (`""` when null or absent)."""
    value = obj.get(name)
    if isinstance(value, dict):
        value = value.get("id")
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or not _STRIPE_ID.fullmatch(value):
        raise _malformed(obj, name, "a Stripe id")
    return value


def stripe_text(obj: dict, name: str, *, limit: int = 500) -> str:
    """A short text field (`""` when null or absent)."""
    value = obj.get(name)
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise _malformed(obj, name, f"text of at most {limit} characters")
    return value


def stripe_amount(obj: dict, name: str) -> int | None:
    """An amount in minor units (None when null or absent)."""
    value = obj.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_AMOUNT:
        raise _malformed(obj, name, "an amount in minor units")
    return value


def stripe_currency(obj: dict, name: str = "currency") -> str:
    """A three-letter ISO currency code, lower case as Stripe writes it (`""` when null)."""
    value = obj.get(name)
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or not _CURRENCY.fullmatch(value.lower()):
        raise _malformed(obj, name, "a currency code")
    return value.lower()


def stripe_time(obj: dict, name: str) -> datetime | None:
    """A timestamp (None when null or absent)."""
    value = obj.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < MAX_TIMESTAMP:
        raise _malformed(obj, name, "a timestamp")
    return datetime.fromtimestamp(value, tz=UTC)


def stripe_metadata(obj: dict) -> dict:
    return stripe_object(obj, "metadata")


def _metadata_text(obj: dict, key: str) -> str:
    value = stripe_metadata(obj).get(key)
    return value if isinstance(value, str) else ""


def payment_intent_id(value) -> str:
    """The id of a PaymentIntent given as an id or an expanded object."""
    return stripe_id({"object": "payment_intent", "id": value}, "id")


def session_ref(session: dict) -> PaymentRef:
    """A Checkout Session's ids: its own, the order id and number we gave it, its payment."""
    return PaymentRef(
        session_id=stripe_id(session, "id"),
        order_id=_metadata_text(session, "order_id"),
        order_number=stripe_text(session, "client_reference_id", limit=200),
        payment_intent_id=stripe_id(session, "payment_intent"),
    )


def intent_ref(intent: dict) -> PaymentRef:
    """A PaymentIntent's ids: its own, the order id we put in its metadata, its charge."""
    return PaymentRef(
        order_id=_metadata_text(intent, "order_id"),
        payment_intent_id=stripe_id(intent, "id"),
        charge_id=stripe_id(intent, "latest_charge"),
    )


def charge_ref(charge: dict) -> PaymentRef:
    """A Charge's ids: its own and its PaymentIntent's."""
    return PaymentRef(
        charge_id=stripe_id(charge, "id"),
        payment_intent_id=stripe_id(charge, "payment_intent"),
    )


def charged_ref(obj: dict) -> PaymentRef:
    """A refund's, dispute's or early fraud warning's ids: its charge (Stripe always sets it)
    and its PaymentIntent (which may be null)."""
    return PaymentRef(
        charge_id=stripe_id(obj, "charge"), payment_intent_id=stripe_id(obj, "payment_intent")
    )


def latest_charge(session: dict) -> dict:
    """The charge of a session's expanded PaymentIntent: `{"id", "receipt_url"}` as far as
    the objects say (the charge may be an id, or not expanded at all)."""
    intent = session.get("payment_intent")
    if not isinstance(intent, dict):
        return {"id": "", "receipt_url": ""}
    charge = intent.get("latest_charge")
    receipt = stripe_text(charge, "receipt_url") if isinstance(charge, dict) else ""
    return {"id": stripe_id(intent, "latest_charge"), "receipt_url": receipt}


def paid_session(session: dict, *, state: str) -> PaidSession:
    """What a paid or authorised Checkout Session says was paid, and where it ships."""
    charge = latest_charge(session)
    return PaidSession(
        session_id=stripe_id(session, "id"),
        payment_intent_id=stripe_id(session, "payment_intent"),
        amount_total=stripe_amount(session, "amount_total"),
        currency=stripe_currency(session),
        shipping=shipping_from_session(session),
        authorized=state == "authorized",
        charge_id=charge["id"],
        receipt_url=charge["receipt_url"],
    )


def session_fulfil(*, session: dict, stripe_event_id: str = "") -> Applied:
    """Fulfil from a Checkout Session if it is paid or authorised; otherwise nothing."""
    state = session_payment_state(session)
    if state not in FULFILLED:
        return Applied(None, False, f"Checkout Session is {state}; not fulfilled.")
    return payment_events.payment_received(
        ref=session_ref(session),
        payment=paid_session(session, state=state),
        stripe_event_id=stripe_event_id,
    )
