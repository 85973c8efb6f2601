import pytest
from django.db import connection

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
