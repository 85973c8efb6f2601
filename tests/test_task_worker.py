"""`manage.py db_worker` (config's): an idle worker is woken by PostgreSQL's NOTIFY when a
transaction that queued a task commits, instead of finding it at its next poll."""

import os
import subprocess
import sys
import time

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from orders.holds import feed_hold_release
from tests.reliability.test_faults import ROOT, worker_database_url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def wait_until_idle(worker, *, log, timeout=60):
    """Until the worker has started its loop (it says so, then looks at the empty queue at
    once, in milliseconds) and gone to sleep."""
    deadline = time.monotonic() + timeout
    while "Starting worker" not in log.read_text():
        assert worker.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)
    time.sleep(1)


def test_an_idle_worker_polling_hourly_runs_a_task_queued_after_it_went_idle(
    postgres_only, settings, tmp_path
):
    # PostgreSQL only: the wake-up is a trigger that NOTIFYs; elsewhere the worker polls.
    settings.TASKS_BACKEND = "database"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--interval", "3600"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": worker_database_url(),
            "TASKS_BACKEND": "database",
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_idle(worker, log=tmp_path / "worker.log")
        with transaction.atomic():
            feed_hold_release.enqueue(order_id="00000000-0000-0000-0000-000000000000")
        deadline = time.monotonic() + 60  # far below the hour it would otherwise sleep
        while DBTaskResult.objects.filter(status="SUCCESSFUL").count() != 1:
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
            time.sleep(0.1)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()
