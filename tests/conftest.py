from importlib import import_module

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.factories import DiamondFactory, StaffFactory, UserFactory

pytest_plugins = [
    "tests.doubles.stripe",
    "tests.doubles.slack",
    "tests.doubles.nivoda",
    "tests.smtp",
]


@pytest.fixture
def shopper(db):
    return UserFactory()


@pytest.fixture
def staff(db):
    return StaffFactory()


@pytest.fixture
def diamond(db):
    return DiamondFactory()


@pytest.fixture
def postgres_only():
    """For tests that need PostgreSQL's row locks and real parallel writers."""
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL: parallel writers on row locks, and server-side control of "
            "connections (SQLite serialises every writer on one database lock)"
        )


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (log-in failure counters, cached choices)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def ops_group(db):
    """The Ops group as its migrations make it. A transactional test (the browser tests) empties
    every table when it ends, the group included, so it is made again here by the migrations'
    own functions."""
    if not Group.objects.filter(name="Ops").exists():
        last = ("config", "0004_ops_group_fulfilment")
        apps = MigrationExecutor(connection).loader.project_state(last).apps
        import_module("config.migrations.0001_ops_group").create_group(apps, None)
        import_module("config.migrations.0002_ops_group_money_actions").add(apps, None)
        import_module("config.migrations.0004_ops_group_fulfilment").add(apps, None)
    return Group.objects.get(name="Ops")
