"""The payment gateway: Stripe, or the local payment simulator, behind one interface.

`payment_gateway()` is the one place that decides which, from the settings as they are now
(the simulator: `DEBUG` on and no `STRIPE_SECRET_KEY`). Nothing else asks "is this the
simulator?". Every Stripe call happens outside a transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import stripe
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.selectors import customer_name
from orders.models import Order, PaymentStatus, Status

SIMULATOR_WEBHOOK_SECRET = "whsec_simulator_local_only"
SIMULATED_PREFIXES = ("cs_sim_", "pi_sim_", "re_sim_")


class GatewayError(Exception):
    """A call to the payment provider failed; `detail` says everything ops need.
    `outcome_unknown`: the request may have reached Stripe (the connection broke)."""

    def __init__(self, detail: str, *, outcome_unknown: bool = False):
        super().__init__(detail)
        self.detail = detail
        self.outcome_unknown = outcome_unknown


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


def stripe_dashboard_url(kind: str, object_id: str) -> str | None:
    """The object's page in the Stripe Dashboard; None for the simulator's made-up ids."""
    if not object_id or object_id.startswith(SIMULATED_PREFIXES):
        return None
    mode = "" if settings.STRIPE_SECRET_KEY.startswith("sk_live") else "/test"
    return f"https://dashboard.stripe.com{mode}/{kind}/{object_id}"


def success_path(order: Order, session_id: str = "{CHECKOUT_SESSION_ID}") -> str:
    return (
        f"{reverse('payments:checkout-success')}?order={order.order_number}&session_id={session_id}"
    )


class StripeGateway:
    name = "stripe"

    @property
    def webhook_secret(self) -> str:
        return settings.STRIPE_WEBHOOK_SECRET

    def client(self) -> stripe.StripeClient:
        """Built from the settings as they are now (tests change them per test)."""
        base_addresses = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None
        return stripe.StripeClient(
            settings.STRIPE_SECRET_KEY,
            base_addresses=base_addresses,
            max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
            http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS),
        )

    def checkout_session_create(self, *, order: Order, params: dict) -> tuple[str, str]:
        try:
            session = self.client().v1.checkout.sessions.create(
                params=params, options={"idempotency_key": order.idempotency_key}
            )
        except Exception as exc:
            raise GatewayError(stripe_error_detail(exc)) from exc
        if not session.id or not session.url:
            raise GatewayError(f"Stripe answered without a checkout URL (session {session.id}).")
        return session.id, session.url

    def checkout_session_retrieve(self, session_id: str) -> dict:
        """The session with its PaymentIntent expanded: with manual capture, whether a
        completed session is authorised is the PaymentIntent's status."""
        try:
            session = self.client().v1.checkout.sessions.retrieve(
                session_id, params={"expand": ["payment_intent"]}
            )
            return session.to_dict()
        except Exception as exc:
            raise GatewayError(stripe_error_detail(exc)) from exc

    def payment_intent_retrieve(self, payment_intent_id: str) -> dict:
        try:
            return self.client().v1.payment_intents.retrieve(payment_intent_id).to_dict()
        except Exception as exc:
            raise GatewayError(stripe_error_detail(exc)) from exc

    def payment_intent_capture(self, *, order: Order) -> dict:
        """Capture the held payment. One idempotency key per order: a retry after a timeout
        repeats the same request (Stripe answers it once), never a second capture."""
        return self._intent_call(order, "capture", f"capture-{order.pk}")

    def payment_intent_cancel(self, *, order: Order) -> dict:
        """Release the authorisation (nothing is charged)."""
        return self._intent_call(order, "cancel", f"void-{order.pk}")

    def _intent_call(self, order: Order, verb: str, key: str) -> dict:
        intents = self.client().v1.payment_intents
        try:
            intent = getattr(intents, verb)(
                order.stripe_payment_intent_id, options={"idempotency_key": key}
            )
        except stripe.APIConnectionError as exc:
            raise GatewayError(stripe_error_detail(exc), outcome_unknown=True) from exc
        except Exception as exc:
            raise GatewayError(stripe_error_detail(exc)) from exc
        return intent.to_dict()

    def refund_create(self, *, order: Order, amount_cents: int, metadata: dict) -> str:
        """Refund `amount_cents` of the payment. The key names the refund by what was already
        refunded, so a repeated request is the same refund and a later one is a new one."""
        key = f"refund-{order.pk}-{order.amount_refunded_cents}-{amount_cents}"
        try:
            refund = self.client().v1.refunds.create(
                params={
                    "payment_intent": order.stripe_payment_intent_id,
                    "amount": amount_cents,
                    "reason": "requested_by_customer",
                    "metadata": metadata,
                },
                options={"idempotency_key": key},
            )
        except Exception as exc:
            raise GatewayError(stripe_error_detail(exc)) from exc
        return refund.id


