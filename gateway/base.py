"""What every payment gateway answers in: its error, and a PaymentIntent's state read from
Stripe's object (Stripe and the simulator both speak Stripe's shapes)."""

from __future__ import annotations

from dataclasses import dataclass

import stripe


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
