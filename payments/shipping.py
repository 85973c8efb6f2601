"""The shipping details a shopper gave at Checkout, from either shape Stripe sends."""

from __future__ import annotations

ADDRESS_FIELDS = ("line1", "line2", "city", "state", "postal_code", "country")


def shipping_from_session(session: dict) -> dict:
    """`shipping_name`, `shipping_address` (structured) and `shipping_phone` from
    `collected_information.shipping_details` or, in older API versions, `shipping_details`;
    empty values when the session has none (older sessions)."""
    collected = session.get("collected_information")
    details = (collected.get("shipping_details") if isinstance(collected, dict) else None) or (
        session.get("shipping_details")
    )
    details = details if isinstance(details, dict) else {}
    address = details.get("address") if isinstance(details.get("address"), dict) else {}
    customer = session.get("customer_details")
    phone = customer.get("phone") if isinstance(customer, dict) else None
    return {
        "shipping_name": _text(details.get("name"), 200),
        "shipping_address": {
            key: _text(address.get(key), 200) for key in ADDRESS_FIELDS if address.get(key)
        },
        "shipping_phone": _text(phone, 40),
    }


def _text(value, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""
