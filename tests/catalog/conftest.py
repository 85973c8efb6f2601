import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The catalog caches its filter choices; every test starts from the stock it creates."""
    cache.clear()
    yield
    cache.clear()
