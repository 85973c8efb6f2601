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
from datetime import UTC, datetime

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from gateway.registry import payment_gateway
from gateway.signing import signature_verified
from orders import payment_events
from orders.payment_events import Applied, DisputeFact
from payments.alerts import alert_webhook_failed
from payments.event_parsing import InvalidPayload, NotAnEvent, parse_event
from payments.fulfilment import (
    FULFILLED,
    charge_ref,
    intent_ref,
    paid_session,
    session_fulfil,
    session_payment_state,
    session_ref,
)
from payments.models import WebhookEvent

logger = logging.getLogger(__name__)


def webhook_receive(*, payload: bytes, signature: str) -> tuple[int, str]:
    """Handle one delivery; returns the HTTP status and a short message for Stripe's log."""
    secrets = payment_gateway().webhook_secrets
    if not secrets:
        logger.error("Stripe webhook received but STRIPE_WEBHOOK_SECRET is not configured.")
        return 500, "Webhook secret not configured."
    try:
        verified = signature_verified(
            payload=payload.decode("utf-8"), header=signature, secrets=secrets
        )
    except UnicodeDecodeError:
        return 400, "Invalid payload."
    if not verified:
        return 400, "Invalid signature."
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
    `reconcile_payments`) and alerts ops once; the answer stays 200 because the event itself
    is safe."""
    handler = HANDLERS.get(record.type, _ignore)
    try:
        obj = _with_payment_intent(record.type, record.payload["data"]["object"])
        with transaction.atomic():
            message = handler(obj, record).message
            WebhookEvent.objects.filter(pk=record.pk).update(
                processed_at=timezone.now(), processing_error=""
            )
    except Exception as exc:
        logger.exception("Processing Stripe event %s failed", record.stripe_event_id)
        try:
            WebhookEvent.objects.filter(pk=record.pk).update(processing_error=repr(exc)[:5000])
            alert_webhook_failed(record=record, error=repr(exc))
        except DatabaseError:
            return 503, "Could not process the event; please retry."
        return 200, "Recorded; processing failed and will be retried."
    return 200, ("Retried: " if retry else "") + message


def _with_payment_intent(event_type: str, obj: dict) -> dict:
    """With manual capture, a completed session that is not marked paid is decided by its
    PaymentIntent (held, or still processing): fetched here, before the processing
    transaction opens. With automatic capture `unpaid` means a delayed payment method."""
    intent = obj.get("payment_intent")
    if (
        settings.CHECKOUT_CAPTURE == "manual"
        and event_type == "checkout.session.completed"
        and obj.get("payment_status") == "unpaid"
        and isinstance(intent, str)
        and intent
    ):
        return {**obj, "payment_intent": payment_gateway().payment_intent_retrieve(intent)}
    return obj


# ---------------------------------------------------------------------------- the event table
# Each handler reads Stripe's object into the order's facts (`payments.facts`) and hands them
# to the one matching function of `orders.payment_events`, which finds the order and moves it.


def _on_session_completed(session: dict, record: WebhookEvent) -> Applied:
    if session_payment_state(session) not in FULFILLED:
        return payment_events.payment_processing(
            ref=session_ref(session), stripe_event_id=record.stripe_event_id
        )
    return session_fulfil(session=session, stripe_event_id=record.stripe_event_id)


def _on_async_payment_succeeded(session: dict, record: WebhookEvent) -> Applied:
    return payment_events.payment_received(
        ref=session_ref(session),
        payment=paid_session(session, state="paid"),
        stripe_event_id=record.stripe_event_id,
    )


def _on_async_payment_failed(session: dict, record: WebhookEvent) -> Applied:
    return payment_events.payment_failed(
        ref=session_ref(session), stripe_event_id=record.stripe_event_id
    )


def _on_session_expired(session: dict, record: WebhookEvent) -> Applied:
    return payment_events.checkout_expired(
        ref=session_ref(session), stripe_event_id=record.stripe_event_id
    )


def _on_amount_capturable_updated(intent: dict, record: WebhookEvent) -> Applied:
    """The card is authorised (manual capture): the same fulfilment as a completed session."""
    ref = intent_ref(intent)
    if intent.get("status") != "requires_capture":
        return Applied(None, False, f"{ref.describe()} is {intent.get('status')}; nothing to do.")
    session = {
        "object": "checkout.session",
        "payment_status": "unpaid",
        "payment_intent": intent,
        "amount_total": intent.get("amount_capturable") or intent.get("amount"),
        "currency": intent.get("currency"),
    }
    return payment_events.payment_received(
        ref=ref,
        payment=paid_session(session, state="authorized"),
        stripe_event_id=record.stripe_event_id,
    )


def _on_payment_intent_succeeded(intent: dict, record: WebhookEvent) -> Applied:
    return payment_events.capture_seen(
        ref=intent_ref(intent), stripe_event_id=record.stripe_event_id
    )


def _on_payment_intent_canceled(intent: dict, record: WebhookEvent) -> Applied:
    reason = intent.get("cancellation_reason") or "no reason given"
    return payment_events.void_seen(
        ref=intent_ref(intent),
        reason=f"Stripe cancelled the authorisation ({reason}).",
        stripe_event_id=record.stripe_event_id,
    )


def _on_charge_refunded(charge: dict, record: WebhookEvent) -> Applied:
    refunded = charge.get("amount_refunded")
    if not isinstance(refunded, int) or refunded <= 0:
        return Applied(None, False, "No refunded amount; ignored.")
    return payment_events.refund_seen(
        ref=charge_ref(charge), amount_refunded=refunded, stripe_event_id=record.stripe_event_id
    )


def _on_charge_succeeded(charge: dict, record: WebhookEvent) -> Applied:
    url = charge.get("receipt_url")
    if not isinstance(url, str):
        return Applied(None, False, "No receipt; ignored.")
    return payment_events.receipt_seen(ref=charge_ref(charge), receipt_url=url)


def _on_dispute(dispute: dict, record: WebhookEvent) -> Applied:
    due = (dispute.get("evidence_details") or {}).get("due_by")
    fact = DisputeFact(
        dispute_id=str(dispute.get("id", "")),
        status=str(dispute.get("status") or "needs_response"),
        evidence_due_by=datetime.fromtimestamp(due, tz=UTC) if isinstance(due, int) else None,
        opened=record.type == "charge.dispute.created",
        event_created=record.payload.get("created") or 0,
    )
    return payment_events.dispute_seen(
        ref=charge_ref(dispute), dispute=fact, stripe_event_id=record.stripe_event_id
    )


def _on_early_fraud_warning(warning: dict, record: WebhookEvent) -> Applied:
    return payment_events.fraud_warning_seen(
        ref=charge_ref(warning),
        fraud_type=str(warning.get("fraud_type") or "unspecified"),
        stripe_event_id=record.stripe_event_id,
    )


def _ignore(obj: dict, record: WebhookEvent) -> Applied:
    return Applied(None, False, "Event type not handled; stored.")


HANDLERS: dict[str, Callable[[dict, WebhookEvent], Applied]] = {
    "checkout.session.completed": _on_session_completed,
    "checkout.session.async_payment_succeeded": _on_async_payment_succeeded,
    "checkout.session.async_payment_failed": _on_async_payment_failed,
    "checkout.session.expired": _on_session_expired,
    "payment_intent.amount_capturable_updated": _on_amount_capturable_updated,
    "payment_intent.succeeded": _on_payment_intent_succeeded,
    "payment_intent.canceled": _on_payment_intent_canceled,
    "charge.succeeded": _on_charge_succeeded,
    "charge.captured": _on_charge_succeeded,
    "charge.refunded": _on_charge_refunded,
    "charge.dispute.created": _on_dispute,
    "charge.dispute.updated": _on_dispute,
    "charge.dispute.closed": _on_dispute,
    "radar.early_fraud_warning.created": _on_early_fraud_warning,
}
