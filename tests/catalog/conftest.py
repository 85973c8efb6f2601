import importlib

import pytest
from django.apps import apps

from catalog.selectors import diamond_filter_values_forget

_content_migration = importlib.import_module("catalog.migrations.0004_content_pages")
_contact_migration = importlib.import_module(
    "catalog.migrations.0006_content_pages_one_contact_address"
)
_return_days_migration = importlib.import_module(
    "catalog.migrations.0009_content_pages_return_days"
)


def seed_content_pages():
    """What migrations catalog.0004, 0006 and 0009 do (get-or-create, so it keeps pages staff
    edited; then the one contact address, the terms' wording and the return window)."""
    _content_migration.seed_pages(apps, None)
    _contact_migration.apply(apps, None)
    _return_days_migration.apply(apps, None)


@pytest.fixture
def content_pages(db):
    """The content pages the migration seeds. A transactional test (the browser tests)
    empties every table when it ends, so tests that need the pages ask for them."""
    seed_content_pages()


@pytest.fixture(autouse=True)
def _fresh_filter_values():
    """The catalog's filter choices are cached (per process): each test starts without."""
    diamond_filter_values_forget()
    yield
    diamond_filter_values_forget()
