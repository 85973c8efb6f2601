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
from dataclasses import replace

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from gateway.base import GatewayError
from gateway.registry import payment_gateway
from gateway.signing import signature_verified
from orders import payment_events
from orders.models import Status
from orders.payment_events import Applied, DisputeFact, PaymentRef, RefundFact
from orders.selectors.payments import order_for_payment
from payments.alerts import alert_webhook_failed
from payments.event_parsing import InvalidPayload, NotAnEvent, parse_event
from payments.fulfilment import (
    FULFILLED,
    MalformedStripeData,
    charge_ref,
    charged_ref,
    intent_ref,
    paid_session,
    session_fulfil,
    session_payment_state,
    session_ref,
    stripe_amount,
    stripe_currency,
    stripe_id,
    stripe_object,
    stripe_text,
    stripe_time,
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
    is safe. An event whose object Stripe could never have sent (a field of the wrong type,
    size or form) is kept as processed with the reason, and answered 200 without a retry."""
    handler = HANDLERS.get(record.type, _ignore)
    try:
        obj = record.payload["data"]["object"]
        fetched = _fetched(record.type, obj)
        with transaction.atomic():
            message = handler(fetched.pop("object", obj), record, **fetched).message
            WebhookEvent.objects.filter(pk=record.pk).update(
                processed_at=timezone.now(), processing_error=""
            )
    except MalformedStripeData as exc:
        logger.warning("Stripe event %s ignored: malformed data (%s)", record.stripe_event_id, exc)
        try:
            WebhookEvent.objects.filter(pk=record.pk).update(
                processed_at=timezone.now(), processing_error=f"Malformed Stripe data: {exc}"
            )
        except DatabaseError:
            return 503, "Could not record the outcome; please retry."
        return 200, f"Recorded and ignored: malformed Stripe data ({exc})."
    except Exception as exc:
        logger.exception("Processing Stripe event %s failed", record.stripe_event_id)
        try:
            WebhookEvent.objects.filter(pk=record.pk).update(processing_error=repr(exc)[:5000])
            alert_webhook_failed(record=record, error=repr(exc))
        except DatabaseError:
            return 503, "Could not process the event; please retry."
        return 200, "Recorded; processing failed and will be retried."
    return 200, ("Retried: " if retry else "") + message


# ---------------------------------------------------------------- what Stripe is asked first
# Stripe does not promise event order. What an event needs from Stripe is fetched here,
# before the processing transaction opens (no network call inside it).

PAYMENT_INTENT_EVENTS = ("payment_intent.amount_capturable_updated", "payment_intent.succeeded")
CHARGE_EVENTS = ("charge.succeeded", "charge.captured", "charge.refunded")
REFUND_EVENTS = ("refund.created", "refund.updated", "refund.failed")
CHARGED_EVENTS = (
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.closed",
    "radar.early_fraud_warning.created",
    "radar.early_fraud_warning.updated",
)


def _fetched(event_type: str, obj: dict) -> dict:
    """The keyword arguments the handler takes beyond the event's object: the object itself
    replaced (`object`) or what else it needs from Stripe."""
    if event_type == "checkout.session.completed":
        return _session_with_payment_intent(obj)
    if event_type in PAYMENT_INTENT_EVENTS:
        return _session_for_payment_intent(obj)
    if event_type in CHARGED_EVENTS:
        return _order_of_charge(charged_ref(obj))
    if event_type in REFUND_EVENTS:
        return _refund_now(obj)
    if event_type == "charge.refunded":
        return _refunds_of_charge(obj)
    if event_type in CHARGE_EVENTS:
        return _order_of_charge(charge_ref(obj))
    return {}


def _session_with_payment_intent(session: dict) -> dict:
    """With manual capture, a completed session that is not marked paid is decided by its
    PaymentIntent (held, or still processing), fetched with its charge. With automatic
    capture `unpaid` means a delayed payment method."""
    intent = stripe_id(session, "payment_intent")
    if (
        settings.CHECKOUT_CAPTURE == "manual"
        and stripe_text(session, "payment_status") == "unpaid"
        and intent
        and not isinstance(session.get("payment_intent"), dict)
    ):
        try:
            expanded = payment_gateway().payment_intent_retrieve(intent, expand=("latest_charge",))
        except GatewayError as exc:
            if not exc.not_found:
                raise
            return {}
        return {"object": {**session, "payment_intent": expanded}}
    return {}


def _session_for_payment_intent(intent: dict) -> dict:
    """A payment event that arrives before `checkout.session.completed` fulfils from the
    real Checkout Session (shipping included), fetched by its PaymentIntent: never from a
    session guessed from the PaymentIntent."""
    order = order_for_payment(intent_ref(intent))
    if order is None or order.status != Status.PENDING_PAYMENT:
        return {}
    session = payment_gateway().checkout_session_for_payment_intent(stripe_id(intent, "id"))
    return {"session": session}


def _order_of_charge(ref: PaymentRef) -> dict:
    """An event about a charge (or a dispute or early fraud warning, whose `payment_intent`
    may be null) that no order knows yet: the charge (retrieved) says its PaymentIntent, and
    for an order not yet paid (it keeps no PaymentIntent id) the PaymentIntent's metadata
    names the order."""
    if not ref.charge_id or order_for_payment(ref) is not None:
        return {}
    try:
        intent_id = ref.payment_intent_id or stripe_id(
            payment_gateway().charge_retrieve(ref.charge_id), "payment_intent"
        )
        if not intent_id or order_for_payment(replace(ref, payment_intent_id=intent_id)):
            return {"payment_intent": intent_id}
        intent = payment_gateway().payment_intent_retrieve(intent_id)
    except GatewayError as exc:
        if not exc.not_found:
            raise
        return {}
    return {"payment_intent": intent_id, "order_id": intent_ref(intent).order_id}


def _from_stripe_for_an_order(ref: PaymentRef, ask: Callable[[], dict]) -> dict:
    """What `ask` fetches from Stripe, with the ids `_order_of_charge` found, when the object
    is about an order (no call for anything else). A 404 fetches nothing: Stripe has no such
    object, so there is nothing to book; Stripe unreachable raises (failed, retried later)."""
    found = _order_of_charge(ref)
    if not ref.charge_id or order_for_payment(_found(ref, **found)) is None:
        return found
    try:
        return {**found, **ask()}
    except GatewayError as exc:
        if not exc.not_found:
            raise
        return found


def _refunds_of_charge(charge: dict) -> dict:
    """`charge.refunded` carries the charge's total, not its refunds (Stripe sends `refunds`
    only when expanded): Stripe's list of them."""
    charge_id = stripe_id(charge, "id")
    gateway = payment_gateway()
    return _from_stripe_for_an_order(
        charge_ref(charge), lambda: {"refunds": gateway.refunds_for_charge(charge_id)}
    )


