"""How the ops dashboard shows an order's parts: status badges and links to Stripe."""

from django.utils.html import format_html

from gateway.registry import stripe_dashboard_url
from orders.states import TRANSITIONS

GREEN, YELLOW, RED, GREY, BLUE = "green", "yellow", "red", "grey", "blue"

BADGE_TONES = {
    "paid": GREEN,
    "success": GREEN,
    "confirmed": GREEN,
    "pending": YELLOW,
    "pending_payment": YELLOW,
    "failed": RED,
    "expired": RED,
    "not_attempted": GREY,
    # Closed by ops: money went back (blue, informational), the order is off (grey).
    "refunded": BLUE,
    "cancelled": GREY,
    # The stone's way: waiting on someone (yellow), done (green).
    "awaiting_stone": YELLOW,
    "received": YELLOW,
    "shipped": YELLOW,
    "delivered": GREEN,
    "return_requested": YELLOW,
    "return_approved": YELLOW,
    "returned": BLUE,
}


def badge(value: str, label: str):
    tone = BADGE_TONES.get(value, GREY)
    return format_html('<span class="badge badge-{} badge-is-{}">{}</span>', tone, value, label)


def stripe_dashboard_link(kind: str, object_id: str):
    if not object_id:
        return "—"
    url = stripe_dashboard_url(kind, object_id)
    if url is None:
        return format_html(
            '{} <span class="quiet">(payment simulator, not in Stripe)</span>', object_id
        )
    return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, object_id)


# Timeline entries that are no move of the state table, in ops' words.
EVENT_WORDS = {
    "checkout_created": "Checkout started",
    "checkout_session_created": "Stripe Checkout Session created",
    "payment_processing": "Delayed payment submitted; waiting for it to settle",
    "payment_error": "A payment action failed",
    "dispute_opened": "The customer disputed the payment",
    "fraud_warning": "Stripe raised an early fraud warning",
    "stripe_mismatch": "Stripe reported what the books cannot match",
    "feed_hold_placed": "The supplier holds the stone",
    "feed_hold_released": "The supplier's hold was released",
    "feed_hold_release_failed": "The supplier's hold could not be released",
    "feed_order_late_answer": "A late supplier answer arrived (ignored)",
    "customer_deleted": "The customer deleted their account",
}


def event_words(kind: str) -> str:
    """A timeline entry's kind in ops' words: the state table's description of the move
    that writes it, else EVENT_WORDS, else the code made readable."""
    for transition in TRANSITIONS.values():
        if transition.kind == kind and transition.description:
            text = transition.description
            return text[0].upper() + text[1:]
    return EVENT_WORDS.get(kind) or kind.replace("_", " ").capitalize()
