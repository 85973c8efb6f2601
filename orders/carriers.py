"""The carriers ops ship with (the `CARRIERS` setting) and an order's tracking link."""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings


def carrier_choices() -> list[tuple[str, str]]:
    return [(code, carrier["name"]) for code, carrier in settings.CARRIERS.items()]


def carrier_name(code: str) -> str:
    carrier = settings.CARRIERS.get(code)
    return carrier["name"] if carrier else code


def tracking_url(*, carrier: str, tracking_number: str) -> str:
    """The carrier's tracking page for the number; empty when either is unknown."""
    template = settings.CARRIERS.get(carrier, {}).get("tracking_url", "")
    if not template or not tracking_number:
        return ""
    return template.format(number=quote(tracking_number, safe=""))


def order_tracking_url(order) -> str:
    return tracking_url(carrier=order.carrier, tracking_number=order.tracking_number)
