"""Storefront display helpers: prices, shape and grade names, shape illustrations."""

import re
from decimal import Decimal, InvalidOperation

from django import template
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse

register = template.Library()

SHAPE_ILLUSTRATIONS = (
    "round",
    "princess",
    "cushion",
    "oval",
    "emerald",
    "pear",
    "marquise",
    "radiant",
    "asscher",
    "heart",
)

GRADE_NAMES = {
    "ID": "Ideal",
    "EX": "Excellent",
    "VG": "Very Good",
    "G": "Good",
    "GD": "Good",
    "F": "Fair",
    "FR": "Fair",
    "P": "Poor",
    "PR": "Poor",
}


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


@register.filter
def money(value) -> str:
    """`12345` → `$12,345.00`; empty for a missing amount."""
    amount = _decimal(value)
    if amount is None:
        return ""
    return f"${amount:,.2f}"


@register.filter
def nzd(value) -> str:
    """`12345` → `$12,345.00 NZD`; "Price on request" for a missing amount."""
    amount = money(value)
    return f"{amount} NZD" if amount else "Price on request"


def shape_label(value: str) -> str:
    """`ROUND` → `Round`, `CUSHION_MODIFIED` → `Cushion Modified`."""
    return " ".join(re.split(r"[\s_-]+", (value or "").strip())).title()


def grade_label(value: str) -> str:
    """`EX` → `Excellent`; grades we do not know are shown as given."""
    return GRADE_NAMES.get((value or "").strip().upper(), value or "")


register.filter("shape_label", shape_label)
register.filter("grade_label", grade_label)


def shape_illustration_path(shape: str) -> str:
    words = re.split(r"[^a-z]+", (shape or "").lower())
    for name in SHAPE_ILLUSTRATIONS:
        if name in words:
            return f"catalog/shapes/{name}.svg"
    return "catalog/shapes/generic.svg"


@register.simple_tag
def shape_illustration(shape: str) -> str:
    """The static URL of the stone shape's drawing (a generic one for unusual shapes)."""
    return static(shape_illustration_path(shape))


@register.filter
def carats(value) -> str:
    """`Decimal("1.5")` → `1.50`, independent of the locale."""
    amount = _decimal(value)
    return "" if amount is None else f"{amount:.2f}"


CHECKOUT_CREATE_PATH = "/checkout/create/"


@register.simple_tag
def checkout_create_url() -> str:
    """Where Purchase posts `diamond_id`: the payments app's checkout view."""
    try:
        return reverse("payments:checkout-create")
    except NoReverseMatch:
        return CHECKOUT_CREATE_PATH
