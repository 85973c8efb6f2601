"""Where the stone goes: the shipping details Stripe Checkout collected, as the order keeps them.

Stripe's API moved them: current versions put them in
`collected_information.shipping_details`, older ones in `shipping_details` at the top of the
session (and older sessions, from before the store asked, have none). The phone number is
`customer_details.phone`. A pure function, tolerant of every absence and odd type.
"""

from __future__ import annotations

ADDRESS_FIELDS = ("line1", "line2", "city", "state", "postal_code", "country")
# The order's columns: `shipping_name` and each address part 200 characters, the phone 40.
TEXT_LIMIT = 200
PHONE_LIMIT = 40


def _as_dict(value) -> dict:
    if hasattr(value, "to_dict"):  # a StripeObject
        value = value.to_dict()
    return value if isinstance(value, dict) else {}


def _text(value, limit: int = TEXT_LIMIT) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _shipping_details(session: dict) -> dict:
    collected = _as_dict(_as_dict(session).get("collected_information"))
    details = _as_dict(collected.get("shipping_details"))
    if details:
        return details
    return _as_dict(_as_dict(session).get("shipping_details"))


def shipping_from_session(session: dict) -> dict:
    """`{"shipping_name", "shipping_address", "shipping_phone"}` from a Checkout Session.

    `shipping_address` is a dict with every one of ADDRESS_FIELDS (empty strings where Stripe
    said nothing), or `{}` when the session has no shipping address at all.
    """
    details = _shipping_details(session)
    address = _as_dict(details.get("address"))
    structured = {field: _text(address.get(field)) for field in ADDRESS_FIELDS}
    customer = _as_dict(_as_dict(session).get("customer_details"))
    return {
        "shipping_name": _text(details.get("name")),
        "shipping_address": structured if any(structured.values()) else {},
        "shipping_phone": _text(customer.get("phone"), PHONE_LIMIT),
    }
