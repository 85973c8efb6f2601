"""How the ops dashboard shows an order's parts: status badges and links to Stripe."""

from django.utils.html import format_html

from gateway.registry import stripe_dashboard_url

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
