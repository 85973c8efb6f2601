"""A fleet on one machine: gunicorn instances and db_worker processes, each a real subprocess
of the store, on the test's PostgreSQL database and a shared Redis, talking to the Stripe,
Slack and Nivoda doubles of this test process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.monitoring.conftest import REDIS_TEST_URL, redis_or_skip
from tests.reliability.test_faults import worker_database_url

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path
    url: str = ""

    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.alive():
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)


@dataclass
class Fleet:
    tmp: Path
    env: dict
    processes: list[Process] = field(default_factory=list)

    def _spawn(self, name: str, args: list[str], **env) -> Process:
        log = self.tmp / f"{name}.log"
        popen = subprocess.Popen(
            args,
            cwd=ROOT,
            env={**self.env, **env},
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    def web(self, name: str, *, workers: int = 2) -> Process:
        """A gunicorn instance with deploy/gunicorn.conf.py, as production runs it."""
        port = free_port()
        process = self._spawn(
            name,
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "--config",
                "deploy/gunicorn.conf.py",
                "config.wsgi",
            ],
            GUNICORN_BIND=f"127.0.0.1:{port}",
            WEB_CONCURRENCY=str(workers),
            GUNICORN_ACCESS_LOG="/dev/null",
        )
        process.url = f"http://127.0.0.1:{port}"
        return process

    def worker(self, name: str) -> Process:
        return self._spawn(
            name,
            [
                sys.executable,
                "manage.py",
                "db_worker",
                "--no-startup-delay",
                "--no-reload",
                "--interval",
                "0.1",
                "--worker-id",
                name,
                "-v",
                "0",
            ],
        )

    def command(self, *args: str) -> str:
        """A one-off manage.py command with the fleet's settings (as a deploy step runs it)."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def wait_ready(self):
        deadline = time.monotonic() + STARTUP_SECONDS
        for process in self.processes:
            if not process.url:
                continue
            while True:
                assert process.alive(), f"{process.name} died:\n{process.output()}"
                try:
                    if requests.get(process.url + "/healthz", timeout=10).status_code == 200:
                        break
                except (requests.ConnectionError, requests.Timeout):
                    pass
                assert time.monotonic() < deadline, f"{process.name} never answered"
                time.sleep(0.1)

    def stop(self):
        for process in self.processes:
            process.stop()


@pytest.fixture
def fleet(postgres_only, tmp_path, stripe_api, slack_api, nivoda_api, settings):
    """The fleet's shared environment; start its processes with `fleet.web` / `fleet.worker`."""
    redis_or_skip()
    prefix = f"fleet-{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": worker_database_url(),
        "CONN_MAX_AGE": "0",
        "CACHE_URL": f"{REDIS_TEST_URL}?key_prefix={prefix}",
        "TASKS_BACKEND": "database",
        "CHECKOUT_CAPTURE": "manual",  # production's default: authorise, then capture
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "STRIPE_API_BASE": settings.STRIPE_API_BASE,
        "STRIPE_SECRET_KEY": settings.STRIPE_SECRET_KEY,
        "STRIPE_WEBHOOK_SECRET": settings.STRIPE_WEBHOOK_SECRET,
        "SLACK_BOT_TOKEN": settings.SLACK_BOT_TOKEN,
        "SLACK_API_BASE_URL": settings.SLACK_API_BASE_URL,
        "NIVODA_ENDPOINT": settings.NIVODA_ENDPOINT,
        "NIVODA_USERNAME": settings.NIVODA_USERNAME,
        "NIVODA_PASSWORD": settings.NIVODA_PASSWORD,
        "NIVODA_DESTINATION_ID": settings.NIVODA_DESTINATION_ID,
        "NIVODA_TIMEOUT_SECONDS": "60",
        "LOG_FORMAT": "json",
    }
    # This process (reconcile_payments, assertions) shares the fleet's cache too.
    settings.CACHES = {
        "default": {
            "BACKEND": "monitoring.cache.ResilientRedisCache",
            "LOCATION": REDIS_TEST_URL,
            "KEY_PREFIX": prefix,
        }
    }
    settings.TASKS_BACKEND = "database"
    settings.CHECKOUT_CAPTURE = "manual"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    group = Fleet(tmp_path, env)
    try:
        yield group
    finally:
        nivoda_api._release.set()  # let a hung supplier call end, so processes can stop
        group.stop()
        client = redis_or_skip()
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
