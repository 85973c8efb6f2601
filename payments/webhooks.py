"""Stripe webhooks: verify, record, then process — idempotently.

Every verified event is stored once by its id before anything else happens; only a failure to
store it answers 5xx (so Stripe retries). Processing runs in its own transaction and is
idempotent per event id (a processed event is never processed again) and per Checkout Session
(the order services move each order at most once), because Stripe sends several events for one
session and retries them, possibly at the same time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import stripe
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from orders.models import Order
from orders.services import (
    order_mark_expired,
    order_mark_payment_failed,
    order_mark_refunded,
    order_note_awaiting_payment,
)
from payments.event_parsing import InvalidPayload, NotAnEvent, parse_event
from payments.fulfilment import checkout_session_fulfil, order_for_session, payment_intent_id
from payments.gateway import payment_gateway
from payments.models import WebhookEvent

logger = logging.getLogger(__name__)


def webhook_receive(*, payload: bytes, signature: str) -> tuple[int, str]:
    """Handle one delivery; returns the HTTP status and a short message for Stripe's log."""
    secret = payment_gateway().webhook_secret
    if not secret:
        logger.error("Stripe webhook received but STRIPE_WEBHOOK_SECRET is not configured.")
        return 500, "Webhook secret not configured."
    try:
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"), signature, secret, stripe.Webhook.DEFAULT_TOLERANCE
        )
    except stripe.SignatureVerificationError:
        return 400, "Invalid signature."
    except UnicodeDecodeError:
        return 400, "Invalid payload."
    try:
        event = parse_event(payload)
    except InvalidPayload:  # too deep, NUL, lone surrogate, NaN…: never storable, never retried
        return 400, "Invalid payload."
    except NotAnEvent:
        return 400, "Not a Stripe event."

    try:
        record, created = webhook_event_record(event=event)
    except DatabaseError:
        logger.exception("Could not record Stripe event %s", event["id"])
        return 503, "Could not record the event; please retry."
    if record.processed_at is not None:
        return 200, "Already processed."
    return webhook_event_process(record=record, retry=not created)


def webhook_event_record(*, event: dict) -> tuple[WebhookEvent, bool]:
    obj = event["data"]["object"]
    session_id = obj.get("id", "") if obj.get("object") == "checkout.session" else ""
    try:
        with transaction.atomic():
            return (
                WebhookEvent.objects.create(
                    stripe_event_id=event["id"],
                    type=event["type"][:100],
                    livemode=bool(event.get("livemode")),
                    checkout_session_id=str(session_id)[:255],
                    payload=event,
                ),
                True,
            )
    except IntegrityError:
        existing = WebhookEvent.objects.filter(stripe_event_id=event["id"]).first()
        if existing is None:  # not a duplicate: the row itself could not be stored
            raise
        return existing, False


def webhook_event_process(*, record: WebhookEvent, retry: bool = False) -> tuple[int, str]:
    """Apply a recorded event. A failure is kept on the record (and retried by
    `reconcile_payments`); the answer stays 200 because the event itself is safe."""
    handler = HANDLERS.get(record.type, _ignore)
    try:
        with transaction.atomic():
            message = handler(record.payload["data"]["object"], record.stripe_event_id)
            WebhookEvent.objects.filter(pk=record.pk).update(
                processed_at=timezone.now(), processing_error=""
            )
    except Exception as exc:
        logger.exception("Processing Stripe event %s failed", record.stripe_event_id)
        try:
            WebhookEvent.objects.filter(pk=record.pk).update(processing_error=repr(exc)[:5000])
        except DatabaseError:
            return 503, "Could not process the event; please retry."
        return 200, "Recorded; processing failed and will be retried."
    return 200, ("Retried: " if retry else "") + message


# ---------------------------------------------------------------------------- the event table


def _for_session_order(apply: Callable[[Order, dict, str], str]) -> Callable[[dict, str], str]:
    """A handler for a Checkout Session event: finds the session's order, then applies."""

    def handle(session: dict, event_id: str) -> str:
        order = order_for_session(session)
        if order is None:
            return f"No order for Checkout Session {session.get('id')}; ignored."
        return f"{order.order_number}: {apply(order, session, event_id)}"

    return handle


@_for_session_order
def _on_session_completed(order: Order, session: dict, event_id: str) -> str:
    if session.get("payment_status") == "unpaid":
        order_note_awaiting_payment(order=order, stripe_event_id=event_id)
        return "awaiting a delayed payment."
    changed = checkout_session_fulfil(session=session, stripe_event_id=event_id, order=order)
    return "paid." if changed else "already handled."


@_for_session_order
def _on_async_payment_succeeded(order: Order, session: dict, event_id: str) -> str:
    session = {**session, "payment_status": session.get("payment_status") or "paid"}
    changed = checkout_session_fulfil(session=session, stripe_event_id=event_id, order=order)
    return "paid." if changed else "already handled."


@_for_session_order
def _on_async_payment_failed(order: Order, session: dict, event_id: str) -> str:
    changed = order_mark_payment_failed(order=order, stripe_event_id=event_id)
    return "payment failed." if changed else "already handled."


@_for_session_order
def _on_session_expired(order: Order, session: dict, event_id: str) -> str:
    changed = order_mark_expired(order=order, stripe_event_id=event_id)
    return "expired." if changed else "not pending; unchanged."


def _on_charge_refunded(charge: dict, event_id: str) -> str:
    intent = payment_intent_id(charge.get("payment_intent"))
    order = (
        Order.objects.filter(stripe_payment_intent_id=intent).order_by().first() if intent else None
    )
    if order is None:
        return f"No order for payment intent {intent or '(none)'}; ignored."
    if charge.get("amount_refunded", 0) < charge.get("amount", 0) and not charge.get("refunded"):
        return f"{order.order_number}: partial refund noted; order unchanged."
    changed = order_mark_refunded(order=order, stripe_event_id=event_id)
    return f"{order.order_number}: " + ("refunded." if changed else "already refunded.")


def _ignore(obj: dict, event_id: str) -> str:
    return "Event type not handled; stored."


HANDLERS: dict[str, Callable[[dict, str], str]] = {
    "checkout.session.completed": _on_session_completed,
    "checkout.session.async_payment_succeeded": _on_async_payment_succeeded,
    "checkout.session.async_payment_failed": _on_async_payment_failed,
    "checkout.session.expired": _on_session_expired,
    "charge.refunded": _on_charge_refunded,
}
