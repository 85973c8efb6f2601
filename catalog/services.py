"""Writing the catalog: bulk upserts of feed stones, and a whole feed import.

Availability rule for imports: `reserved` and `sold` belong to the store (an open checkout,
a paid order, a placed supplier order) and an import never overwrites them; every other
value (`available`, `on_hold`, `unavailable`) follows the feed. The rest of a stone's data
(offer id, grading, prices, image) always follows the feed. A reserved stone the supplier
has since sold is caught by checkout's live availability check and by the feed order.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from itertools import islice

from django.db import connection, transaction
from django.utils import timezone

from catalog.models import Availability, Diamond
from feeds.base import FeedError, Stone, get_adapter

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")
STORE_OWNED_AVAILABILITY = (Availability.RESERVED, Availability.SOLD)

# The stone fields compared and written, in column order (`feed` and `supplier_stone_id`
# are the key; `id`, `created_at`, `updated_at` are the store's).
DATA_FIELDS = tuple(f.name for f in fields(Stone) if f.name != "supplier_stone_id")
_DECIMAL_FIELDS = {"carats": (6, 2), "price_nzd": (12, 2), "price_model_nzd": (12, 2)}
_MAX_LENGTHS = {
    name: Diamond._meta.get_field(name).max_length
    for name in ("supplier_stone_id", *DATA_FIELDS)
    if name not in _DECIMAL_FIELDS
}


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    invalid: int = 0

    def add(self, other: UpsertResult) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.invalid += other.invalid


@dataclass
class ImportResult(UpsertResult):
    skipped: int = 0
    """Records the feed itself could not offer (no certificate, no image, …)."""

    @property
    def processed(self) -> int:
        return self.created + self.updated + self.unchanged + self.invalid + self.skipped

    def summary(self) -> str:
        return (
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.skipped + self.invalid} skipped"
            + (f" ({self.invalid} with invalid data)" if self.invalid else "")
        )


class FeedImportError(Exception):
    """The feed failed part-way; what was imported before that is kept."""

    def __init__(self, error: FeedError, result: ImportResult):
        super().__init__(str(error))
        self.error = error
        self.result = result


# ---------------------------------------------------------------- validation


def _decimal(value, *, max_digits: int, decimal_places: int, positive: bool) -> Decimal | None:
    if value is None:
        if positive:
            raise ValueError("missing")
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal(1).scaleb(-decimal_places), ROUND_HALF_UP)
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None
    if not number.is_finite() or (number <= 0 if positive else number < 0):
        raise ValueError(f"out of range: {value}")
    if number.adjusted() >= max_digits - decimal_places:
        raise ValueError(f"too large: {value}")
    return number


def _clean(stone: Stone) -> tuple:
    """The stone's column values in `("supplier_stone_id", *DATA_FIELDS)` order, or ValueError."""
    if not stone.supplier_stone_id:
        raise ValueError("no supplier_stone_id")
    row = []
    for name in ("supplier_stone_id", *DATA_FIELDS):
        value = getattr(stone, name)
        if name in _DECIMAL_FIELDS:
            digits, places = _DECIMAL_FIELDS[name]
            try:
                value = _decimal(
                    value, max_digits=digits, decimal_places=places, positive=name == "carats"
                )
            except ValueError as exc:
                raise ValueError(f"{name} {exc}") from None
        else:
            value = "" if value is None else str(value)
            if len(value) > _MAX_LENGTHS[name]:
                raise ValueError(f"{name} longer than {_MAX_LENGTHS[name]} characters")
        row.append(value)
    if stone.availability not in Availability.values:
        raise ValueError(f"unknown availability {stone.availability!r}")
    return tuple(row)


# ---------------------------------------------------------------- upsert


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _column(name: str) -> str:
    return connection.ops.quote_name(Diamond._meta.get_field(name).column)


def _upsert_sql(*, rows_sql: str) -> str:
    table = connection.ops.quote_name(Diamond._meta.db_table)
    distinct = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    owned = ", ".join(f"'{value}'" for value in STORE_OWNED_AVAILABILITY)
    availability = _column("availability")
    kept_availability = (
        f"CASE WHEN d.{availability} IN ({owned}) THEN d.{availability} "
        f"ELSE excluded.{availability} END"
    )
    assignments = [
        f"{_column(name)} = "
        + (kept_availability if name == "availability" else f"excluded.{_column(name)}")
        for name in DATA_FIELDS
    ]
    changed = [
        f"d.{_column(name)} {distinct} "
        + (kept_availability if name == "availability" else f"excluded.{_column(name)}")
        for name in DATA_FIELDS
    ]
    columns = ", ".join(
        _column(name)
        for name in ("id", "feed", "supplier_stone_id", *DATA_FIELDS, "created_at", "updated_at")
    )
    updated_at = _column("updated_at")
    return (
        f"INSERT INTO {table} AS d ({columns}) {rows_sql} "
        f"ON CONFLICT ({_column('feed')}, {_column('supplier_stone_id')}) DO UPDATE SET "
        f"{', '.join(assignments)}, {updated_at} = excluded.{updated_at} "
        f"WHERE {' OR '.join(changed)}"
    )


