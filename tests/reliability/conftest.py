import threading
from collections import Counter

import pytest

from catalog.models import Availability
from feeds import base


class RecordingFeed(base.FeedAdapter):
    """A supplier that takes every order and remembers each call, by order reference."""

    name = "recording"
    calls: Counter = Counter()
    lock = threading.Lock()

    def check_availability(self, diamond) -> str:
        return Availability.AVAILABLE

    def create_order(self, diamond, *, reference: str, comments: str = "") -> str:
        with self.lock:
            self.calls[reference] += 1
        return f"REC-{reference}"


@pytest.fixture
def recording_feed(monkeypatch):
    """Registers the `recording` feed for this test only; yields its call counter."""
    monkeypatch.setitem(base._registry, RecordingFeed.name, RecordingFeed)
    RecordingFeed.calls = Counter()
    return RecordingFeed.calls


@pytest.fixture
def database_tasks(settings):
    """Production's task setup: tasks are rows in the same database, run by `db_worker`."""
    settings.TASKS_BACKEND = "database"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def drain_tasks():
    """Run every queued task with the real worker command, then return."""
    from django.core.management import call_command

    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
