"""`manage.py db_worker`: django-tasks-db's worker, woken by PostgreSQL when work arrives.

The library's worker sleeps `--interval` seconds (default 1) whenever the queue is empty, so a
task queued just after it looked waits up to a second, at every step of an order's walk. Here
the idle worker LISTENs on a connection of its own and a trigger on the task table
(`config/migrations/0003_task_wakeup.py`) NOTIFYs when a transaction that queued work commits:
the worker looks again at once, and still every `--interval` seconds (a task whose `run_after`
has come wakes nobody). Claiming, running and recording tasks are the library's, unchanged;
every option is the library's. On another database, and with `--batch`, it is the library's
worker as it is.
"""

from __future__ import annotations

import logging

from django.db import connection, connections
from django_tasks_db.management.commands import db_worker

logger = logging.getLogger("django_tasks_db")
CHANNEL = "django_tasks"


class WakeableWorker(db_worker.Worker):
    """Sleeps until a NOTIFY (or `interval` seconds) instead of `interval` seconds."""

    def run(self) -> None:
        self._listener = connections.create_connection("default")
        try:
            self._listener.ensure_connection()
            self._listener.set_autocommit(True)
            self._listener.connection.execute(f"LISTEN {CHANNEL}")
            super().run()
        finally:
            self._listener.close()

    def wait(self, seconds: float) -> None:
        """Until work is announced or `seconds` pass; then every announcement so far is
        read, since one look at the queue answers them all."""
        raw = self._listener.connection
        for _ in raw.notifies(timeout=seconds, stop_after=1):
            pass
        for _ in raw.notifies(timeout=0):
            pass


class _Clock:
    """The library's worker calls `time.sleep(interval)` when idle and `time.…` nowhere
    else in its loop; this stands in for its `time` module while a WakeableWorker runs."""

    def __init__(self, worker: WakeableWorker, real):
        self._worker, self._real = worker, real

    def sleep(self, seconds: float) -> None:
        self._worker.wait(seconds)

    def __getattr__(self, name):
        return getattr(self._real, name)


class Command(db_worker.Command):
    help = db_worker.Command.help

    def handle(self, *args, batch: bool, **options) -> None:
        if batch or connection.vendor != "postgresql":
            return super().handle(*args, batch=batch, **options)
        original = db_worker.Worker
        db_worker.Worker = _WorkerWithClock
        try:
            return super().handle(*args, batch=batch, **options)
        finally:
            db_worker.Worker = original


class _WorkerWithClock(WakeableWorker):
    def run(self) -> None:
        real = db_worker.time
        db_worker.time = _Clock(self, real)
        try:
            super().run()
        finally:
            db_worker.time = real
