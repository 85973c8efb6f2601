"""What the success page tells the shopper: the truth about their payment.

Stripe sends the shopper to the success URL whenever Checkout ends, paid or not, and the link
can be followed again later. So the page reads the order (and, while the order is still
pending, the Checkout Session Stripe reports) and says what actually happened. It is
optimistic — **Payment Successful** — only for an order that is paid or authorised (whatever
the supplier order then does), and while Stripe cannot be asked.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog.models import Availability
from orders.models import Status
from orders.selectors.shopper import order_payment_processing, order_shopper_status
from payments import selectors
from payments.fulfilment import session_payment_state


@dataclass(frozen=True)
class CheckoutResult:
    key: str  # successful, processing, failed, expired, not_completed, cancelled
    title: str
    message: str
    offer_retry: bool = False


SUCCESSFUL = CheckoutResult(
    "successful", "Payment Successful", "Your diamond order is being processed."
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


def _from_session(session: dict) -> CheckoutResult | None:
    """A pending order's result from the Checkout Session Stripe reports."""
    status = session.get("status")
    if status == "expired":
        return EXPIRED
    if status == "complete" and session_payment_state(session) in ("paid", "authorized"):
        return SUCCESSFUL  # paid or authorised; the order is catching up (webhook, fulfilment)
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
    if order.status in (Status.PAID, Status.CONFIRMED):
        return SUCCESSFUL
    if order.status == Status.FAILED:
        return FAILED
    if order.status == Status.EXPIRED:
        return EXPIRED
    if order.status == Status.CANCELLED:
        status = order_shopper_status(order=order)
        return CheckoutResult("cancelled", "Order Cancelled", status.detail)
    # still pending_payment
    if order_payment_processing(order=order):
        return PROCESSING
    if session is not None:
        return _from_session(session) or SUCCESSFUL
    return SUCCESSFUL  # Stripe cannot be asked: the webhook will tell the order


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
