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

import contextlib
import logging
import time

import psycopg
from django.db import DatabaseError, connection, connections
from django_tasks_db.management.commands import db_worker

logger = logging.getLogger("django_tasks_db")
CHANNEL = "django_tasks"


class WakeableWorker(db_worker.Worker):
    """Sleeps until a NOTIFY (or `interval` seconds) instead of `interval` seconds."""

    def run(self) -> None:
        self._listener = None
        with contextlib.suppress(DatabaseError, psycopg.Error):
            self._listen()  # before the first look at the queue: no NOTIFY falls between
        try:
            super().run()
        finally:
            self._unlisten()

    def wait(self, seconds: float) -> None:
        """Until work is announced or `seconds` pass; then every announcement so far is
        read, since one look at the queue answers them all. Without its connection (the
        database restarted) it sleeps, and listens again next time."""
        try:
            raw = self._listen()
            for _ in raw.notifies(timeout=seconds, stop_after=1):
                pass
            for _ in raw.notifies(timeout=0):
                pass
        except (DatabaseError, psycopg.Error):
            logger.warning("The worker's LISTEN connection failed; polling until it is back.")
            self._unlisten()
            time.sleep(seconds)

    def _listen(self):
        if self._listener is None:
            listener = connections.create_connection("default")
            listener.ensure_connection()
            listener.set_autocommit(True)
            listener.connection.execute(f"LISTEN {CHANNEL}")
            self._listener = listener
        return self._listener.connection

    def _unlisten(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(DatabaseError, psycopg.Error):
                self._listener.close()
            self._listener = None


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
