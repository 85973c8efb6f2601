"""What the success page tells the shopper: the truth about their payment.

Stripe sends the shopper to the success URL whenever Checkout ends, paid or not, and the link
can be followed again later. So the page reads the order (and, while the order is still
pending, the Checkout Session Stripe reports) and says what actually happened, in the
words of the order's page (`order_shopper_status`). **Payment Successful** only for money
taken; an authorised card reads **Payment Authorised**; a checkout past its `expires_at`
reads expired.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog.models import Availability
from orders.models import PaymentStatus, Status
from orders.selectors.shopper import (
    order_checkout_closed,
    order_payment_processing,
    order_shopper_status,
)
from payments import selectors
from payments.fulfilment import session_payment_state


@dataclass(frozen=True)
class CheckoutResult:
    # successful, authorised, received, processing, checking, failed, expired, not_completed,
    # cancelled
    key: str
    title: str
    message: str
    offer_retry: bool = False


SUCCESSFUL = CheckoutResult(
    "successful",
    "Payment Successful",
    "Payment received. We're preparing your diamond for insured shipping.",
)
AUTHORISED = CheckoutResult(
    "authorised",
    "Payment Authorised",
    "Your payment is authorised: we charge your card once your diamond is confirmed.",
)
# Stripe says the payment went through; the order has not heard yet.
RECEIVED = CheckoutResult(
    "received",
    "Payment Received",
    "Stripe has your payment. Your order page shows it within a minute or so.",
)
PROCESSING = CheckoutResult(
    "processing",
    "Payment Processing",
    "Your payment method takes a little while to settle — usually a few days. We're holding "
    "your diamond meanwhile and will email you as soon as the payment is through. There is "
    "nothing more you need to do.",
)
FAILED = CheckoutResult(
    "failed",
    "Payment Failed",
    "Your payment didn't go through, so you have not been charged.",
    offer_retry=True,
)
EXPIRED = CheckoutResult(
    "expired",
    "Checkout Expired",
    "The checkout closed before a payment was made. You have not been charged.",
    offer_retry=True,
)
NOT_COMPLETED = CheckoutResult(
    "not_completed",
    "Payment Not Completed",
    "We haven't received a payment for this order. You have not been charged.",
    offer_retry=True,
)

# Stripe could not be asked about a checkout that is still open: the webhook will tell.
CHECKING = CheckoutResult(
    "checking",
    "Checking Your Payment",
    "We're waiting to hear from Stripe about this payment; your order page shows the outcome "
    "within a minute or so. If you didn't finish paying, you have not been charged.",
)


def _from_session(session: dict) -> CheckoutResult | None:
    """A pending order's result from the Checkout Session Stripe reports."""
    status = session.get("status")
    if status == "expired":
        return EXPIRED
    state = session_payment_state(session)
    if status == "complete" and state == "paid":
        return RECEIVED
    if status == "complete" and state == "authorized":
        return AUTHORISED
    if status == "complete":
        return PROCESSING  # completed with a delayed method that has not settled
    if status == "open":
        return NOT_COMPLETED
    return None


def checkout_result(*, order, session: dict | None) -> CheckoutResult:
    """The success page's state for `order`.

    `session` is the Checkout Session as the payment gateway reports it now (Stripe, or the
    local simulator's sessions), or None when it was not (or could not be) asked.
    """
    status = order_shopper_status(order=order)
    if order.status in (Status.PAID, Status.CONFIRMED):
        held = order.payment_status == PaymentStatus.AUTHORIZED
        base = AUTHORISED if held else SUCCESSFUL
        return CheckoutResult(base.key, base.title, status.detail)
    if order.status == Status.FAILED:
        return FAILED
    if order.status == Status.EXPIRED:
        return EXPIRED
    if order.status == Status.CANCELLED:
        return CheckoutResult("cancelled", "Order Cancelled", status.detail)
    # still pending_payment
    if order_payment_processing(order=order):
        return PROCESSING
    from_session = _from_session(session) if session is not None else None
    if from_session is not None and from_session.key != NOT_COMPLETED.key:
        return from_session  # Stripe knows more than the order yet
    if order_checkout_closed(order=order):
        return EXPIRED
    # Stripe says open, or cannot be asked (the webhook will tell the order).
    return from_session or CHECKING


@dataclass(frozen=True)
class Retry:
    possible: bool
    message: str


def checkout_retry(*, order, user, result: CheckoutResult) -> Retry:
    """Whether *Try again* can start (or resume) a checkout of the same stone."""
    diamond = order.diamond
    diamond.refresh_from_db(fields=["availability"])
    if diamond.availability == Availability.AVAILABLE:
        return Retry(True, "The diamond is still available.")
    open_checkout = selectors.order_open_checkout(diamond_id=diamond.pk)
    if open_checkout is not None and open_checkout.user_id == user.pk:
        # Stripe may have closed this very checkout before its webhook reached the order.
        closed_at_stripe = open_checkout.pk == order.pk and result.key == EXPIRED.key
        if not closed_at_stripe and order_shopper_status(order=open_checkout).can_complete_payment:
            return Retry(True, "We're still holding the diamond for you.")
        return Retry(
            False,
            "Your checkout for this diamond has just closed. The diamond will be available "
            "again in a few minutes.",
        )
    return Retry(False, "Sorry, this diamond is no longer available.")
