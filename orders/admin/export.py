"""The orders list as CSV, streamed: one row at a time from a database cursor."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from django.utils import timezone

# Each column: its name in the CSV's header, and what it is read from.
FIELDS = (
    ("order_number", "order_number"),
    ("created_at", "created_at"),
    ("customer_email", "user__email"),
    ("feed", "feed"),
    ("stone_id", "diamond__supplier_stone_id"),
    ("diamond", "diamond__shape"),
    ("diamond", "diamond__carats"),  # one column: "ROUND 1.01ct"
    ("amount", "amount_cents"),
    ("currency", "currency"),
    ("amount_refunded", "amount_refunded_cents"),
    ("status", "status"),
    ("payment_status", "payment_status"),
    ("feed_order_status", "feed_order_status"),
    ("feed_order_id", "feed_order_id"),
    ("paid_at", "paid_at"),
    ("confirmed_at", "confirmed_at"),
    ("fulfilment_status", "fulfilment_status"),
    ("carrier", "carrier"),
    ("tracking_number", "tracking_number"),
    ("shipped_at", "shipped_at"),
    ("delivered_at", "delivered_at"),
    ("returned_at", "returned_at"),
    ("needs_attention", "attention_first"),
    ("resolved_at", "resolved_at"),
)
HEADER = tuple(dict.fromkeys(name for name, _ in FIELDS))
COLUMNS = tuple(column for _, column in FIELDS)
CHUNK = 2000  # rows per database fetch (a server-side cursor on PostgreSQL)
LINES_PER_WRITE = 500  # CSV lines joined into one piece of the response
# A cell a spreadsheet would run as a formula (CSV injection) gets a leading quote.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Line:
    """A file-like that hands back what csv.writer writes (one line at a time)."""

    def write(self, value):
        return value


def _text(value) -> str:
    if not value:
        return ""
    return "'" + value if value.startswith(FORMULA_START) else value


def order_csv_rows(queryset) -> Iterator[str]:
    """The CSV's lines for `queryset` (the list's own filtered queryset), newest first."""
    tz = timezone.get_current_timezone()

    def when(value):
        return "" if value is None else value.astimezone(tz).isoformat(timespec="seconds")

    writer = csv.writer(_Line())
    yield writer.writerow(HEADER)
    rows: Iterable = (
        queryset.order_by("-created_at", "-pk").values_list(*COLUMNS).iterator(chunk_size=CHUNK)
    )
    lines = []
    for (
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
        fulfilment,
        carrier,
        tracking,
        shipped,
        delivered,
        returned,
        attention,
        resolved,
    ) in rows:
        lines.append(
            writer.writerow(
                (
                    number or "",
                    when(created),
                    _text(email),
                    feed,
                    _text(stone),
                    f"{shape} {carats}ct",
                    f"{amount / 100:.2f}",
                    currency.upper(),
                    f"{(refunded or 0) / 100:.2f}",
                    status,
                    payment,
                    feed_status,
                    _text(feed_order_id),
                    when(paid),
                    when(confirmed),
                    fulfilment,
                    carrier,
                    _text(tracking),
                    when(shipped),
                    when(delivered),
                    when(returned),
                    "yes" if attention else "no",
                    when(resolved),
                )
            )
        )
        if len(lines) >= LINES_PER_WRITE:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)
