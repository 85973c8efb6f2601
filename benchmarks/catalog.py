"""The catalog at scale: `import_feed` against a raw COPY of the same rows, then the
storefront's common filter + sort + page queries (through `catalog.selectors.DiamondResults` and
the catalog view's paginator, exactly as the view runs them: a count capped at 10,001 rows, then
the page) against the same hand-written SQL, and the whole catalog page through the view.
Sizes grow 10k -> 100k -> 1M stones.

    .venv/bin/python -m benchmarks.catalog [--sizes 10000,100000,1000000] [--repeat 20]
        [--imports-only | --queries-only]

`--queries-only` skips the imports and queries the catalog as it is (it must hold the feed's
N stones already, e.g. from an earlier run at that size), so the 1M catalog is built once.
"""

from __future__ import annotations

import argparse
import io
import os
import time
import uuid
from contextlib import redirect_stdout

from benchmarks import common

CASES = [
    # (label, catalog query string, page); the filters are what the catalog form makes of it
    ("default: price ascending, page 1", {}, 1),
    ("shape=ROUND, price ascending", {"shape": "ROUND"}, 1),
    ("origin=lab_grown, price ascending", {"origin": "lab_grown"}, 1),
    ("origin=natural, shapes OVAL+PEAR, largest first",
     {"origin": "natural", "shape": ["OVAL", "PEAR"], "sort": "-carats"}, 1),
    ("1.00-2.00ct, colour D-G, clarity VVS2-VS2, price",
     {"carat_min": "1.00", "carat_max": "2.00", "color_min": "D", "color_max": "G",
      "clarity_min": "VVS2", "clarity_max": "VS2"}, 1),
    ("NZ$5k-20k, largest first", {"price_min": "5000", "price_max": "20000", "sort": "-carats"}, 1),
    ("1.00-1.50ct, dearest first", {"carat_min": "1.00", "carat_max": "1.50", "sort": "-price"}, 1),
    ("lab-grown oval 1-1.5ct G-H VS under NZ$5k",
     {"origin": "lab_grown", "shape": "OVAL", "carat_min": "1.0", "carat_max": "1.5",
      "color_min": "G", "color_max": "H", "clarity_min": "VS1", "clarity_max": "VS2",
      "price_max": "5000"}, 1),
    ("cut EX or better, lab IGI, newest", {"cut_min": "EX", "lab": "IGI", "sort": "newest"}, 1),
    ("newest first, page 1", {"sort": "newest"}, 1),
    ("default sort, page 100", {}, 100),
]  # fmt: skip
PAGE_SIZE = 24
COUNT_CAP = 10_000  # catalog.views.CappedPaginator.cap
SORT_SQL = {
    "price": "price_model_nzd ASC, id ASC",
    "-price": "price_model_nzd DESC, id DESC",
    "carats": "carats ASC, id ASC",
    "-carats": "carats DESC, id DESC",
    "newest": "created_at DESC, id DESC",
}
COLUMNS = (
    "id, feed, supplier_stone_id, offer_id, shape, carats, color, clarity, cut, polish, "
    "symmetry, lab, certificate_number, image_url, price_nzd, price_model_nzd, availability, "
    "lab_grown, video_url, certificate_url, fluorescence, length_mm, width_mm, depth_mm, "
    "depth_percent, table_percent, created_at, updated_at"
)


def where_sql(filters: dict) -> tuple[str, list]:
    clauses = ["availability = 'available'", "price_model_nzd IS NOT NULL"]
    params: list = []
    if filters.get("origin"):
        clauses.append("lab_grown = %s")
        params.append(filters["origin"] == "lab_grown")
    if filters.get("shape"):
        clauses.append("shape = ANY(%s)")
        params.append(list(filters["shape"]))
    for key, sql in (
        ("carat_min", "carats >= %s"),
        ("carat_max", "carats <= %s"),
        ("price_min", "price_model_nzd >= %s"),
        ("price_max", "price_model_nzd <= %s"),
    ):
        if filters.get(key) is not None:
            clauses.append(sql)
            params.append(filters[key])
    for field in ("color", "clarity", "cut"):
        if filters.get(field):
            clauses.append(f"{field} = ANY(%s)")
            params.append(list(filters[field]))
    if filters.get("lab"):
        clauses.append("lab = %s")
        params.append(filters["lab"])
    return " AND ".join(clauses), params


