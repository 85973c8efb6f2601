"""The local payment simulator's events: with `DEBUG` on and no `STRIPE_SECRET_KEY`, checkout
sends the shopper to a local test page (the simulator gateway, payments/gateway.py). Its
buttons build Stripe-shaped events for the order's simulated Checkout Session, sign them as
Stripe does and hand them to the real webhook code, then redirect where Stripe would.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

import stripe
from django.conf import settings

from orders.models import Order
from payments.gateway import (
    SIMULATOR_WEBHOOK_SECRET,
    payment_gateway,
    simulated_payment_intent,
    simulated_payment_intent_id,
    simulated_session,
    simulator_enabled,
    success_path,
)
from payments.models import WebhookEvent
from payments.webhooks import webhook_receive, webhook_secrets

__all__ = [
    "ACTIONS",
    "SIMULATOR_WEBHOOK_SECRET",
    "SimulatorError",
    "signature_header",
    "simulated_payment_intent_id",
    "simulator_deliver",
    "simulator_enabled",
]


def simulator_success_path(order: Order) -> str:
    """Where Stripe would send the shopper after paying (on this site)."""
    return success_path(order, order.stripe_checkout_session_id)


def simulator_cancel_path(order: Order) -> str:
    """Where Stripe would send the shopper back to: the diamond's page."""
    return order.diamond.get_absolute_url()


def simulator_event(event_type: str, session: dict) -> dict:
    return {
        "id": f"evt_sim_{secrets.token_hex(12)}",
        "object": "event",
        "api_version": stripe.api_version,
        "created": int(time.time()),
        "type": event_type,
        "livemode": False,
        "pending_webhooks": 1,
        "data": {"object": session},
        "request": {"id": None, "idempotency_key": None},
    }


def signature_header(payload: bytes, *signing_secrets: str, timestamp: int | None = None) -> str:
    """`Stripe-Signature` exactly as Stripe computes it: one `v1` signature per secret (while
    an endpoint's secret is rolled, Stripe signs with the old and the new one)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    digests = [
        hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest() for secret in signing_secrets
    ]
    return ",".join([f"t={timestamp}", *(f"v1={digest}" for digest in digests)])


class SimulatorError(Exception):
    pass


@dataclass(frozen=True)
class SimulatorAction:
    event_type: str
    status: str = "complete"
    payment_status: str = "unpaid"
    # The PaymentIntent's status carried (expanded) in the session, when it decides.
    intent_status: str | None = None
    # Actions on a paid order (a dispute, a fraud warning), not on an open checkout.
    after_payment: bool = False


def _pay() -> SimulatorAction:
    """A card payment: authorised (money held) with manual capture, charged with automatic."""
    if settings.CHECKOUT_CAPTURE == "manual":
        return SimulatorAction("checkout.session.completed", intent_status="requires_capture")
    return SimulatorAction("checkout.session.completed", payment_status="paid")


ACTIONS = {
    "delayed": SimulatorAction("checkout.session.completed", intent_status="processing"),
    "settle": SimulatorAction("checkout.session.async_payment_succeeded", payment_status="paid"),
    "fail": SimulatorAction("checkout.session.async_payment_failed"),
    "expire": SimulatorAction("checkout.session.expired", status="expired"),
    "dispute": SimulatorAction("charge.dispute.created", after_payment=True),
    "fraud_warning": SimulatorAction("radar.early_fraud_warning.created", after_payment=True),
}


def simulator_action(name: str) -> SimulatorAction:
    if name == "pay":
        return _pay()
    try:
        return ACTIONS[name]
    except KeyError:
        raise SimulatorError(f"Unknown simulator action {name!r}.") from None


def simulated_object(order: Order, step: SimulatorAction) -> dict:
    """What the event carries: the session, or the dispute / fraud warning on its charge."""
    intent = order.stripe_payment_intent_id or simulated_payment_intent_id(
        order.stripe_checkout_session_id
    )
    if step.event_type == "charge.dispute.created":
        return {
            "id": f"dp_sim_{secrets.token_hex(8)}",
            "object": "dispute",
            "amount": order.amount_cents,
            "currency": order.currency,
            "payment_intent": intent,
            "reason": "fraudulent",
            "status": "needs_response",
            "evidence_details": {"due_by": int(time.time()) + 7 * 86400},
        }
    if step.event_type == "radar.early_fraud_warning.created":
        return {
            "id": f"issfr_sim_{secrets.token_hex(8)}",
            "object": "radar.early_fraud_warning",
            "actionable": True,
            "fraud_type": "made_with_stolen_card",
            "payment_intent": intent,
        }
    session = simulated_session(order, status=step.status, payment_status=step.payment_status)
    if step.intent_status:
        session["payment_intent"] = simulated_payment_intent(order, status=step.intent_status)
    return session


def simulator_deliver(*, order: Order, action: str) -> dict:
    """Send one signed event for `order`'s session through the real webhook code.

    Returns the event sent. Raises SimulatorError when the webhook did not accept it.
    """
    step = simulator_action(action)
    event = simulator_event(step.event_type, simulated_object(order, step))
    payload = json.dumps(event).encode()
    signing_secrets = webhook_secrets(payment_gateway().webhook_secret)
    status, message = webhook_receive(
        payload=payload, signature=signature_header(payload, *signing_secrets)
    )
    if status >= 300:
        raise SimulatorError(
            f"The webhook answered {status} to {step.event_type} ({event['id']}): {message}"
        )
    record = WebhookEvent.objects.filter(stripe_event_id=event["id"]).first()
    if record is None or record.processing_error:
        problem = record.processing_error if record else "it was not recorded"
        raise SimulatorError(f"The webhook accepted {step.event_type} but {problem}")
    return event