_PG_TYPES = {
    "id": "uuid",
    "carats": "numeric",
    "price_nzd": "numeric",
    "price_model_nzd": "numeric",
}


def _write_postgresql(cursor, *, feed: str, rows: list[tuple], now) -> int:
    """One statement per batch: the rows travel as one array per column (`unnest`)."""
    names = ("supplier_stone_id", *DATA_FIELDS)
    arrays = ", ".join(f"%s::{_PG_TYPES.get(name, 'text')}[]" for name in ("id", *names))
    aliases = ", ".join(["u_id", *(f"u_{name}" for name in names)])
    selected = ", ".join(["u_id", "%s", *(f"u_{name}" for name in names), "%s", "%s"])
    sql = _upsert_sql(rows_sql=f"SELECT {selected} FROM unnest({arrays}) AS u({aliases})")  # noqa: S608
    ids = [uuid.uuid4() for _ in rows]
    columns = [list(column) for column in zip(*rows, strict=True)]
    # Placeholder order: the feed, created_at and updated_at sit in the SELECT list,
    # which comes before the arrays in the FROM clause.
    cursor.execute(sql, [feed, now, now, ids, *columns])
    return cursor.rowcount


def _write_generic(cursor, *, feed: str, rows: list[tuple], now) -> int:
    width = 2 + len(rows[0]) + 2  # id, feed, the stone, created_at, updated_at
    per_statement = max(1, (connection.features.max_query_params or 999) // width)
    pk = Diamond._meta.pk
    stamp = connection.ops.adapt_datetimefield_value(now)
    affected = 0
    for chunk in _chunks(rows, per_statement):
        values = ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * len(chunk))
        params = []
        for row in chunk:
            params.extend((pk.get_db_prep_value(uuid.uuid4(), connection), feed, *row))
            params.extend((stamp, stamp))
        cursor.execute(_upsert_sql(rows_sql=f"VALUES {values}"), params)
        affected += cursor.rowcount
    return affected


def _existing_count(*, feed: str, stone_ids: list[str]) -> int:
    size = connection.features.max_query_params or 10_000
    return sum(
        Diamond.objects.filter(feed=feed, supplier_stone_id__in=chunk).count()
        for chunk in _chunks(stone_ids, size - 1)
    )


def _upsert_batch(*, feed: str, stones: list[Stone]) -> UpsertResult:
    result = UpsertResult()
    rows: dict[str, tuple] = {}
    for stone in stones:
        try:
            row = _clean(stone)
        except ValueError as exc:
            result.invalid += 1
            logger.warning(
                "Skipped %s stone %r: %s", feed, getattr(stone, "supplier_stone_id", ""), exc
            )
            continue
        if row[0] in rows:
            result.unchanged += 1  # the same stone twice in one batch: the last one wins
        rows[row[0]] = row
    if not rows:
        return result
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        existing = _existing_count(feed=feed, stone_ids=list(rows))
        write = _write_postgresql if connection.vendor == "postgresql" else _write_generic
        affected = write(cursor, feed=feed, rows=list(rows.values()), now=now)
    result.created += len(rows) - existing
    result.updated += affected - (len(rows) - existing)
    result.unchanged += len(rows) - affected
    return result


def diamonds_upsert(*, feed: str, stones: Iterable[Stone], batch_size: int = 1000) -> UpsertResult:
    """Insert new stones and update changed ones, keyed by (feed, supplier_stone_id).

    One set-based statement per batch; rows whose data did not change are not written (their
    `updated_at` stays). Store-owned availability is kept (see the module docstring).
    Stones with invalid data are skipped, logged and counted in `invalid`.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    total = UpsertResult()
    for batch in _chunks(stones, batch_size):
        total.add(_upsert_batch(feed=feed, stones=batch))
    return total


# ---------------------------------------------------------------- import


def feed_import(
    *,
    feed: str,
    batch_size: int = 1000,
    limit: int | None = None,
    on_progress: Callable[[ImportResult, int], None] | None = None,
) -> ImportResult:
    """Page through the feed and upsert its stones in batches of `batch_size`.

    `on_progress(result, total_count)` is called after every batch. Feed calls happen
    outside any transaction; each batch commits on its own. Raises FeedImportError (with
    the counts so far) when the feed fails part-way, FeedError when the feed is unknown.
    """
    adapter = get_adapter(feed)
    page_size = max(1, min(batch_size, adapter.max_page_size))
    result = ImportResult()
    buffer: list[Stone] = []
    total_count = 0

    def flush():
        result.add(diamonds_upsert(feed=feed, stones=buffer, batch_size=batch_size))
        buffer.clear()
        if on_progress:
            on_progress(result, total_count)

    try:
        for page in adapter.iter_pages(page_size=page_size, limit=limit):
            total_count = page.total_count if limit is None else min(page.total_count, limit)
            result.skipped += page.skipped
            buffer.extend(page.stones)
            if len(buffer) >= batch_size:
                flush()
    except FeedError as exc:
        if buffer:
            flush()
        raise FeedImportError(exc, result) from exc
    if buffer or on_progress:
        flush()
    return result
