"""The feed import into the catalog: bulk upserts of feed stones, and a whole feed import.

Availability rule for imports, the availability table's `import` and `delist` moves
(`catalog/availability.py`): `reserved` and `sold` belong to the store (an open checkout, a
paid order, a placed supplier order) and an import never overwrites them; every other value
(`available`, `on_hold`, `unavailable`) follows the feed. The rest of a stone's data
(offer id, grading, prices, image) always follows the feed. A reserved stone the supplier
has since sold is caught by checkout's live availability check and by the feed order.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from decimal import ROUND_HALF_UP, Decimal
from itertools import islice
from operator import attrgetter
from queue import Full, Queue

from django.db import connection, transaction
from django.utils import timezone

from catalog.availability import MOVES, STORE_OWNED
from catalog.models import Availability, Diamond
from catalog.selectors import diamond_filter_values_forget
from catalog.services import diamond_move
from feeds.base import FeedError, Stone
from feeds.registry import get_adapter

logger = logging.getLogger(__name__)


# The stone's columns in the order rows are built: the key's `supplier_stone_id`, then the
# data that is compared and written. (`feed` is the rest of the key; `id`, `created_at`
# and `updated_at` are the store's.)
DATA_FIELDS = tuple(f.name for f in fields(Stone) if f.name != "supplier_stone_id")
STONE_COLUMNS = ("supplier_stone_id", *DATA_FIELDS)
_DECIMAL_FIELDS = {
    "carats",
    "price_nzd",
    "price_model_nzd",
    "length_mm",
    "width_mm",
    "depth_mm",
    "depth_percent",
    "table_percent",
}
_BOOLEAN_FIELDS = {"lab_grown"}
_VALID_AVAILABILITY = frozenset(Availability.values)


_TEXT_RULES = tuple(
    (index, name, Diamond._meta.get_field(name).max_length)
    for index, name in enumerate(STONE_COLUMNS)
    if name not in _DECIMAL_FIELDS and name not in _BOOLEAN_FIELDS
)
_BOOLEAN_RULES = tuple(
    (index, name) for index, name in enumerate(STONE_COLUMNS) if name in _BOOLEAN_FIELDS
)
_NUMBER_RULES = tuple(
    (
        index,
        name,
        Decimal(1).scaleb(-field.decimal_places),
        Decimal(10) ** (field.max_digits - field.decimal_places),
    )
    for index, name in enumerate(STONE_COLUMNS)
    if name in _DECIMAL_FIELDS
    for field in [Diamond._meta.get_field(name)]
)
_read_stone = attrgetter(*STONE_COLUMNS)
_CARATS = STONE_COLUMNS.index("carats")
_AVAILABILITY = STONE_COLUMNS.index("availability")
_SEP, _NULL = "\x1f", "\x1e"  # ASCII unit and record separators; refused in stone data


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
    skipped_reasons: dict[str, int] = field(default_factory=dict)
    """The feed's reasons for `skipped`, e.g. {"without a certificate": 3}."""
    withdrawn: int | None = None
    """Stones the feed no longer lists, made unavailable (None: not asked for)."""

    @property
    def processed(self) -> int:
        return self.created + self.updated + self.unchanged + self.invalid + self.skipped

    def summary(self) -> str:
        return (
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.skipped + self.invalid} skipped"
            + (f" ({', '.join(self._skip_details())})" if self._skip_details() else "")
            + (f", {self.withdrawn} withdrawn" if self.withdrawn is not None else "")
        )

    def _skip_details(self) -> list[str]:
        details = [f"{count} {reason}" for reason, count in sorted(self.skipped_reasons.items())]
        return details + ([f"{self.invalid} with invalid data"] if self.invalid else [])

    def add_skipped(self, page_skipped: int, reasons: dict[str, int]) -> None:
        self.skipped += page_skipped
        for reason, count in reasons.items():
            self.skipped_reasons[reason] = self.skipped_reasons.get(reason, 0) + count


class FeedImportError(Exception):
    """The feed failed part-way; what was imported before that is kept."""

    def __init__(self, error: FeedError, result: ImportResult):
        super().__init__(str(error))
        self.error = error
        self.result = result


# ---------------------------------------------------------------- validation


