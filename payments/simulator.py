"""The test checkout page's events: with the payment simulator (`DEBUG` on, no
`STRIPE_SECRET_KEY`), checkout sends the shopper to a local page instead of Stripe. Its
buttons finish the simulated session (`gateway.simulator`) the ways a shopper can at Stripe,
sign the event Stripe would send exactly as Stripe signs it, hand it to the real webhook code,
and then redirect where Stripe would.
"""

from __future__ import annotations

import json
import secrets
import time

from gateway import stripe_objects as so
from gateway.registry import payment_gateway
from gateway.signing import signature_header
from gateway.simulator import SimulatorError, simulator_after_payment, simulator_finish
from orders.models import Order
from payments.models import WebhookEvent
from payments.services import success_path
from payments.webhooks import webhook_receive

# The buttons: ending the checkout, and what Stripe may send after a payment.
FINISHING = ("pay", "delayed", "settle", "fail", "expire")
AFTER_PAYMENT = ("dispute", "fraud_warning")


def simulator_success_path(order: Order) -> str:
    """Where Stripe would send the shopper after paying (on this site)."""
    return success_path(order, order.stripe_checkout_session_id)


def simulator_cancel_path(order: Order) -> str:
    """Where Stripe would send the shopper back to: the diamond's page."""
    return order.diamond.get_absolute_url()


def simulator_event(event_type: str, obj: dict) -> dict:
    """The event Stripe would send (`gateway.stripe_objects.event`)."""
    return so.event(
        id=f"evt_sim_{secrets.token_hex(12)}",
        type=event_type,
        object=obj,
        created=int(time.time()),
        previous_attributes={} if event_type.endswith(".updated") else None,
    )


def simulator_deliver(*, order: Order, action: str, shipping_name: str = "") -> dict:
    """Finish `order`'s simulated session as `action` says and send the signed event through
    the real webhook code. Returns the event. Raises SimulatorError when the session does not
    allow the action or the webhook did not accept the event."""
    session_id = order.stripe_checkout_session_id
    if action in AFTER_PAYMENT:
        event_type, obj = simulator_after_payment(session_id=session_id, what=action)
    elif action in FINISHING:
        event_type, obj = simulator_finish(
            session_id=session_id, how=action, shipping_name=shipping_name
        )
    else:
        raise SimulatorError(f"Unknown simulator action {action!r}.")
    event = simulator_event(event_type, obj)
    payload = json.dumps(event).encode()
    signature = signature_header(payload, *payment_gateway().webhook_secrets)
    status, message = webhook_receive(payload=payload, signature=signature)
    if status >= 300:
        raise SimulatorError(
            f"The webhook answered {status} to {event_type} ({event['id']}): {message}"
        )
    record = WebhookEvent.objects.filter(stripe_event_id=event["id"]).first()
    if record is None or record.processing_error:
        problem = record.processing_error if record else "it was not recorded"
        raise SimulatorError(f"The webhook accepted {event_type} but {problem}")
    return event
