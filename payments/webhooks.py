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

import stripe
from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from orders.models import Order
from orders.services import (
    order_dispute_update,
    order_fraud_warning,
    order_mark_captured,
    order_mark_expired,
    order_mark_payment_failed,
    order_mark_refunded,
    order_mark_voided,
    order_note_awaiting_payment,
    order_receipt_record,
)
from orders.states import may
from payments.alerts import alert_webhook_failed
from payments.event_parsing import InvalidPayload, NotAnEvent, parse_event
from payments.fulfilment import (
    checkout_session_fulfil,
    order_for_session,
    payment_intent_id,
    session_payment_state,
)
from payments.gateway import payment_gateway
from payments.models import WebhookEvent

logger = logging.getLogger(__name__)


def webhook_secrets(value: str) -> list[str]:
    """The signing secrets `STRIPE_WEBHOOK_SECRET` lists: one, or several separated by commas
    while Stripe rolls the endpoint's secret (it then signs every event with each)."""
    return [secret.strip() for secret in value.split(",") if secret.strip()]


def signature_verified(*, payload: str, header: str, secrets: list[str]) -> bool:
    """Whether `header` (`Stripe-Signature`: a timestamp and one or more `v1` signatures)
    signs `payload` recently with any of `secrets`."""
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(
                payload, header, secret, stripe.Webhook.DEFAULT_TOLERANCE
            )
        except stripe.SignatureVerificationError:
            continue
        return True
    return False


def webhook_receive(*, payload: bytes, signature: str) -> tuple[int, str]:
    """Handle one delivery; returns the HTTP status and a short message for Stripe's log."""
    secrets = webhook_secrets(payment_gateway().webhook_secret)
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
            message = handler(obj, record)
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


def _for_session_order(apply: Callable[[Order, dict, str], str]) -> Callable:
    """A handler for a Checkout Session event: finds the session's order, then applies."""

    def handle(session: dict, record: WebhookEvent) -> str:
        order = order_for_session(session)
        if order is None:
            return f"No order for Checkout Session {session.get('id')}; ignored."
        return f"{order.order_number}: {apply(order, session, record.stripe_event_id)}"

    return handle


def _for_payment_order(apply: Callable[[Order, dict, WebhookEvent], str]) -> Callable:
    """A handler for a PaymentIntent, charge, dispute or fraud-warning event: finds the order
    by its payment intent (or the order id we put in the intent's metadata)."""

    def handle(obj: dict, record: WebhookEvent) -> str:
        intent = payment_intent_id(obj.get("payment_intent"))
        if obj.get("object") == "payment_intent":
            intent = obj.get("id", "")
        order = None
        if isinstance(intent, str) and intent:
            order = Order.objects.filter(stripe_payment_intent_id=intent).order_by().first()
        metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        if order is None and obj.get("object") == "payment_intent":
            order = order_for_session({"metadata": metadata})
        if order is None:
            return f"No order for payment intent {intent or '(none)'}; ignored."
        return f"{order.order_number}: {apply(order, obj, record)}"

    return handle


@_for_session_order
def _on_session_completed(order: Order, session: dict, event_id: str) -> str:
    state = session_payment_state(session)
    if state not in ("paid", "authorized"):
        order_note_awaiting_payment(order=order, stripe_event_id=event_id)
        return "awaiting a delayed payment."
    changed = checkout_session_fulfil(session=session, stripe_event_id=event_id, order=order)
    return f"{state}." if changed else "already handled."


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


@_for_payment_order
def _on_amount_capturable_updated(order: Order, intent: dict, record: WebhookEvent) -> str:
    """The card is authorised (manual capture): the same fulfilment as a completed session."""
    if intent.get("status") != "requires_capture":
        return f"payment intent is {intent.get('status')}; nothing to do."
    changed = checkout_session_fulfil(
        session={
            "id": order.stripe_checkout_session_id or "",
            "payment_status": "unpaid",
            "payment_intent": intent,
            "amount_total": intent.get("amount_capturable") or intent.get("amount"),
            "currency": intent.get("currency"),
        },
        stripe_event_id=record.stripe_event_id,
        order=order,
    )
    return "authorized." if changed else "already handled."


@_for_payment_order
def _on_payment_intent_succeeded(order: Order, intent: dict, record: WebhookEvent) -> str:
    """A capture (ours, or from the Stripe Dashboard) whose answer we may not have seen."""
    if not may(order, "captured", timezone.now()):
        return "not awaiting a capture; unchanged."
    changed = order_mark_captured(order=order, stripe_event_id=record.stripe_event_id)
    return "captured." if changed else "already captured."


@_for_payment_order
def _on_payment_intent_canceled(order: Order, intent: dict, record: WebhookEvent) -> str:
    """The authorisation was released (by us, in the Dashboard, or it expired)."""
    changed = order_mark_voided(
        order=order,
        stripe_event_id=record.stripe_event_id,
        reason="Stripe cancelled the authorisation "
        f"({intent.get('cancellation_reason') or 'no reason given'}).",
    )
    return "voided." if changed else "not authorised; unchanged."


@_for_payment_order
def _on_charge_refunded(order: Order, charge: dict, record: WebhookEvent) -> str:
    """Any refund, ours or one made in the Stripe Dashboard: the total refunded so far."""
    refunded = charge.get("amount_refunded")
    if not isinstance(refunded, int) or refunded <= 0:
        return "no refunded amount; ignored."
    changed = order_mark_refunded(
        order=order, amount_refunded_cents=refunded, stripe_event_id=record.stripe_event_id
    )
    return "refund recorded." if changed else "refund already recorded."


@_for_payment_order
def _on_charge_succeeded(order: Order, charge: dict, record: WebhookEvent) -> str:
    """A charge (or its capture): keep its receipt link for the shopper."""
    url = charge.get("receipt_url")
    if isinstance(url, str) and order_receipt_record(order=order, receipt_url=url):
        return "receipt recorded."
    return "no new receipt."


@_for_payment_order
def _on_dispute(order: Order, dispute: dict, record: WebhookEvent) -> str:
    created = record.payload.get("created") or 0
    last = order.events.filter(kind__in=DISPUTE_KINDS).order_by("-created_at", "-id").first()
    if last is not None and last.data.get("event_created", 0) > created:
        return "an older dispute event; ignored."
    due = (dispute.get("evidence_details") or {}).get("due_by")
    order_dispute_update(
        order=order,
        dispute_id=str(dispute.get("id", "")),
        dispute_status=str(dispute.get("status") or "needs_response"),
        evidence_due_by=datetime.fromtimestamp(due, tz=UTC) if isinstance(due, int) else None,
        stripe_event_id=record.stripe_event_id,
        opened=record.type == "charge.dispute.created",
        event_created=created,
    )
    return f"dispute {dispute.get('status')}."


DISPUTE_KINDS = ("dispute_opened", "dispute_updated")


@_for_payment_order
def _on_early_fraud_warning(order: Order, warning: dict, record: WebhookEvent) -> str:
    return order_fraud_warning(
        order=order,
        stripe_event_id=record.stripe_event_id,
        fraud_type=str(warning.get("fraud_type") or "unspecified"),
    )


def _ignore(obj: dict, record: WebhookEvent) -> str:
    return "Event type not handled; stored."


HANDLERS: dict[str, Callable[[dict, WebhookEvent], str]] = {
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
