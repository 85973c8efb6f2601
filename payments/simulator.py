"""The local payment simulator: Stripe Checkout's journey with no keys and no network.

With `DEBUG` on and no `STRIPE_SECRET_KEY`, checkout sends the shopper to a local test
page instead of Stripe. Its buttons build Stripe-shaped events for the order's simulated
Checkout Session, sign them as Stripe does and hand them to the real webhook code
(`payments.webhooks.webhook_receive`), then redirect where Stripe would.
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
from django.urls import reverse

from orders.models import Order
from payments.models import WebhookEvent

SIMULATOR_WEBHOOK_SECRET = "whsec_simulator_local_only"
SESSION_PREFIX = "cs_sim_"


def simulator_enabled() -> bool:
    return bool(settings.DEBUG and not settings.STRIPE_SECRET_KEY)


def simulator_webhook_secret() -> str:
    """What the webhook verifies simulator events with (a configured secret wins)."""
    return settings.STRIPE_WEBHOOK_SECRET or SIMULATOR_WEBHOOK_SECRET


def simulator_session_create() -> tuple[str, str]:
    """A simulated Checkout Session: its id and the simulator page's address.

    The address is a path on this site, not on STOREFRONT_URL, so the journey stays on the
    host the developer opened (its session cookie, and the `form-action 'self'` policy).
    """
    session_id = f"{SESSION_PREFIX}{secrets.token_urlsafe(18)}"
    return session_id, reverse("payments:checkout-simulator", args=[session_id])


def simulated_payment_intent_id(session_id: str) -> str:
    digest = hashlib.sha256(session_id.encode()).hexdigest()[:24]
    return f"pi_sim_{digest}"


def success_path(order: Order) -> str:
    """Where Stripe would send the shopper after paying (on this site)."""
    return (
        f"{reverse('payments:checkout-success')}?order={order.order_number}"
        f"&session_id={order.stripe_checkout_session_id}"
    )


def cancel_path(order: Order) -> str:
    """Where Stripe would send the shopper back to: the diamond's page."""
    return order.diamond.get_absolute_url()


def checkout_session_object(order: Order, *, status: str, payment_status: str) -> dict:
    """The order's simulated session, shaped like Stripe's `checkout.session` object."""
    session_id = order.stripe_checkout_session_id
    return {
        "id": session_id,
        "object": "checkout.session",
        "mode": "payment",
        "status": status,
        "payment_status": payment_status,
        "amount_subtotal": order.amount_cents,
        "amount_total": order.amount_cents,
        "currency": order.currency,
        "client_reference_id": order.order_number,
        "customer_email": order.user.email or None,
        "metadata": {
            "diamond_id": str(order.diamond_id),
            "order_id": str(order.pk),
            "order_number": order.order_number,
        },
        "payment_intent": simulated_payment_intent_id(session_id),
        "livemode": False,
        "success_url": f"{settings.STOREFRONT_URL}{success_path(order)}",
        "cancel_url": f"{settings.STOREFRONT_URL}{cancel_path(order)}",
        "url": None,
    }


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


def signature_header(payload: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """`Stripe-Signature` exactly as Stripe computes it."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class SimulatorError(Exception):
    pass


@dataclass(frozen=True)
class SimulatorAction:
    event_type: str
    status: str
    payment_status: str


ACTIONS = {
    "pay": SimulatorAction("checkout.session.completed", "complete", "paid"),
    "delayed": SimulatorAction("checkout.session.completed", "complete", "unpaid"),
    "settle": SimulatorAction("checkout.session.async_payment_succeeded", "complete", "paid"),
    "fail": SimulatorAction("checkout.session.async_payment_failed", "complete", "unpaid"),
    "expire": SimulatorAction("checkout.session.expired", "expired", "unpaid"),
}


def simulator_deliver(*, order: Order, action: str) -> dict:
    """Send one signed event for `order`'s session through the real webhook code.

    Returns the event sent. Raises SimulatorError when the webhook did not accept it.
    """
    from payments.webhooks import webhook_receive

    try:
        step = ACTIONS[action]
    except KeyError:
        raise SimulatorError(f"Unknown simulator action {action!r}.") from None
    session = checkout_session_object(order, status=step.status, payment_status=step.payment_status)
    event = simulator_event(step.event_type, session)
    payload = json.dumps(event).encode()
    status, message = webhook_receive(
        payload=payload, signature=signature_header(payload, simulator_webhook_secret())
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
