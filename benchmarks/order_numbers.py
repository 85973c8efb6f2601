"""Order-number allocation under concurrency: `orders.services.order_number_allocate` inside
`transaction.atomic()`, from 1, 4 and 16 concurrent database connections (threads, one Django
connection each). Each transaction also inserts the number into a benchmark-only table (primary
key: a duplicate would fail), and one transaction in ten rolls back on purpose, so "no gaps"
means the committed numbers are exactly 1..N even though some allocations were given back.

Baseline, same run: the same transaction taking its number from a PostgreSQL sequence instead
(`nextval`: no row lock, but gaps on rollback, so not usable for order numbers).

    .venv/bin/python -m benchmarks.order_numbers [--per-level 4000] [--levels 1,4,16]
"""

from __future__ import annotations

import argparse
import threading
import time
from datetime import date

from benchmarks import common

TABLE = "bench_order_number"


class Rollback(Exception):
    pass


def run(*, connections: int, total: int, day: date, allocate: bool) -> dict:
    from django.db import connection, transaction

    from orders.services import (
        order_number_allocate,
    )

    counter = iter(range(total))
    lock = threading.Lock()
    rolled_back = [0]
    errors: list[BaseException] = []
    barrier = threading.Barrier(connections + 1)

    def worker():
        try:
            connection.ensure_connection()
            barrier.wait()
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    break
                try:
                    with transaction.atomic():
                        if allocate:
                            number = order_number_allocate(day=day)
                        else:
                            with connection.cursor() as cursor:
                                cursor.execute("SELECT nextval('bench_seq')")
                                number = f"SEQ-{cursor.fetchone()[0]}"
                        with connection.cursor() as cursor:
                            cursor.execute(f"INSERT INTO {TABLE} (number) VALUES (%s)", [number])
                        if i % 10 == 9:
                            raise Rollback
                except Rollback:
                    with lock:
                        rolled_back[0] += 1
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise RuntimeError(f"{len(errors)} errors, first: {errors[0]!r}")
    return {"elapsed": elapsed, "transactions": total, "rolled_back": rolled_back[0]}


def check(day: date) -> tuple[int, int, int]:
    """(committed, duplicates, gaps) among the committed numbers of `day`."""
    from django.db import connection

    prefix = f"DO-{day:%Y%m%d}-"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT number FROM {TABLE} WHERE number LIKE %s", [prefix + "%"])
        values = [int(row[0][len(prefix) :]) for row in cursor.fetchall()]
    duplicates = len(values) - len(set(values))
    gaps = (max(values) - len(set(values))) if values else 0
    return len(values), duplicates, gaps


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-level", type=int, default=4000, help="transactions per level")
    parser.add_argument("--levels", default="1,4,16")
    args = parser.parse_args()

    common.django_setup()
    common.migrate()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
        cursor.execute(f"CREATE TABLE {TABLE} (number text PRIMARY KEY)")
        cursor.execute("DROP SEQUENCE IF EXISTS bench_seq")
        cursor.execute("CREATE SEQUENCE bench_seq")
        cursor.execute("DELETE FROM orders_ordernumbercounter WHERE day >= '2030-01-01'")
    connection.close()

    print("| connections | method | transactions | committed/s | duplicates | gaps |")
    print("|---:|---|---:|---:|---:|---:|")
    for n, level in enumerate(int(x) for x in args.levels.split(",")):
        base = run(connections=level, total=args.per_level, day=date(2030, 1, 1), allocate=False)
        day = date(2030, 1, 2 + n)
        result = run(connections=level, total=args.per_level, day=day, allocate=True)
        committed, duplicates, gaps = check(day)
        expected = result["transactions"] - result["rolled_back"]
        assert committed == expected, (committed, expected)
        for label, r, dup, gap in (
            ("sequence (baseline)", base, "n/a", "(gaps by design)"),
            ("order_number_allocate", result, duplicates, gaps),
        ):
            rate = (r["transactions"] - r["rolled_back"]) / r["elapsed"]
            print(
                f"| {level} | {label} | {r['transactions']} ({r['rolled_back']} rolled back) "
                f"| {rate:,.0f} | {dup} | {gap} |",
                flush=True,
            )
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {TABLE}")
        cursor.execute("DROP SEQUENCE bench_seq")
        cursor.execute("DELETE FROM orders_ordernumbercounter WHERE day >= '2030-01-01'")


if __name__ == "__main__":
    main()
