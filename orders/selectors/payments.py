"""Finding the order a Stripe object is about, from whichever ids it carries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from orders.models import Order


@dataclass(frozen=True)
class PaymentRef:
    """The ids a Stripe object carried: its Checkout Session, the order id and number we put
    in its metadata and `client_reference_id`, its PaymentIntent, its charge."""

    session_id: str = ""
    order_id: str = ""
    order_number: str = ""
    payment_intent_id: str = ""
    charge_id: str = ""

    def describe(self) -> str:
        if self.session_id:
            return f"Checkout Session {self.session_id}"
        if self.charge_id:
            return f"charge {self.charge_id}"
        if self.payment_intent_id:
            return f"payment intent {self.payment_intent_id}"
        return f"order {self.order_id or self.order_number or '(no id)'}"


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def order_for_payment(ref: PaymentRef) -> Order | None:
    """The order the ids name, the most specific first: our own order id, the Checkout
    Session, the order number, the charge, the PaymentIntent (one query when the first one
    names it). Stripe always names a dispute's or fraud warning's charge; its PaymentIntent
    may be null."""
    order_id = _uuid(ref.order_id)
    ranked = (
        ("pk", order_id),
        ("stripe_checkout_session_id", ref.session_id),
        ("order_number", None if order_id else ref.order_number),
        ("stripe_charge_id", ref.charge_id),
        ("stripe_payment_intent_id", ref.payment_intent_id),
    )
    for field, value in ranked:
        if value:
            order = Order.objects.filter(**{field: value}).order_by().first()
            if order is not None:
                return order
    return None
