"""Which payment gateway the store talks to, decided in one place from the settings as they
are now: Stripe with a secret key, the local simulator in development without one, else a
gateway that refuses every call (a system check reports it)."""

from __future__ import annotations

from django.conf import settings

from gateway.base import GatewayError
from gateway.simulator import SIMULATED_PREFIXES, SimulatorGateway
from gateway.stripe_api import StripeGateway


class UnconfiguredGateway:
    """No Stripe key outside development (a check error, payments.E002): every call is
    refused without a network request."""

    name = "unconfigured"
    webhook_secrets: list[str] = []

    def _refuse(self, *args, **kwargs):
        raise GatewayError("STRIPE_SECRET_KEY is not configured.")

    checkout_session_create = checkout_session_retrieve = refund_create = _refuse
    checkout_session_for_payment_intent = payment_intent_retrieve = charge_retrieve = _refuse
    payment_intent_capture = payment_intent_cancel = _refuse
    refunds_for_charge = refund_retrieve = _refuse


def payment_gateway() -> StripeGateway | SimulatorGateway | UnconfiguredGateway:
    if settings.STRIPE_SECRET_KEY:
        return StripeGateway()
    return SimulatorGateway() if settings.DEBUG else UnconfiguredGateway()


def stripe_dashboard_url(kind: str, object_id: str) -> str | None:
    """The object's page in the Stripe Dashboard; None for the simulator's made-up ids."""
    if not object_id or object_id.startswith(SIMULATED_PREFIXES):
        return None
    mode = "" if settings.STRIPE_SECRET_KEY.startswith("sk_live") else "/test"
    return f"https://dashboard.stripe.com{mode}/{kind}/{object_id}"
