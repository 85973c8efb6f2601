"""Values in the forms HTML accepts in attributes."""

from datetime import date, datetime

from django.utils import timezone


def html_datetime(value) -> str:
    """A `<time datetime="…">` value: the date, or the local date and time to the second with
    its offset (`2026-12-03T20:51:36+13:00`). HTML allows at most three digits of a fraction
    of a second, so microseconds are left out. Empty for None."""
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return ""
