"""What every payment gateway answers in: its error, and a PaymentIntent's state read from
Stripe's object (Stripe and the simulator both speak Stripe's shapes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import stripe
from django.conf import settings

# Stripe Checkout's `expires_at` must be 30 minutes to 24 hours after the session is created;
# the store leaves EXPIRY_MARGIN above the minimum when the request reaches Stripe.
STRIPE_MIN_EXPIRY = timedelta(minutes=30)
STRIPE_MAX_EXPIRY = timedelta(hours=24)
EXPIRY_MARGIN = timedelta(minutes=5)


def stripe_retries_window() -> timedelta:
    """How long after the first attempt the SDK may still send its last retry: each attempt
    may take the whole timeout, each wait before a retry up to the SDK's longest backoff."""
    per_retry = settings.STRIPE_TIMEOUT_SECONDS + stripe.HTTPClient.MAX_DELAY
    return timedelta(seconds=settings.STRIPE_MAX_NETWORK_RETRIES * per_retry)


def checkout_lifetime() -> timedelta:
    """How long a Checkout Session stays open after its order is created (its `expires_at`
    is the order's `created_at` plus this): `CHECKOUT_EXPIRY_MINUTES`, but never less than
    Stripe's minimum plus EXPIRY_MARGIN at the moment the last SDK retry could be sent, nor
    more than Stripe's maximum."""
    shortest = STRIPE_MIN_EXPIRY + EXPIRY_MARGIN + stripe_retries_window()
    lifetime = max(timedelta(minutes=settings.CHECKOUT_EXPIRY_MINUTES), shortest)
    return min(lifetime, STRIPE_MAX_EXPIRY)


class GatewayError(Exception):
    """A call to the payment provider failed; `detail` says everything ops need.
    `outcome_unknown`: the request may have reached Stripe (the connection broke).
    `not_found`: Stripe has no such object (`resource_missing`): asking again will not help."""

    def __init__(self, detail: str, *, outcome_unknown: bool = False, not_found: bool = False):
        super().__init__(detail)
        self.detail = detail
        self.outcome_unknown = outcome_unknown
        self.not_found = not_found


def stripe_error_detail(exc: Exception) -> str:
    """Everything ops need about a failed Stripe call, on one line."""
    if isinstance(exc, stripe.StripeError):
        parts = [type(exc).__name__]
        if exc.http_status:
            parts.append(f"HTTP {exc.http_status}")
        if exc.code:
            parts.append(f"code {exc.code}")
        if exc.request_id:
            parts.append(f"request {exc.request_id}")
        message = exc.user_message or str(exc)
        return f"{message} ({', '.join(parts)})"
    return f"{type(exc).__name__}: {exc}"


def gateway_error(exc: Exception) -> GatewayError:
    """A failed Stripe call as a GatewayError (a missing object marked `not_found`)."""
    missing = isinstance(exc, stripe.InvalidRequestError) and (
        exc.code == "resource_missing" or exc.http_status == 404
    )
    return GatewayError(stripe_error_detail(exc), not_found=missing)


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str


@dataclass(frozen=True)
class IntentState:
    """A PaymentIntent as the store acts on it. Stripe's statuses: `requires_capture` (the
    money is held), `succeeded` (captured), `canceled` (released or lapsed), `processing`."""

    id: str
    status: str
    amount: int | None = None
    currency: str = ""
    latest_charge: str = ""

    @property
    def held(self) -> bool:
        return self.status == "requires_capture"

    @property
    def captured(self) -> bool:
        return self.status == "succeeded"

    @property
    def released(self) -> bool:
        return self.status == "canceled"


def intent_state(intent: dict) -> IntentState:
    """Read a PaymentIntent object (or its id alone) into an IntentState."""
    if isinstance(intent, str):
        return IntentState(id=intent, status="")
    charge = intent.get("latest_charge")
    if isinstance(charge, dict):
        charge = charge.get("id")
    amount = intent.get("amount")
    return IntentState(
        id=str(intent.get("id") or ""),
        status=str(intent.get("status") or ""),
        amount=amount if isinstance(amount, int) else None,
        currency=str(intent.get("currency") or "").lower(),
        latest_charge=charge if isinstance(charge, str) else "",
    )
