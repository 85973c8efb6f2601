"""Fulfilment from Stripe's objects: reading them into the order's facts
(`orders.payment_events`) — which order an object is about, what a Checkout Session says was
paid — and fulfilling from a session. The webhook, the success page and reconciliation all go
through here, so each decides the same way and the order is marked paid exactly once."""

from __future__ import annotations

from gateway.base import intent_state
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
    if session.get("payment_status") in PAID_SESSION_STATES:
        return "paid"
    intent = session.get("payment_intent")
    status = intent.get("status") if isinstance(intent, dict) else None
    return {
        "requires_capture": "authorized",
        "processing": "processing",
        "succeeded": "paid",
    }.get(status, "unpaid")


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def payment_intent_id(value) -> str:
    """The id of a PaymentIntent given as an id or an expanded object."""
    return intent_state(value).id if isinstance(value, dict | str) else ""


def _metadata(obj: dict) -> dict:
    return obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}


def session_ref(session: dict) -> PaymentRef:
    """A Checkout Session's ids: its own, the order id and number we gave it, its payment."""
    return PaymentRef(
        session_id=_text(session.get("id")),
        order_id=_text(_metadata(session).get("order_id")),
        order_number=_text(session.get("client_reference_id")),
        payment_intent_id=payment_intent_id(session.get("payment_intent")),
    )


def intent_ref(intent: dict) -> PaymentRef:
    """A PaymentIntent's ids: its own, and the order id we put in its metadata."""
    return PaymentRef(
        order_id=_text(_metadata(intent).get("order_id")),
        payment_intent_id=_text(intent.get("id")),
    )


def charge_ref(obj: dict) -> PaymentRef:
    """A charge's, refund's, dispute's or early fraud warning's ids: its PaymentIntent."""
    return PaymentRef(payment_intent_id=payment_intent_id(obj.get("payment_intent")))


def paid_session(session: dict, *, state: str) -> PaidSession:
    """What a paid or authorised Checkout Session says was paid, and where it ships."""
    amount = session.get("amount_total")
    return PaidSession(
        session_id=_text(session.get("id")),
        payment_intent_id=payment_intent_id(session.get("payment_intent")),
        amount_total=amount if isinstance(amount, int) else None,
        currency=_text(session.get("currency")),
        shipping=shipping_from_session(session),
        authorized=state == "authorized",
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
