"""Shared pieces: Django setup for the benchmark database, a gunicorn server, and a
closed-loop load generator (stdlib threads, one keep-alive connection each)."""

from __future__ import annotations

import http.client
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
SETTINGS = "benchmarks.settings"

# 2 cores: 2 processes (one per core, no GIL contention between them) x 4 threads each, so
# one request's database round-trips overlap with another's Python work.
GUNICORN_ARGS = ["-w", "2", "-k", "gthread", "--threads", "4", "--keep-alive", "30"]


def django_setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def manage(*args, env=None):
    subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS, **(env or {})},
        check=True,
    )


def migrate():
    manage("migrate", "--noinput", "-v", "0")


def truncate(*tables: str):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


def vacuum_analyze(*tables: str):
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {table}")


def machine_note() -> str:
    """Load on this shared machine when the figures were taken (others' jobs run too)."""
    load = os.getloadavg()
    return f"{os.cpu_count()} CPUs, load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(*, extra_env=None, args=GUNICORN_ARGS):
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS, **(extra_env or {})}
    command = [GUNICORN, "config.wsgi", "-b", f"127.0.0.1:{port}", *args, "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _ = request_once(port, "GET", "/healthz")
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


# Production sits behind a TLS-terminating proxy: say so, and keep SECURE_SSL_REDIRECT on.
PROXY_HEADERS = {"X-Forwarded-Proto": "https", "Host": "127.0.0.1"}


def request_once(port, method, path, body=b"", headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers={**PROXY_HEADERS, **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@dataclass
class LoadResult:
    concurrency: int
    requests: int
    elapsed: float
    latencies: list[float] = field(repr=False)
    statuses: dict[int, int]
    client_cpu: float

    @property
    def rate(self) -> float:
        return self.requests / self.elapsed

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return ordered[index] * 1000

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.latencies) * 1000

    def row(self, label: str) -> str:
        return (
            f"| {label} | {self.concurrency} | {self.requests} | {self.rate:,.0f} | "
            f"{self.pct(50):.1f} | {self.pct(95):.1f} | {self.pct(99):.1f} | "
            f"{self.mean_ms:.1f} | {_statuses(self.statuses)} |"
        )


ROW_HEADER = (
    "| case | concurrency | requests | req/s | p50 ms | p95 ms | p99 ms | mean ms | statuses |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---|"
)


def _statuses(statuses: dict[int, int]) -> str:
    return ", ".join(f"{code} x{count}" for code, count in sorted(statuses.items()))


def run_load(port: int, requests: list[tuple], *, concurrency: int) -> LoadResult:
    """Send `requests` [(method, path, body, headers)] with `concurrency` closed-loop clients."""
    lock = threading.Lock()
    position = iter(range(len(requests)))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: list[BaseException] = []
    start_line = threading.Barrier(concurrency + 1)

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[float] = []
        codes: dict[int, int] = {}
        start_line.wait()
        try:
            while True:
                with lock:
                    index = next(position, None)
                if index is None:
                    break
                method, path, body, headers = requests[index]
                began = time.perf_counter()
                conn.request(method, path, body=body, headers={**PROXY_HEADERS, **headers})
                response = conn.getresponse()
                response.read()
                mine.append(time.perf_counter() - began)
                codes[response.status] = codes.get(response.status, 0) + 1
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        except BaseException as exc:  # reported below, never hidden
            errors.append(exc)
        finally:
            conn.close()
            with lock:
                latencies.extend(mine)
                for code, count in codes.items():
                    statuses[code] = statuses.get(code, 0) + count

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    start_line.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    if errors:
        raise RuntimeError(f"{len(errors)} client errors, first: {errors[0]!r}")
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return LoadResult(concurrency, len(latencies), elapsed, latencies, statuses, cpu)


def timed(fn, *, repeat: int) -> list[float]:
    """Wall-clock milliseconds of `repeat` calls."""
    out = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        out.append((time.perf_counter() - began) * 1000)
    return out


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]