def form_of(query: dict):
    """What the catalog view makes of the query string: (filters, sort)."""
    from django.http import QueryDict

    from catalog.forms import CatalogFilterForm

    data = QueryDict(mutable=True)
    for key, value in query.items():
        data.setlist(key, value if isinstance(value, list) else [value])
    form = CatalogFilterForm(data)
    assert not form.errors, form.errors
    return form.chosen_filters(), form.chosen_sort()


def orm_page(filters, sort, page):
    from catalog.selectors import DiamondResults
    from catalog.views import CappedPaginator

    results = DiamondResults(filters=filters, sort=sort)
    shown = CappedPaginator(results, PAGE_SIZE).get_page(page)
    return list(shown.object_list)


def sql_page(filters, sort, page):
    from django.db import connection

    where, params = where_sql(filters)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM catalog_diamond WHERE {where} "
            f"LIMIT {COUNT_CAP + 1}) AS capped",
            params,
        )
        (count,) = cursor.fetchone()
        count = min(count, COUNT_CAP)
        pages = max(1, -(-count // PAGE_SIZE))
        offset = (min(page, pages) - 1) * PAGE_SIZE
        cursor.execute(
            f"SELECT {COLUMNS} FROM catalog_diamond WHERE {where} "
            f"ORDER BY {SORT_SQL[sort]} LIMIT {PAGE_SIZE} OFFSET {offset}",
            params,
        )
        return cursor.fetchall()


def orm_filter_values():
    from catalog.selectors import diamond_filter_values

    return diamond_filter_values()


def orm_filter_values_uncached():
    from catalog.selectors import diamond_filter_values, diamond_filter_values_forget

    diamond_filter_values_forget()
    return diamond_filter_values()


def sql_filter_values():
    from django.db import connection

    with connection.cursor() as cursor:
        for field in ("shape", "color", "clarity", "cut", "lab"):
            cursor.execute(
                f"SELECT DISTINCT {field} FROM catalog_diamond WHERE availability = 'available'"
            )
            cursor.fetchall()


def view_page(client, query):
    response = client.get("/", query, HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200, response.status_code


def query_string(query, page) -> dict:
    return {**query, "page": page}


def feed_only(n: int) -> float:
    """Seconds just to read the n stones from the synthetic feed (no database at all)."""
    from benchmarks.feed import BenchFeed

    os.environ["BENCH_FEED_STONES"] = str(n)
    began = time.perf_counter()
    for _ in BenchFeed().iter_pages(page_size=BenchFeed.max_page_size):
        pass
    return time.perf_counter() - began


def copy_rows(n: int) -> float:
    """Seconds for PostgreSQL to COPY the same n rows (prepared in memory first, untimed) into
    a clone of catalog_diamond with the same indexes and constraints: the database's own
    ingest speed, with no Python in the way."""
    from django.db import connection
    from django.utils import timezone

    from benchmarks.feed import stone_row

    now = timezone.now().isoformat()
    names = [c.strip() for c in COLUMNS.split(",")]
    buffer = io.StringIO()
    for i in range(n):
        row = stone_row(i)
        row.update(id=uuid.uuid4(), feed="bench", created_at=now, updated_at=now)
        buffer.write("\t".join(str(row[name]) for name in names) + "\n")
    data = buffer.getvalue().encode()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy")
        cursor.execute("CREATE TABLE bench_copy (LIKE catalog_diamond INCLUDING ALL)")
    copy_sql = f"COPY bench_copy ({COLUMNS}) FROM STDIN"
    began = time.perf_counter()
    with connection.connection.cursor() as cursor, cursor.copy(copy_sql) as copy:
        for start in range(0, len(data), 1 << 20):
            copy.write(data[start : start + (1 << 20)])
    elapsed = time.perf_counter() - began
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_copy")
    return elapsed


def run_import(n: int) -> float:
    from django.core.management import call_command

    os.environ["BENCH_FEED_STONES"] = str(n)
    began = time.perf_counter()
    with redirect_stdout(io.StringIO()):
        call_command("import_feed", "bench")
    return time.perf_counter() - began


def stats(fn, repeat) -> tuple[float, float]:
    for _ in range(2):
        fn()
    times = common.timed(fn, repeat=repeat)
    return common.percentile(times, 50), common.percentile(times, 95)


def run_queries(n: int, repeat: int, client, queries: list, pages: list) -> None:
    """Each case's count + page through the ORM and by hand, and its whole page; then the
    filter choices. Rows go to `queries` and `pages` (and are printed as they come)."""
    common.vacuum_analyze("catalog_diamond")
    for label, query, page in CASES:
        filters, sort = form_of(query)
        o50, o95 = stats(lambda: orm_page(filters, sort, page), repeat)  # noqa: B023
        s50, s95 = stats(lambda: sql_page(filters, sort, page), repeat)  # noqa: B023
        queries.append(
            f"| {n:,} | {label} (count + page) | {o50:.1f} | {o95:.1f} | {s50:.1f} "
            f"| {s95:.1f} | {o95 / s95:.2f} |"
        )
        print(queries[-1], flush=True)
        p50, p95 = stats(
            lambda: view_page(client, query_string(query, page)),  # noqa: B023
            max(5, repeat // 2),
        )
        pages.append(f"| {n:,} | {label} | {p50:.1f} | {p95:.1f} |")
        print(pages[-1], flush=True)
    s50, s95 = stats(sql_filter_values, repeat)
    for label, fn in (
        ("filter choices, cache cleared first (5 x DISTINCT)", orm_filter_values_uncached),
        ("filter choices, cached (as the page reads them)", orm_filter_values),
    ):
        o50, o95 = stats(fn, repeat)
        queries.append(
            f"| {n:,} | {label} | {o50:.2f} | {o95:.2f} | {s50:.1f} | {s95:.1f} | {o95 / s95:.2f} |"
        )
        print(queries[-1], flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--imports-only", action="store_true")
    parser.add_argument("--queries-only", action="store_true")
    args = parser.parse_args()

    common.django_setup()
    common.migrate()
    from django.test import Client

    from catalog.models import Diamond

    print(f"# catalog benchmark; {common.machine_note()}\n")
    imports = ["| stones | import_feed (new) | stones/s | re-import (unchanged) | stones/s "
               "| raw COPY, same rows + indexes | stones/s | import / COPY "
               "| reading the feed alone |",
               "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    queries = ["| stones | query | ORM p50 ms | ORM p95 ms | SQL p50 ms | SQL p95 ms "
               "| ORM/SQL p95 |",
               "|---:|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    pages = ["| stones | catalog page (view + template) | p50 ms | p95 ms |",
             "|---:|---|---:|---:|"]  # fmt: skip
    client = Client(HTTP_HOST="127.0.0.1")
    for n in (int(x) for x in args.sizes.split(",")):
        if args.queries_only:
            held = Diamond.objects.filter(feed="bench").count()
            assert held == n, f"--queries-only: the catalog holds {held:,} stones, not {n:,}"
            run_queries(n, args.repeat, client, queries, pages)
            continue
        common.truncate("catalog_diamond")
        fresh = run_import(n)
        again = run_import(n)
        copy = copy_rows(n)
        reading = feed_only(n)
        assert Diamond.objects.filter(feed="bench").count() == n
        imports.append(
            f"| {n:,} | {fresh:.1f} s | {n / fresh:,.0f} | {again:.1f} s | {n / again:,.0f} "
            f"| {copy:.1f} s | {n / copy:,.0f} | {fresh / copy:.1f}x | {reading:.1f} s |"
        )
        print(imports[-1], flush=True)
        if args.imports_only:
            continue
        run_queries(n, args.repeat, client, queries, pages)
    print(f"\n(after the run: {common.machine_note()})\n")
    for table in (imports, queries, pages):
        print("\n".join(table) + "\n")


if __name__ == "__main__":
    main()