def _refund_now(refund: dict) -> dict:
    """A `refund.*` event's object is the refund as it was when the event was made; events
    come in any order (a late `refund.created` after its `refund.failed`), so the refund is
    judged as Stripe holds it now."""
    refund_id = stripe_id(refund, "id")
    gateway = payment_gateway()
    return _from_stripe_for_an_order(
        charged_ref(refund), lambda: {"current": gateway.refund_retrieve(refund_id)}
    )


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


def _from_fetched_session(
    intent: dict, record: WebhookEvent, session: dict | None, otherwise: Callable[[], Applied]
) -> Applied:
    """Fulfil from the Checkout Session fetched for a payment event that came first, when it
    shows the money paid or held; `otherwise` what the event means for an order already
    fulfilled (or a session Stripe does not have)."""
    if session is not None and session_payment_state(session) in FULFILLED:
        return session_fulfil(session=session, stripe_event_id=record.stripe_event_id)
    return otherwise()


def _on_amount_capturable_updated(
    intent: dict, record: WebhookEvent, session: dict | None = None
) -> Applied:
    """The card is authorised (manual capture): fulfilled from the real session when this
    event comes first; otherwise it adds the charge id."""
    ref = intent_ref(intent)
    status = stripe_text(intent, "status")
    if status != "requires_capture":
        return Applied(None, False, f"{ref.describe()} is {status}; nothing to do.")
    return _from_fetched_session(
        intent,
        record,
        session,
        lambda: payment_events.receipt_seen(ref=ref, receipt_url=""),
    )


def _on_payment_intent_succeeded(
    intent: dict, record: WebhookEvent, session: dict | None = None
) -> Applied:
    ref = intent_ref(intent)
    currency = stripe_currency(intent)
    return _from_fetched_session(
        intent,
        record,
        session,
        lambda: payment_events.capture_seen(
            ref=ref, currency=currency, stripe_event_id=record.stripe_event_id
        ),
    )


def _on_payment_intent_canceled(intent: dict, record: WebhookEvent) -> Applied:
    reason = stripe_text(intent, "cancellation_reason") or "no reason given"
    return payment_events.void_seen(
        ref=intent_ref(intent),
        reason=f"Stripe cancelled the authorisation ({reason}).",
        stripe_event_id=record.stripe_event_id,
    )


