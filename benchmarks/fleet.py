"""The fleet on this machine: 2 gunicorn instances x 2 processes (deploy/gunicorn.conf.py:
4 threads each) sharing one Redis cache and one PostgreSQL, under catalog pages and Stripe
webhooks mixed 10:1 from 32 concurrent clients (split evenly over the instances). Beside it,
in the same run: one instance (2 processes) with the same Redis, one instance with the
local-memory cache, and the no-database baseline (`/bench/noop`) on the fleet.

Redis here is a private `redis-server` the script starts on a free port, so its INFO counters
(filter-choice cache hits and misses, commands per request) are this run's alone. Then, in
process: what one cache read costs through Redis and through local memory, beside the database
work the cached filter choices save.

    .venv/bin/python -m benchmarks.fleet [--stones 5000] [--requests 3300] [--clients 32]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import threading
import time
from contextlib import ExitStack, contextmanager
from decimal import Decimal

from benchmarks import common
from benchmarks.webhook import create_orders, webhook_requests

FLEET_GUNICORN = ["--config", "deploy/gunicorn.conf.py"]
SERVER_ENV = {
    "WEB_CONCURRENCY": "2",
    "GUNICORN_ACCESS_LOG": "/dev/null",
    "PYTHONWARNINGS": "ignore::UserWarning",  # whitenoise: no collectstatic for a benchmark
}
CATALOG_PATHS = [
    "/",
    "/?shape=ROUND",
    "/?shape=OVAL&shape=PEAR&sort=price",
    "/?color_min=D&color_max=G&sort=-carats",
    "/?carat_min=1&carat_max=2&page=2",
    "/?clarity_min=IF&clarity_max=VS2&cut_min=EX",
    "/?price_min=5000&price_max=20000&sort=newest",
    "/?view=list&page=3",
    "/?origin=natural&sort=carats",
    "/?lab=GIA&shape=CUSHION",
]
SHAPES = ["ROUND", "OVAL", "PEAR", "CUSHION", "PRINCESS", "EMERALD", "RADIANT", "MARQUISE"]
COLORS = list("DEFGHIJ")
CLARITIES = ["IF", "VVS1", "VVS2", "VS1", "VS2", "SI1", "SI2"]
CUTS = ["EX", "VG", "G"]


# ---------------------------------------------------------------- the private Redis


@contextmanager
def redis_server():
    port = common.free_port()
    workdir = tempfile.mkdtemp(prefix="bench-redis-")
    process = subprocess.Popen(
        [
            shutil.which("redis-server") or "redis-server",
            "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", workdir,
        ],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    import redis

    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.RedisError:
            time.sleep(0.05)
    try:
        yield port, client
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def redis_counters(client) -> dict[str, int]:
    stats = client.info("stats")
    commands = client.info("commandstats")
    return {
        "hits": stats["keyspace_hits"],
        "misses": stats["keyspace_misses"],
        "commands": sum(v["calls"] for k, v in commands.items() if k != "cmdstat_info"),
    }


# ---------------------------------------------------------------- data


def seed_catalog(count: int):
    from catalog.models import Availability, Diamond

    common.truncate(
        "django_tasks_database_dbtaskresult",
        "payments_webhookevent",
        "orders_orderevent",
        "notifications_notification",
        "orders_order",
        "catalog_diamond",
    )
    Diamond.objects.bulk_create(
        [
            Diamond(
                feed="bench",
                supplier_stone_id=f"CAT-{i:07d}",
                offer_id=f"CAT-OFFER-{i:07d}",
                shape=SHAPES[i % len(SHAPES)],
                carats=Decimal("0.50") + Decimal(i % 300) / 100,
                color=COLORS[i % len(COLORS)],
                clarity=CLARITIES[(i // 7) % len(CLARITIES)],
                cut=CUTS[i % len(CUTS)],
                polish="EX",
                symmetry="VG",
                lab="GIA" if i % 3 else "IGI",
                certificate_number=f"{3300000000 + i}",
                price_nzd=Decimal(2000 + (i * 37) % 40000),
                price_model_nzd=Decimal(2500 + (i * 37) % 50000),
                availability=Availability.AVAILABLE,
            )
            for i in range(count)
        ],
        batch_size=2000,
    )
    common.vacuum_analyze("catalog_diamond")


def mixed_requests(total: int, *, offset: int) -> list[tuple]:
    """10 catalog pages then 1 webhook (each for its own pending order), repeated."""
    webhooks = total // 11
    orders = create_orders(webhooks, offset=offset)
    events = iter(webhook_requests(orders))
    out = []
    for i in range(total):
        if i % 11 == 10:
            out.append(next(events))
        else:
            out.append(("GET", CATALOG_PATHS[i % len(CATALOG_PATHS)], b"", {}))
    return out, orders


# ---------------------------------------------------------------- load over several instances


def run_split(ports: list[int], requests: list[tuple], *, clients: int) -> common.LoadResult:
    """`clients` closed-loop clients spread evenly over `ports`, each port its share of work."""
    shares = [requests[i :: len(ports)] for i in range(len(ports))]
    results: list[common.LoadResult] = [None] * len(ports)
    errors = []

    def one(index):
        try:
            results[index] = common.run_load(
                ports[index], shares[index], concurrency=clients // len(ports)
            )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(ports))]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise errors[0]
    statuses: dict[int, int] = {}
    for result in results:
        for code, count in result.statuses.items():
            statuses[code] = statuses.get(code, 0) + count
    return common.LoadResult(
        clients,
        sum(r.requests for r in results),
        elapsed,
        [x for r in results for x in r.latencies],
        statuses,
        sum(r.client_cpu for r in results),
    )


class ConnectionSampler:
    """The most PostgreSQL connections the benchmark database had open while it ran."""

    def __init__(self):
        from django.db import connection

        self.name = connection.settings_dict["NAME"]
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        import psycopg
        from django.db import connection

        s = connection.settings_dict
        with psycopg.connect(
            dbname="postgres", user=s["USER"], host=s["HOST"], port=s["PORT"] or 5432,
            password=s["PASSWORD"] or None, autocommit=True,
        ) as conn:  # fmt: skip
            while not self._stop.is_set():
                (n,) = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [self.name]
                ).fetchone()
                self.peak = max(self.peak, n - 1)  # not this benchmark's own connection
                time.sleep(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)


def paid_count(orders) -> int:
    from orders.models import Order

    return Order.objects.filter(pk__in=[o.pk for o in orders], status="paid").count()


# ---------------------------------------------------------------- in-process cache costs


def cache_costs(redis_port: int, repeat: int = 3000) -> list[str]:
    from django.core.cache.backends.locmem import LocMemCache

    from catalog import selectors
    from monitoring.cache import ResilientRedisCache, cache_settings

    config = cache_settings(
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{redis_port}/1",
        }
    )
    redis_cache = ResilientRedisCache(config["LOCATION"], config)
    local = LocMemCache("bench", {})
    values = selectors._available_filter_values()
    rows = []
    for name, cache in (("Redis (TCP, localhost)", redis_cache), ("local memory", local)):
        cache.set("filter-values", values, 300)
        times = common.timed(lambda c=cache: c.get("filter-values"), repeat=repeat)
        rows.append(
            f"| cache.get(filter choices), {name} | {common.percentile(times, 50) * 1000:.0f} | "
            f"{common.percentile(times, 99) * 1000:.0f} |"
        )

    def uncached():
        selectors.diamond_filter_values_forget()
        selectors._available_filter_values()

    times = common.timed(uncached, repeat=30)
    rows.append(
        f"| the four DISTINCT scans the cache saves (uncached) | "
        f"{common.percentile(times, 50) * 1000:.0f} | {common.percentile(times, 99) * 1000:.0f} |"
    )
    return rows


# ---------------------------------------------------------------- main


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--stones", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=3300, help="per case (10:1 mix)")
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()

    common.django_setup()
    common.migrate()
    seed_catalog(args.stones)
    print(f"# Fleet benchmark — {args.stones:,} stones, {args.clients} clients\n")
    print(f"Machine: {common.machine_note()}\n")

    rows, notes = [], []
    with redis_server() as (redis_port, redis_client):
        cache_url = f"redis://127.0.0.1:{redis_port}/0"
        cases = [
            ("fleet: 2 instances x 2 processes, Redis", [cache_url, cache_url], True),
            ("one instance x 2 processes, Redis", [cache_url], True),
            ("one instance x 2 processes, local-memory cache", ["locmemcache://"], True),
            ("no-database baseline (/bench/noop), fleet", [cache_url, cache_url], False),
        ]
        offset = 0
        for label, caches, mixed in cases:
            if mixed:
                requests, orders = mixed_requests(args.requests, offset=offset)
                offset += len(orders)
            else:
                requests = [
                    ("POST", "/bench/noop", b"{}", {"Content-Type": "application/json"})
                ] * args.requests
                orders = []
            # Only this case's servers run (and hold database connections) while it is timed.
            with ExitStack() as servers:
                ports = [
                    servers.enter_context(
                        common.gunicorn(
                            extra_env={**SERVER_ENV, "CACHE_URL": cache}, args=FLEET_GUNICORN
                        )
                    )
                    for cache in caches
                ]
                for port in ports:  # warm each instance's processes
                    for path in CATALOG_PATHS * 2:
                        common.request_once(port, "GET", path)
                before = redis_counters(redis_client)
                with ConnectionSampler() as sampler:
                    result = run_split(ports, requests, clients=args.clients)
                after = redis_counters(redis_client)
            rows.append(result.row(label))
            hits = after["hits"] - before["hits"]
            misses = after["misses"] - before["misses"]
            ratio = f"{hits / (hits + misses):.1%}" if hits + misses else "—"
            catalog = sum(1 for r in requests if r[0] == "GET")
            per_request = (after["commands"] - before["commands"]) / max(result.requests, 1)
            webhooks_ok = f"{paid_count(orders)}/{len(orders)} paid" if orders else "—"
            notes.append(
                f"| {label} | {ratio} ({hits} hits, {misses} misses, {catalog} pages) | "
                f"{per_request:.2f} | {sampler.peak} | {webhooks_ok} |"
            )

    print(common.ROW_HEADER)
    print("\n".join(rows))
    print(
        "\n| case | filter-choice cache hit ratio | Redis commands per request | "
        "peak PostgreSQL connections | webhooks applied |\n|---|---|---:|---:|---|"
    )
    print("\n".join(notes))

    with redis_server() as (port, _client):
        print("\n| in process | p50 µs | p99 µs |\n|---|---:|---:|")
        print("\n".join(cache_costs(port)))


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", common.SETTINGS)
    main()