def _clean(stone: Stone) -> tuple:
    """The stone's values in `STONE_COLUMNS` order, rounded like the columns; or ValueError."""
    row = list(_read_stone(stone))
    for index, name, max_length in _TEXT_RULES:
        value = row[index]
        if type(value) is not str:
            row[index] = value = "" if value is None else str(value)
        if len(value) > max_length:
            raise ValueError(f"{name} longer than {max_length} characters")
    text = "".join([row[index] for index, _, _ in _TEXT_RULES])
    if _SEP in text or _NULL in text:
        raise ValueError("ASCII separator characters in the text fields")
    for index, name, places, too_large in _NUMBER_RULES:
        value = row[index]
        if value is None:
            continue
        try:
            if type(value) is not Decimal:
                value = Decimal(str(value))
            row[index] = value = value.quantize(places, ROUND_HALF_UP)
        except ArithmeticError:
            raise ValueError(f"{name} is not a number: {value!r}") from None
        if not value.is_finite() or value < 0 or value >= too_large:
            raise ValueError(f"{name} out of range: {value}")
    if not row[0]:
        raise ValueError("no supplier_stone_id")
    if row[_CARATS] is None or row[_CARATS] <= 0:
        raise ValueError(f"carats must be positive, got {row[_CARATS]}")
    for index, name in _BOOLEAN_RULES:
        if type(row[index]) is not bool:
            raise ValueError(f"{name} must be true or false, got {row[index]!r}")
    if row[_AVAILABILITY] not in _VALID_AVAILABILITY:
        raise ValueError(f"unknown availability {row[_AVAILABILITY]!r}")
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
    owned = ", ".join(f"'{value}'" for value in sorted(STORE_OWNED))
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


def _write_postgresql(*, feed: str, rows: list[tuple], now) -> tuple[int, int]:
    """One statement for the batch, whatever its size: each column travels as one string
    (values joined by a separator, ending with a NULL marker so that no string is ever
    empty) that PostgreSQL splits into an array; `unnest` turns the arrays into rows.

    Returns (created, written); `xmax = 0` marks the rows the statement inserted.
    """
    arrays = ", ".join(
        r"string_to_array(%s, E'\x1f', E'\x1e')"
        + ("::numeric[]" if name in _DECIMAL_FIELDS else "")
        + ("::boolean[]" if name in _BOOLEAN_FIELDS else "")
        for name in STONE_COLUMNS
    )
    aliases = ", ".join(f"u_{name}" for name in STONE_COLUMNS)
    selected = ", ".join(
        [
            "gen_random_uuid()",
            "%s",
            *(f"u_{name}" for name in STONE_COLUMNS),
            "%s::timestamptz",
            "%s::timestamptz",
        ]
    )
    # A stone stored exactly as the feed has it is left out before the upsert: ON CONFLICT
    # DO UPDATE locks the row it finds even when its WHERE then writes nothing, and a lock
    # is a write to the table's page (and to the WAL), so an unchanged re-import would
    # otherwise write every page of the catalog. `OFFSET 0` keeps the test a lookup of the
    # unique index per stone: as a join, a table not yet analysed (a first import) can be
    # planned as a hash of the whole table for every batch.
    table = connection.ops.quote_name(Diamond._meta.db_table)
    owned = ", ".join(f"'{value}'" for value in sorted(STORE_OWNED))
    availability = _column("availability")
    same = " AND ".join(
        f"(s.{availability} = u_availability OR s.{availability} IN ({owned}))"
        if name == "availability"
        else f"s.{_column(name)} IS NOT DISTINCT FROM u_{name}"
        for name in DATA_FIELDS
    )
    upsert = _upsert_sql(
        rows_sql=f"SELECT {selected} FROM unnest({arrays}) AS u({aliases}) "  # noqa: S608
        "WHERE u_supplier_stone_id IS NOT NULL AND NOT EXISTS ("
        f"SELECT FROM {table} AS s WHERE s.{_column('feed')} = %s "
        f"AND s.{_column('supplier_stone_id')} = u_supplier_stone_id AND {same} OFFSET 0)"
    )
    sql = (
        f"WITH written AS ({upsert} RETURNING (xmax = 0) AS inserted) "  # noqa: S608
        "SELECT count(*) FILTER (WHERE inserted), count(*) FROM written"
    )
    columns = []
    for name, values in zip(STONE_COLUMNS, zip(*rows, strict=True), strict=True):
        if name in _DECIMAL_FIELDS:
            values = [_NULL if value is None else str(value) for value in values]
        elif name in _BOOLEAN_FIELDS:
            values = ["t" if value else "f" for value in values]
        columns.append(_SEP.join(values) + _SEP + _NULL)
    # Placeholders in text order: the SELECT list (feed, created_at, updated_at) comes
    # before the column strings in its FROM clause, and the unchanged-stone test's feed last.
    with connection.cursor() as cursor:
        cursor.execute(sql, [feed, now, now, *columns, feed])
        created, written = cursor.fetchone()
    return created, written


