"""Stripe, through its official SDK. Every call happens outside a transaction; the caller
gives the idempotency key, so a retried request is the same request at Stripe."""

from __future__ import annotations

import stripe
from django.conf import settings

from gateway.base import CheckoutSession, GatewayError, gateway_error, stripe_error_detail
from gateway.signing import secrets_listed


class StripeGateway:
    name = "stripe"

    @property
    def webhook_secrets(self) -> list[str]:
        return secrets_listed(settings.STRIPE_WEBHOOK_SECRET)

    def client(self) -> stripe.StripeClient:
        """Built from the settings as they are now (tests change them per test)."""
        base_addresses = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None
        return stripe.StripeClient(
            settings.STRIPE_SECRET_KEY,
            base_addresses=base_addresses,
            max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
            http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS),
        )

    def checkout_session_create(self, *, params: dict, idempotency_key: str) -> CheckoutSession:
        try:
            session = self.client().v1.checkout.sessions.create(
                params=params, options={"idempotency_key": idempotency_key}
            )
        except Exception as exc:
            raise GatewayError(stripe_error_detail(exc)) from exc
        if not session.id or not session.url:
            raise GatewayError(f"Stripe answered without a checkout URL (session {session.id}).")
        return CheckoutSession(id=session.id, url=session.url)

    def checkout_session_retrieve(self, session_id: str) -> dict:
        """The session with its PaymentIntent expanded: with manual capture, whether a
        completed session is authorised is the PaymentIntent's status."""
        try:
            session = self.client().v1.checkout.sessions.retrieve(
                session_id, params={"expand": ["payment_intent"]}
            )
        except Exception as exc:
            raise gateway_error(exc) from exc
        return session.to_dict()

    def checkout_session_for_payment_intent(self, payment_intent_id: str) -> dict | None:
        """The Checkout Session that created a PaymentIntent (its PaymentIntent and that one's
        latest charge expanded), or None: for an event about the payment that arrives before
        the session's own."""
        try:
            sessions = self.client().v1.checkout.sessions.list(
                params={
                    "payment_intent": payment_intent_id,
                    "limit": 1,
                    "expand": ["data.payment_intent.latest_charge"],
                }
            )
        except Exception as exc:
            raise gateway_error(exc) from exc
        found = sessions.data
        return found[0].to_dict() if found else None

    def payment_intent_retrieve(
        self, payment_intent_id: str, *, expand: tuple[str, ...] = ()
    ) -> dict:
        params = {"expand": list(expand)} if expand else None
        try:
            return (
                self.client()
                .v1.payment_intents.retrieve(payment_intent_id, params=params)
                .to_dict()
            )
        except Exception as exc:
            raise gateway_error(exc) from exc

    def charge_retrieve(self, charge_id: str) -> dict:
        """A charge: for a dispute or fraud warning that names only its charge, which
        PaymentIntent it belongs to."""
        try:
            return self.client().v1.charges.retrieve(charge_id).to_dict()
        except Exception as exc:
            raise gateway_error(exc) from exc

    def refunds_for_charge(self, charge_id: str) -> list[dict]:
        """Every refund of a charge, newest first: `charge.refunded` carries only the total
        (since API version 2022-11-15 a charge's `refunds` is sent only when expanded)."""
        try:
            listed = self.client().v1.refunds.list(params={"charge": charge_id, "limit": 100})
            return [refund.to_dict() for refund in listed.auto_paging_iter()]
        except Exception as exc:
            raise gateway_error(exc) from exc

    def refund_retrieve(self, refund_id: str) -> dict:
        """A refund as Stripe holds it now (an event's copy may be older than another's)."""
        try:
            return self.client().v1.refunds.retrieve(refund_id).to_dict()
        except Exception as exc:
            raise gateway_error(exc) from exc

    def payment_intent_capture(self, payment_intent_id: str, *, idempotency_key: str) -> dict:
        """Capture the held payment. With one key per order, a retry after a timeout repeats
        the same request (Stripe answers it once), never a second capture."""
        return self._intent_call("capture", payment_intent_id, idempotency_key)

    def payment_intent_cancel(self, payment_intent_id: str, *, idempotency_key: str) -> dict:
        """Release the authorisation (nothing is charged)."""
        return self._intent_call("cancel", payment_intent_id, idempotency_key)

    def _intent_call(self, verb: str, payment_intent_id: str, idempotency_key: str) -> dict:
        intents = self.client().v1.payment_intents
        try:
            intent = getattr(intents, verb)(
                payment_intent_id, options={"idempotency_key": idempotency_key}
            )
        except stripe.APIConnectionError as exc:
            raise GatewayError(stripe_error_detail(exc), outcome_unknown=True) from exc
        except Exception as exc:
            raise GatewayError(stripe_error_detail(exc)) from exc
        return intent.to_dict()

    def refund_create(
        self, *, payment_intent: str, amount_cents: int, metadata: dict, idempotency_key: str
    ) -> dict:
        try:
            refund = self.client().v1.refunds.create(
                params={
                    "payment_intent": payment_intent,
                    "amount": amount_cents,
                    "reason": "requested_by_customer",
                    "metadata": metadata,
                },
                options={"idempotency_key": idempotency_key},
            )
        except Exception as exc:
            raise GatewayError(stripe_error_detail(exc)) from exc
        return refund.to_dict()
