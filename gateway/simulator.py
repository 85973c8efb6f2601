"""The local payment simulator (development only: `DEBUG` on and no `STRIPE_SECRET_KEY`): a
small Stripe of its own. It keeps its Checkout Sessions in `SimulatedCheckout`, answers the
same calls as `StripeGateway` with objects in Stripe's shapes, and lets the test checkout page
(payments' simulator pages) finish a session the ways a shopper can at Stripe, returning the
events Stripe would send for it. It knows no order, like Stripe.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from gateway import stripe_objects as so
from gateway.base import CheckoutSession, GatewayError
from gateway.models import SimulatedCheckout
from gateway.signing import secrets_listed

SIMULATOR_WEBHOOK_SECRET = "whsec_simulator_local_only"
SIMULATED_PREFIXES = ("cs_sim_", "pi_sim_", "ch_sim_", "re_sim_", "dp_sim_", "issfr_sim_")
# The simulator's Checkout page is a page of the store: `url` is this path plus the id.
CHECKOUT_PATH = "/checkout/simulator/"
# The test checkout collects no address: a made-up New Zealand one stands in for it.
TEST_ADDRESS = {
    "line1": "1 Queen Street",
    "line2": "Test address from the payment simulator",
    "city": "Auckland",
    "state": None,
    "postal_code": "1010",
    "country": "NZ",
}
TEST_PHONE = "+64 21 000 0000"


def simulator_enabled() -> bool:
    return bool(settings.DEBUG and not settings.STRIPE_SECRET_KEY)


def _token() -> str:
    return secrets.token_urlsafe(18).replace("-", "x").replace("_", "y")


def _timestamp(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value else None


def _amount(params: dict) -> int:
    return sum(
        int(item["price_data"]["unit_amount"]) * int(item.get("quantity", 1))
        for item in params.get("line_items", [])
    )


def _capture_method(params: dict) -> str:
    return (params.get("payment_intent_data") or {}).get("capture_method") or "automatic_async"


class SimulatorGateway:
    name = "simulator"

    @property
    def webhook_secrets(self) -> list[str]:
        """Configured secrets win."""
        return secrets_listed(settings.STRIPE_WEBHOOK_SECRET) or [SIMULATOR_WEBHOOK_SECRET]

    def checkout_session_create(self, *, params: dict, idempotency_key: str) -> CheckoutSession:
        """The address is a path on this site, not on STOREFRONT_URL, so the journey stays
        on the host the developer opened (its session cookie, `form-action 'self'`)."""
        existing = SimulatedCheckout.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            token = _token()
            try:
                with transaction.atomic():
                    existing = SimulatedCheckout.objects.create(
                        session_id=f"cs_sim_{token}",
                        payment_intent_id=f"pi_sim_{token}",
                        charge_id=f"ch_sim_{token}",
                        idempotency_key=idempotency_key,
                        params=params,
                        expires_at=datetime.fromtimestamp(int(params["expires_at"]), tz=UTC),
                    )
            except IntegrityError:  # the same request, sent twice at once
                existing = SimulatedCheckout.objects.get(idempotency_key=idempotency_key)
        return CheckoutSession(id=existing.session_id, url=f"{CHECKOUT_PATH}{existing.session_id}/")

    def checkout_session_retrieve(self, session_id: str) -> dict:
        """With its PaymentIntent expanded, as `StripeGateway` asks for it."""
        return session_object(_checkout(session_id=session_id), expand_intent=True)

    def checkout_session_for_payment_intent(self, payment_intent_id: str) -> dict | None:
        checkout = SimulatedCheckout.objects.filter(payment_intent_id=payment_intent_id).first()
        if checkout is None:
            return None
        return session_object(_lapse(checkout), expand_intent=True)

    def payment_intent_retrieve(
        self, payment_intent_id: str, *, expand: tuple[str, ...] = ()
    ) -> dict:
        checkout = _checkout(payment_intent_id=payment_intent_id)
        return intent_object(checkout, expand_charge="latest_charge" in expand)

    def charge_retrieve(self, charge_id: str) -> dict:
        checkout = _checkout(charge_id=charge_id)
        if checkout.intent_status not in CHARGED:
            raise GatewayError(f"No such charge: {charge_id!r}", not_found=True)
        return charge_object(checkout)

    def refunds_for_charge(self, charge_id: str) -> list[dict]:
        checkout = _checkout(charge_id=charge_id)
        return [refund_object(checkout, refund) for refund in reversed(checkout.refunds)]

    def refund_retrieve(self, refund_id: str) -> dict:
        checkout = _checkout(refunds__icontains=refund_id)
        refund = next((r for r in checkout.refunds if r["id"] == refund_id), None)
        if refund is None:
            raise GatewayError(f"No such refund: {refund_id!r}", not_found=True)
        return refund_object(checkout, refund)

    def payment_intent_capture(self, payment_intent_id: str, *, idempotency_key: str) -> dict:
        return _intent_move(payment_intent_id, to="succeeded", payment_status="paid")

    def payment_intent_cancel(self, payment_intent_id: str, *, idempotency_key: str) -> dict:
        return _intent_move(payment_intent_id, to="canceled")

    def refund_create(
        self, *, payment_intent: str, amount_cents: int, metadata: dict, idempotency_key: str
    ) -> dict:
        with transaction.atomic():
            checkout = (
                SimulatedCheckout.objects.select_for_update()
                .filter(payment_intent_id=payment_intent)
                .first()
            )
            if checkout is None:
                raise GatewayError(
                    f"{payment_intent} is not a simulated payment; the simulator can't refund it"
                )
            done = next((r for r in checkout.refunds if r["key"] == idempotency_key), None)
            if done is None:
                left = _amount(checkout.params) - checkout.amount_refunded
                if checkout.intent_status != "succeeded" or not 0 < amount_cents <= left:
                    raise GatewayError(
                        f"Refund of {amount_cents} refused: the payment is "
                        f"{checkout.intent_status} with {left} left to refund."
                    )
                done = {
                    "id": f"re_sim_{_token()}",
                    "key": idempotency_key,
                    "amount": amount_cents,
                    "created": int(timezone.now().timestamp()),
                    "metadata": metadata,
                }
                checkout.refunds = [*checkout.refunds, done]
                checkout.amount_refunded += amount_cents
                checkout.save(update_fields=["refunds", "amount_refunded"])
        return refund_object(checkout, done)


def _checkout(**lookup) -> SimulatedCheckout:
    checkout = SimulatedCheckout.objects.filter(**lookup).first()
    if checkout is None:
        raise GatewayError(
            f"No such simulated object: {next(iter(lookup.values()))!r}", not_found=True
        )
    return _lapse(checkout)


def _lapse(checkout: SimulatedCheckout) -> SimulatedCheckout:
    """An open session past its `expires_at` is expired, as at Stripe."""
    if checkout.status == SimulatedCheckout.Status.OPEN and timezone.now() >= checkout.expires_at:
        SimulatedCheckout.objects.filter(pk=checkout.pk, status=checkout.status).update(
            status=SimulatedCheckout.Status.EXPIRED
        )
        checkout.status = SimulatedCheckout.Status.EXPIRED
    return checkout


def _intent_move(payment_intent_id: str, *, to: str, payment_status: str | None = None) -> dict:
    """Capture or cancel a held payment (a repeat answers the same object)."""
    checkout = _checkout(payment_intent_id=payment_intent_id)
    if checkout.intent_status != to:
        if checkout.intent_status != "requires_capture":
            raise GatewayError(
                f"This PaymentIntent could not be {'captured' if to == 'succeeded' else 'canceled'}"
                f": it is {checkout.intent_status}."
            )
        checkout.intent_status = to
        checkout.payment_status = payment_status or checkout.payment_status
        checkout.save(update_fields=["intent_status", "payment_status"])
    return intent_object(checkout)


# ---------------------------------------------------------------- the test checkout page

# What each button on the test checkout page does: (session status, session payment_status,
# PaymentIntent status) after it, and the event Stripe sends. Paying by card authorises (the
# money held) when the session asked for manual capture, and charges otherwise.
FINISHES = {
    "pay_manual": ("complete", "unpaid", "requires_capture", "checkout.session.completed"),
    "pay_automatic": ("complete", "paid", "succeeded", "checkout.session.completed"),
    "delayed": ("complete", "unpaid", "processing", "checkout.session.completed"),
    "settle": ("complete", "paid", "succeeded", "checkout.session.async_payment_succeeded"),
    "fail": (
        "complete",
        "unpaid",
        "requires_payment_method",
        "checkout.session.async_payment_failed",
    ),
    "expire": ("expired", "unpaid", "requires_payment_method", "checkout.session.expired"),
}
# The finishes of an open session; the others end a delayed payment that is processing.
FROM_OPEN = ("pay", "delayed", "expire")


class SimulatorError(Exception):
    pass


def simulator_finish(*, session_id: str, how: str, shipping_name: str = "") -> tuple[str, dict]:
    """Finish the session the way the shopper chose on the test page: the event type Stripe
    sends for it and the session object it carries. Raises SimulatorError when the session is
    not in a state that allows it."""
    if how not in (*FROM_OPEN, "settle", "fail"):
        raise SimulatorError(f"Unknown simulator action {how!r}.")
    with transaction.atomic():
        checkout = SimulatedCheckout.objects.select_for_update().get(session_id=session_id)
        checkout = _lapse(checkout)
        if how in FROM_OPEN and checkout.status != SimulatedCheckout.Status.OPEN:
            raise SimulatorError("This test checkout is closed; nothing was sent.")
        if how not in FROM_OPEN and checkout.intent_status != "processing":
            raise SimulatorError("There is no delayed payment to settle or fail.")
        if how == "pay":
            manual = _capture_method(checkout.params) == "manual"
            how = "pay_manual" if manual else "pay_automatic"
        status, payment_status, intent_status, event_type = FINISHES[how]
        checkout.status, checkout.payment_status = status, payment_status
        checkout.intent_status = intent_status
        if shipping_name:
            checkout.shipping_name = shipping_name[:200]
        checkout.save()
    return event_type, session_object(checkout)


def simulator_after_payment(*, session_id: str, what: str) -> tuple[str, dict]:
    """A dispute or an early fraud warning on the session's charge, as Stripe publishes them:
    the charge always set, `payment_intent` null."""
    checkout = _checkout(session_id=session_id)
    if checkout.intent_status not in ("requires_capture", "succeeded"):
        raise SimulatorError("There is no payment to send that about yet.")
    now = int(timezone.now().timestamp())
    if what == "dispute":
        return "charge.dispute.created", so.dispute(
            id=f"dp_sim_{_token()}",
            charge=checkout.charge_id,
            payment_intent=None,
            amount=_amount(checkout.params),
            currency=_currency(checkout.params),
            created=now,
            evidence_due_by=now + 7 * 86400,
        )
    return "radar.early_fraud_warning.created", so.early_fraud_warning(
        id=f"issfr_sim_{_token()}", charge=checkout.charge_id, payment_intent=None, created=now
    )


def simulated_checkout(*, session_id: str) -> SimulatedCheckout | None:
    return SimulatedCheckout.objects.filter(session_id=session_id).first()


# ---------------------------------------------------------------- objects, in Stripe's shapes
# Built by `gateway.stripe_objects`, as the Stripe test double builds its own.

CHARGED = ("requires_capture", "succeeded", "canceled")


def _currency(params: dict) -> str:
    items = params.get("line_items") or [{}]
    return str((items[0].get("price_data") or {}).get("currency") or "nzd")


def _shipping(checkout: SimulatedCheckout) -> dict:
    return so.shipping_details(name=checkout.shipping_name, address=so.address(**TEST_ADDRESS))


def session_object(checkout: SimulatedCheckout, *, expand_intent: bool = False) -> dict:
    """The session as Stripe shows it: in an event its PaymentIntent is an id; a retrieve
    may expand it (with its latest charge)."""
    params = checkout.params
    opened = so.checkout_session(
        id=checkout.session_id,
        created=_timestamp(checkout.created_at),
        expires_at=_timestamp(checkout.expires_at),
        amount_total=_amount(params),
        currency=_currency(params),
        success_url=params.get("success_url", "").replace(
            "{CHECKOUT_SESSION_ID}", checkout.session_id
        ),
        cancel_url=params.get("cancel_url"),
        url=f"{CHECKOUT_PATH}{checkout.session_id}/",
        metadata=params.get("metadata"),
        client_reference_id=params.get("client_reference_id"),
        customer_email=params.get("customer_email"),
        allowed_countries=(params.get("shipping_address_collection") or {}).get(
            "allowed_countries"
        ),
        phone_number_collection=bool((params.get("phone_number_collection") or {}).get("enabled")),
    )
    if checkout.status == SimulatedCheckout.Status.EXPIRED:
        return so.checkout_session_expired(opened)
    if checkout.status != SimulatedCheckout.Status.COMPLETE:
        return opened
    session = so.checkout_session_completed(
        opened,
        payment_intent=checkout.payment_intent_id,
        payment_status=checkout.payment_status,
        email=params.get("customer_email"),
        phone=TEST_PHONE,
        shipping_details=_shipping(checkout),
    )
    if expand_intent:
        session["payment_intent"] = intent_object(checkout, expand_charge=True)
    return session


def charge_object(checkout: SimulatedCheckout) -> dict:
    """The session's card charge: uncaptured while the money is only held."""
    params = checkout.params
    details = _shipping(checkout)
    charge = so.charge(
        id=checkout.charge_id,
        amount=_amount(params),
        currency=_currency(params),
        created=_timestamp(checkout.created_at),
        payment_intent=checkout.payment_intent_id,
        captured=checkout.intent_status == "succeeded",
        billing_name=checkout.shipping_name or None,
        billing_email=params.get("customer_email"),
        billing_address=details["address"],
        shipping=so.shipping(name=details["name"], address=details["address"], phone=TEST_PHONE),
    )
    for refund in checkout.refunds:
        charge = so.charge_refunded(charge, refund=_refund(charge, refund))
    return charge