class SimulatorGateway:
    """Stripe Checkout's journey with no keys and no network (development only): sessions
    are local pages (payments/simulator.py sends their events through the real webhook)."""

    name = "simulator"

    @property
    def webhook_secret(self) -> str:
        """A configured secret wins."""
        return settings.STRIPE_WEBHOOK_SECRET or SIMULATOR_WEBHOOK_SECRET

    def checkout_session_create(self, *, order: Order, params: dict) -> tuple[str, str]:
        """The address is a path on this site, not on STOREFRONT_URL, so the journey stays
        on the host the developer opened (its session cookie, `form-action 'self'`)."""
        session_id = f"cs_sim_{secrets.token_urlsafe(18)}"
        return session_id, reverse("payments:checkout-simulator", args=[session_id])

    def checkout_session_retrieve(self, session_id: str) -> dict:
        """The session as Stripe would report it now: the simulator's sessions lapse after
        `CHECKOUT_EXPIRY_MINUTES`, like Stripe's."""
        order = Order.objects.select_related("user").get(stripe_checkout_session_id=session_id)
        if order.status == Status.PENDING_PAYMENT:
            lapsed = timezone.now() > order.created_at + timedelta(
                minutes=settings.CHECKOUT_EXPIRY_MINUTES
            )
            status, payment_status = ("expired" if lapsed else "open"), "unpaid"
        elif order.status in (Status.PAID, Status.CONFIRMED, Status.CANCELLED):
            status, payment_status = "complete", "paid"
        elif order.status == Status.EXPIRED:
            status, payment_status = "expired", "unpaid"
        else:
            status, payment_status = "complete", "unpaid"
        return simulated_session(order, status=status, payment_status=payment_status)

    def payment_intent_retrieve(self, payment_intent_id: str) -> dict:
        order = Order.objects.get(stripe_payment_intent_id=payment_intent_id)
        return simulated_payment_intent(order)

    def payment_intent_capture(self, *, order: Order) -> dict:
        return {**simulated_payment_intent(order), "status": "succeeded"}

    def payment_intent_cancel(self, *, order: Order) -> dict:
        return {**simulated_payment_intent(order), "status": "canceled"}

    def refund_create(self, *, order: Order, amount_cents: int, metadata: dict) -> str:
        intent = order.stripe_payment_intent_id
        if not intent.startswith("pi_sim_"):
            raise GatewayError(
                f"{intent} is not a simulated payment; the simulator can't refund it"
            )
        return f"re_sim_{intent.removeprefix('pi_sim_')}_{order.amount_refunded_cents}"


def simulated_payment_intent_id(session_id: str) -> str:
    digest = hashlib.sha256(session_id.encode()).hexdigest()[:24]
    return f"pi_sim_{digest}"


def simulated_payment_intent(order: Order, *, status: str | None = None) -> dict:
    """The order's simulated PaymentIntent: held until the order is confirmed when the
    store captures manually."""
    if status is None:
        status = {
            PaymentStatus.AUTHORIZED: "requires_capture",
            PaymentStatus.VOIDED: "canceled",
            PaymentStatus.PENDING: "requires_payment_method",
        }.get(order.payment_status, "succeeded")
    return {
        "id": order.stripe_payment_intent_id
        or simulated_payment_intent_id(order.stripe_checkout_session_id),
        "object": "payment_intent",
        "status": status,
        "amount": order.amount_cents,
        "amount_capturable": order.amount_cents if status == "requires_capture" else 0,
        "currency": order.currency,
        "capture_method": settings.CHECKOUT_CAPTURE,
        "latest_charge": None,
        "metadata": {"order_id": str(order.pk), "order_number": order.order_number},
    }


def simulated_session(order: Order, *, status: str, payment_status: str) -> dict:
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
        # The test checkout collects no address: a made-up New Zealand one stands in for it.
        "collected_information": {
            "shipping_details": {
                "name": customer_name(order.user),
                "address": {
                    "line1": "1 Queen Street",
                    "line2": "Test address from the payment simulator",
                    "city": "Auckland",
                    "postal_code": "1010",
                    "country": "NZ",
                },
            }
        },
        "customer_details": {"email": order.user.email or None, "phone": "+64 21 000 0000"},
        "livemode": False,
        "success_url": f"{settings.STOREFRONT_URL}{success_path(order, session_id)}",
        "cancel_url": f"{settings.STOREFRONT_URL}{order.diamond.get_absolute_url()}",
        "url": None,
    }


def simulator_enabled() -> bool:
    return bool(settings.DEBUG and not settings.STRIPE_SECRET_KEY)


class UnconfiguredGateway:
    """No Stripe key outside development (a check error, payments.E002): every call is
    refused without a network request."""

    name = "unconfigured"
    webhook_secret = ""

    def _refuse(self, *args, **kwargs):
        raise GatewayError("STRIPE_SECRET_KEY is not configured.")

    checkout_session_create = checkout_session_retrieve = refund_create = _refuse
    payment_intent_retrieve = payment_intent_capture = payment_intent_cancel = _refuse


def payment_gateway() -> StripeGateway | SimulatorGateway | UnconfiguredGateway:
    if settings.STRIPE_SECRET_KEY:
        return StripeGateway()
    return SimulatorGateway() if settings.DEBUG else UnconfiguredGateway()
