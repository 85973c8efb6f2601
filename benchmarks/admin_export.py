"""The orders list's CSV export at 100,000 orders: wall time to stream every row and the
exporting process's peak memory. The export runs in a fresh process (Django's test client,
a logged-in superuser) so its peak resident set is the export's, not the data loader's.

    .venv/bin/python -m benchmarks.admin_export [--orders 100000]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time

from benchmarks import common


def export_once(query: str) -> None:
    """In the child process: GET the export, consume the stream, print the figures."""
    common.django_setup()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    staff = get_user_model().objects.get(username="bench-admin")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(staff)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    response = client.get(
        reverse("admin:orders_order_export") + query, HTTP_X_FORWARDED_PROTO="https"
    )
    size = lines = 0  # bytes and lines of CSV
    first_byte = None
    for chunk in response.streaming_content:
        if first_byte is None:
            first_byte = time.perf_counter() - started
        size += len(chunk)
        lines += chunk.count(b"\n")
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"{lines - 1} {elapsed:.2f} {first_byte:.3f} {size / 1e6:.1f} "
        f"{baseline / 1024:.0f} {peak / 1024:.0f}"
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--child", default=None)
    args = parser.parse_args()
    if args.child is not None:
        export_once(args.child)
        return

    common.django_setup()
    common.migrate()
    import random

    from django.contrib.auth import get_user_model

    from benchmarks.admin_orders import DIAMONDS, grow_to
    from benchmarks.feed import stone_row
    from catalog.models import Availability, Diamond
    from orders.models import Order

    if Order.objects.count() != args.orders:
        common.truncate(
            "orders_orderevent", "notifications_notification", "orders_order", "catalog_diamond"
        )
        User = get_user_model()
        User.objects.filter(username__in=["bench-admin", "bench-admin-shopper"]).delete()
        User.objects.create_superuser("bench-admin", "admin@example.com", None)
        shopper = User.objects.create_user("bench-admin-shopper", "shopper@example.com", None)
        diamonds = Diamond.objects.bulk_create(
            [
                Diamond(feed="bench", **{**stone_row(i), "availability": Availability.SOLD})
                for i in range(DIAMONDS)
            ]
        )
        grow_to(args.orders, user=shopper, diamonds=diamonds, rng=random.Random(7))
        common.vacuum_analyze("orders_order")

    print(f"# admin CSV export benchmark; {common.machine_note()}\n")
    print("| export | rows | seconds | first byte s | MB of CSV | RSS before MB | peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, query in [("every order", ""), ("filter: confirmed", "?status__exact=confirmed")]:
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.admin_export", "--child", query],
            cwd=common.ROOT,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": common.SETTINGS},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        rows, seconds, first, megabytes, before, peak = out[-6:]
        print(
            f"| {label} | {int(rows):,} | {seconds} | {first} | {megabytes} | {before} | {peak} |",
            flush=True,
        )
    print(f"\n(after the run: {common.machine_note()})")


if __name__ == "__main__":
    main()
