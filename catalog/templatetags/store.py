"""Storefront display helpers: prices, shape and grade names, shape illustrations, dates."""

import re
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode, urlsplit

from django import template
from django.conf import settings
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe

from core.html import html_datetime

register = template.Library()
# Every `<time datetime="…">`: `{{ order.created_at|html_datetime }}`.
register.filter("html_datetime", html_datetime)

# Written in a content page (a flatpage), replaced by the setting when the page is shown.
CONTACT_EMAIL_TOKEN = "{{ store_contact_email }}"
RETURN_DAYS_TOKEN = "{{ return_days }}"


@register.filter
def content_page(content: str) -> str:
    """A content page's HTML (staff's, already trusted) with `{{ store_contact_email }}` and
    `{{ return_days }}` replaced by `STORE_CONTACT_EMAIL` and `RETURN_DAYS`, so every page
    gives the store's one address and the return window the store keeps."""
    filled = (
        str(content)
        .replace(CONTACT_EMAIL_TOKEN, escape(settings.STORE_CONTACT_EMAIL))
        .replace(RETURN_DAYS_TOKEN, str(int(settings.RETURN_DAYS)))
    )
    return mark_safe(filled)  # noqa: S308 - staff-written page; only the settings are added


@register.simple_tag
def return_days() -> int:
    """How many days after delivery a return may be asked for (`RETURN_DAYS`)."""
    return int(settings.RETURN_DAYS)


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


@register.filter
def price(value) -> str:
    """A retail price: `12345` → `$12,345 NZD` (whole dollars show no cents; an amount with
    cents, from an older price model, shows them); "Price on request" when missing."""
    amount = _decimal(value)
    if amount is None:
        return "Price on request"
    if amount == amount.to_integral_value():
        return f"${amount:,.0f} NZD"
    return f"${amount:,.2f} NZD"


@register.filter
def dollars(value) -> str:
    """`12345` → `$12,345` (no currency code; cents only when there are some)."""
    return price(value).removesuffix(" NZD") if _decimal(value) is not None else ""


@register.filter
def measure(value, unit: str = "") -> str:
    """`Decimal("6.40")` → `6.40` + unit; a dash when missing."""
    amount = _decimal(value)
    if amount is None:
        return "\N{EN DASH}"
    return f"{amount.normalize():f}{unit}" if unit == "%" else f"{amount:.2f}{unit}"


@register.filter
def contains(values, item) -> bool:
    """`{% if compare_ids|contains:diamond.pk %}`: membership by string value."""
    return str(item) in {str(v) for v in values or ()}


@register.simple_tag
def shape_icon(shape: str) -> str:
    """The static URL of the shape's outline drawing (the shape filter's icons)."""
    return static(shape_illustration_path(shape))


@register.simple_tag
def detail_url(diamond, back_query: str = "") -> str:
    """The stone's page; `back_query` (the catalog's query) lets it link back to the results."""
    url = diamond.get_absolute_url()
    return f"{url}?{urlencode({'back': back_query})}" if back_query else url


VIDEO_FILE_SUFFIXES = (".mp4", ".webm", ".mov", ".m4v")


@register.filter
def is_video_file(url) -> bool:
    """True for a URL of a video file the page can play itself (else it is a viewer page)."""
    path = urlsplit(str(url or "")).path.lower()
    return path.endswith(VIDEO_FILE_SUFFIXES)


@register.filter
def host(url) -> str:
    """`https://www.gia.edu/report-check?…` → `gia.edu`."""
    name = urlsplit(str(url or "")).hostname or ""
    return name.removeprefix("www.")


@register.filter
def ratio(diamond) -> str:
    """The length-to-width ratio, `1.40`; empty without both measurements."""
    if not diamond.length_mm or not diamond.width_mm:
        return ""
    return f"{diamond.length_mm / diamond.width_mm:.2f}"


@register.filter
def choice_options(bound_field) -> list[dict]:
    """A choice field's options as plain dicts (value, label, id, checked), for templates that
    write the inputs themselves: much cheaper than rendering each option's widget template."""
    value = bound_field.value()
    chosen = {str(v) for v in value} if isinstance(value, (list, tuple)) else {str(value or "")}
    choices = bound_field.field.widget.choices
    return [
        {
            "value": option,
            "label": label,
            "id": f"{bound_field.auto_id}_{index}",
            "checked": str(option) in chosen,
        }
        for index, (option, label) in enumerate(choices)
    ]