def intent_object(checkout: SimulatedCheckout, *, expand_charge: bool = False) -> dict:
    params = checkout.params
    status = checkout.intent_status
    details = _shipping(checkout)
    intent = so.payment_intent(
        id=checkout.payment_intent_id,
        amount=_amount(params),
        currency=_currency(params),
        created=_timestamp(checkout.created_at),
        capture_method=_capture_method(params),
        metadata=(params.get("payment_intent_data") or {}).get("metadata"),
        shipping=so.shipping(name=details["name"], address=details["address"], phone=TEST_PHONE)
        if checkout.status == SimulatedCheckout.Status.COMPLETE
        else None,
    )
    if status not in CHARGED:
        return {**intent, "status": status}
    charge = charge_object(checkout)
    intent = so.payment_intent_paid(intent, charge=charge)
    if status == "succeeded" and intent["status"] != "succeeded":
        intent = so.payment_intent_captured(intent)
    elif status == "canceled":
        intent = so.payment_intent_canceled(intent, canceled_at=_timestamp(timezone.now()))
    if expand_charge:
        intent["latest_charge"] = charge
    return intent


def _refund(charge: dict, refund: dict) -> dict:
    return so.refund(
        id=refund["id"],
        charge=charge,
        amount=refund["amount"],
        created=refund["created"],
        reason="requested_by_customer",
        metadata=refund["metadata"],
    )


def refund_object(checkout: SimulatedCheckout, refund: dict) -> dict:
    return _refund(charge_object(checkout), refund)
