"""Fulfilment from a Checkout Session: the webhook, the success page and reconciliation all
fulfil through here, so the order is marked paid or authorised (and its feed order queued)
exactly once."""

from __future__ import annotations

import uuid

from django.db.models import Q

from orders.models import Order
from orders.services import PaidSession, order_mark_paid
from payments.shipping import shipping_from_session

PAID_SESSION_STATES = ("paid", "no_payment_required")


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


def order_for_session(session: dict) -> Order | None:
    """The order a session belongs to: by session id, else by the ids we put in metadata."""
    metadata = session.get("metadata") if isinstance(session.get("metadata"), dict) else {}
    match = Q()
    if _text(session.get("id")):
        match |= Q(stripe_checkout_session_id=session["id"])
    if _uuid(metadata.get("order_id")):
        match |= Q(pk=_uuid(metadata["order_id"]))
    elif _text(session.get("client_reference_id")):
        match |= Q(order_number=session["client_reference_id"])
    if not match:
        return None
    return Order.objects.filter(match).order_by().first()


def _text(value) -> bool:
    return isinstance(value, str) and value != ""


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if isinstance(value, str) else None
    except ValueError:
        return None


def payment_intent_id(value) -> str:
    return value.get("id", "") if isinstance(value, dict) else (value or "")


def checkout_session_fulfil(
    *, session: dict, stripe_event_id: str = "", order: Order | None = None
) -> bool:
    """Fulfil from a Checkout Session if it is paid; returns whether this call did."""
    session = session.to_dict() if hasattr(session, "to_dict") else dict(session)
    state = session_payment_state(session)
    if state not in ("paid", "authorized"):
        return False
    order = order or order_for_session(session)
    if order is None:
        return False
    return order_mark_paid(
        order=order,
        session=PaidSession(
            session_id=session.get("id", ""),
            payment_intent_id=payment_intent_id(session.get("payment_intent")),
            amount_total=session.get("amount_total"),
            currency=session.get("currency"),
            shipping=shipping_from_session(session),
            authorized=state == "authorized",
        ),
        stripe_event_id=stripe_event_id,
    )