def _refund_facts(refunds: list) -> list[RefundFact]:
    """Stripe's refunds of a charge, oldest first."""
    if not isinstance(refunds, list):
        raise MalformedStripeData("the refunds are not a list")
    facts = []
    for refund in refunds:
        if not isinstance(refund, dict):
            raise MalformedStripeData("the refunds hold something not a refund")
        created = stripe_time(refund, "created")
        fact = RefundFact(
            refund_id=stripe_id(refund, "id"),
            amount=stripe_amount(refund, "amount"),
            currency=stripe_currency(refund),
            status=stripe_text(refund, "status", limit=40),
            failure_reason=stripe_text(refund, "failure_reason", limit=100),
        )
        if fact.refund_id and fact.amount:
            facts.append((created.timestamp() if created else 0, fact.refund_id, fact))
    facts.sort(key=lambda item: item[:2])
    return [fact for *_, fact in facts]


def _found(ref: PaymentRef, payment_intent: str = "", order_id: str = "") -> PaymentRef:
    """The object's ids, with what Stripe said when asked (`_order_of_charge`)."""
    return replace(
        ref,
        payment_intent_id=ref.payment_intent_id or payment_intent,
        order_id=ref.order_id or order_id,
    )


def _on_charge_refunded(
    charge: dict,
    record: WebhookEvent,
    payment_intent: str = "",
    order_id: str = "",
    refunds: list | None = None,
) -> Applied:
    """The charge's refunds as Stripe lists them (fetched first): each booked once."""
    return payment_events.refund_seen(
        ref=_found(charge_ref(charge), payment_intent, order_id),
        refunds=_refund_facts(refunds or []),
        currency=stripe_currency(charge),
        stripe_event_id=record.stripe_event_id,
    )


def _on_refund(
    refund: dict,
    record: WebhookEvent,
    payment_intent: str = "",
    order_id: str = "",
    current: dict | None = None,
) -> Applied:
    """One refund created, moved on, or failed, as Stripe holds it now (`current`, fetched
    first): booked once when its money has moved; a failure of one booked is noted for ops."""
    return payment_events.refund_seen(
        ref=_found(charged_ref(refund), payment_intent, order_id),
        refunds=_refund_facts([current] if current is not None else []),
        stripe_event_id=record.stripe_event_id,
    )


def _on_charge_succeeded(
    charge: dict, record: WebhookEvent, payment_intent: str = "", order_id: str = ""
) -> Applied:
    return payment_events.receipt_seen(
        ref=_found(charge_ref(charge), payment_intent, order_id),
        receipt_url=stripe_text(charge, "receipt_url"),
    )


def _on_dispute(
    dispute: dict, record: WebhookEvent, payment_intent: str = "", order_id: str = ""
) -> Applied:
    created = record.payload.get("created")
    fact = DisputeFact(
        dispute_id=stripe_id(dispute, "id"),
        status=stripe_text(dispute, "status", limit=40) or "needs_response",
        evidence_due_by=stripe_time(stripe_object(dispute, "evidence_details"), "due_by"),
        opened=record.type == "charge.dispute.created",
        event_created=created if isinstance(created, int) else 0,
        currency=stripe_currency(dispute),
    )
    return payment_events.dispute_seen(
        ref=_found(charged_ref(dispute), payment_intent, order_id),
        dispute=fact,
        stripe_event_id=record.stripe_event_id,
    )


def _on_early_fraud_warning(
    warning: dict, record: WebhookEvent, payment_intent: str = "", order_id: str = ""
) -> Applied:
    return payment_events.fraud_warning_seen(
        ref=_found(charged_ref(warning), payment_intent, order_id),
        fraud_type=stripe_text(warning, "fraud_type", limit=100) or "unspecified",
        stripe_event_id=record.stripe_event_id,
    )


def _ignore(obj: dict, record: WebhookEvent, **fetched) -> Applied:
    return Applied(None, False, "Event type not handled; stored.")


HANDLERS: dict[str, Callable[..., Applied]] = {
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
    "refund.created": _on_refund,
    "refund.updated": _on_refund,
    "refund.failed": _on_refund,
    "charge.dispute.created": _on_dispute,
    "charge.dispute.updated": _on_dispute,
    "charge.dispute.closed": _on_dispute,
    "radar.early_fraud_warning.created": _on_early_fraud_warning,
}
