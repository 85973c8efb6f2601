"""The orders list as CSV, streamed: one row at a time from a database cursor."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from django.utils import timezone

HEADER = (
    "order_number",
    "created_at",
    "customer_email",
    "feed",
    "stone_id",
    "diamond",
    "amount",
    "currency",
    "amount_refunded",
    "status",
    "payment_status",
    "feed_order_status",
    "feed_order_id",
    "paid_at",
    "confirmed_at",
    "needs_attention",
    "resolved_at",
)
COLUMNS = (
    "order_number",
    "created_at",
    "user__email",
    "feed",
    "diamond__supplier_stone_id",
    "diamond__shape",
    "diamond__carats",
    "amount_cents",
    "currency",
    "amount_refunded_cents",
    "status",
    "payment_status",
    "feed_order_status",
    "feed_order_id",
    "paid_at",
    "confirmed_at",
    "attention_first",
    "resolved_at",
)
CHUNK = 2000
# A cell a spreadsheet would run as a formula (CSV injection) gets a leading quote.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Line:
    """A file-like that hands back what csv.writer writes (one line at a time)."""

    def write(self, value):
        return value


def _cell(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "tzinfo"):
        return timezone.localtime(value).isoformat(timespec="seconds")
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _row(values) -> list[str]:
    (
        number,
        created,
        email,
        feed,
        stone,
        shape,
        carats,
        amount,
        currency,
        refunded,
        status,
        payment,
        feed_status,
        feed_order_id,
        paid,
        confirmed,
        attention,
        resolved,
    ) = values
    return [
        _cell(number),
        _cell(created),
        _cell(email),
        _cell(feed),
        _cell(stone),
        _cell(f"{shape} {carats}ct"),
        f"{amount / 100:.2f}",
        currency.upper(),
        f"{(refunded or 0) / 100:.2f}",
        status,
        payment,
        feed_status,
        _cell(feed_order_id),
        _cell(paid),
        _cell(confirmed),
        "yes" if attention else "no",
        _cell(resolved),
    ]


def order_csv_rows(queryset) -> Iterator[str]:
    """The CSV's lines for `queryset` (the list's own filtered, ordered queryset)."""
    writer = csv.writer(_Line())
    yield writer.writerow(HEADER)
    rows: Iterable = queryset.values_list(*COLUMNS).iterator(chunk_size=CHUNK)
    for values in rows:
        yield writer.writerow(_row(values))