def _write_generic(*, feed: str, rows: list[tuple], now) -> tuple[int, int]:
    """Multi-row VALUES statements, as many rows each as the parameter limit allows.

    Returns (created, written): new stones are those not found by a first SELECT.
    """
    existing = 0
    for chunk in _chunks([row[0] for row in rows], connection.features.max_query_params or 999):
        existing += Diamond.objects.filter(feed=feed, supplier_stone_id__in=chunk).count()
    width = 2 + len(STONE_COLUMNS) + 2  # id, feed, the stone, created_at, updated_at
    per_statement = max(1, (connection.features.max_query_params or 999) // width)
    pk = Diamond._meta.pk
    stamp = connection.ops.adapt_datetimefield_value(now)
    written = 0
    with connection.cursor() as cursor:
        for chunk in _chunks(rows, per_statement):
            values = ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * len(chunk))
            params = []
            for row in chunk:
                params.extend((pk.get_db_prep_value(uuid.uuid4(), connection), feed, *row))
                params.extend((stamp, stamp))
            cursor.execute(_upsert_sql(rows_sql=f"VALUES {values}"), params)
            written += cursor.rowcount
    return len(rows) - existing, written


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
    write = _write_postgresql if connection.vendor == "postgresql" else _write_generic
    with transaction.atomic():
        created, written = write(feed=feed, rows=list(rows.values()), now=timezone.now())
    result.created += created
    result.updated += written - created
    result.unchanged += len(rows) - written
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
    try:
        for batch in _chunks(stones, batch_size):
            total.add(_upsert_batch(feed=feed, stones=batch))
    finally:
        if total.created or total.updated:
            diamond_filter_values_forget()
    return total


# ---------------------------------------------------------------- import


def diamonds_withdraw_missing(*, feed: str, listed: set[str]) -> int:
    """Make the feed's `available` and `on_hold` stones that are not in `listed` (the stone
    ids a complete import saw) `unavailable`. Reserved and sold stones are left alone."""
    offered = MOVES["delist"].source
    missing = [
        pk
        for pk, stone_id in Diamond.objects.filter(feed=feed, availability__in=offered)
        .values_list("pk", "supplier_stone_id")
        .iterator(chunk_size=10_000)
        if stone_id not in listed
    ]
    now = timezone.now()
    withdrawn = sum(
        diamond_move(diamonds=chunk, move="delist", now=now) for chunk in _chunks(missing, 500)
    )
    if withdrawn:
        diamond_filter_values_forget()
    return withdrawn


def _read_ahead(pages: Iterator, *, depth: int = 2) -> Iterator:
    """`pages`, read by a thread up to `depth` pages ahead: the feed fetches (and builds)
    the next page while the database writes this one, instead of each waiting for the other.

    The reading thread never touches the database. Whatever it raises is raised here, after
    the pages it read before. Closing this iterator (the caller is done, or failed) stops
    the reading at its next page.
    """
    queue: Queue = Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def offer(item) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def read() -> None:
        try:
            for page in pages:
                if not offer((page, None)):
                    return
        except BaseException as exc:  # handed over, raised in the caller's thread
            offer((None, exc))
            return
        offer((done, None))

    reader = threading.Thread(target=read, name="feed-read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            page, error = queue.get()  # the reader always hands over an end or an error
            if error is not None:
                raise error
            if page is done:
                return
            yield page
    finally:
        stop.set()
        reader.join()


def feed_import(
    *,
    feed: str,
    batch_size: int = 1000,
    limit: int | None = None,
    withdraw_missing: bool = False,
    on_progress: Callable[[ImportResult, int], None] | None = None,
) -> ImportResult:
    """Page through the feed and upsert its stones in batches of `batch_size`.

    With `withdraw_missing`, a complete import (no `limit`, no feed error) then makes the
    feed's stones it did not list unavailable (`diamonds_withdraw_missing`).

    `on_progress(result, total_count)` is called after every batch. Feed calls happen
    outside any transaction, in a thread that reads up to two pages ahead while the batches
    are written (`_read_ahead`); each batch commits on its own. Raises FeedImportError (with
    the counts so far) when the feed fails part-way, FeedError when the feed is unknown.
    """
    if withdraw_missing and limit is not None:
        raise ValueError("withdraw_missing needs a complete import, without a limit")
    adapter = get_adapter(feed)
    page_size = max(1, min(batch_size, adapter.max_page_size))
    result = ImportResult()
    buffer: list[Stone] = []
    listed: set[str] = set()
    total_count = 0

    def flush():
        if withdraw_missing:
            listed.update(stone.supplier_stone_id for stone in buffer)
        result.add(diamonds_upsert(feed=feed, stones=buffer, batch_size=batch_size))
        buffer.clear()
        if on_progress:
            on_progress(result, total_count)

    try:
        for page in _read_ahead(adapter.iter_pages(page_size=page_size, limit=limit)):
            total_count = page.total_count if limit is None else min(page.total_count, limit)
            result.add_skipped(page.skipped, page.skipped_reasons)
            buffer.extend(page.stones)
            if len(buffer) >= batch_size:
                flush()
    except FeedError as exc:
        if buffer:
            flush()
        raise FeedImportError(exc, result) from exc
    if buffer or on_progress:
        flush()
    if withdraw_missing:
        result.withdrawn = diamonds_withdraw_missing(feed=feed, listed=listed)
    return result
