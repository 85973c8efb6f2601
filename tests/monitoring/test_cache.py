"""The shared cache: local memory by default, Redis across processes, and an outage that costs
speed, never a checkout or a webhook."""

import logging

import environ
import pytest
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache

from catalog.selectors import FILTER_VALUES_CACHE_KEY, diamond_filter_values
from monitoring.cache import ResilientRedisCache, cache_settings
from orders.models import Order, Status
from tests.doubles.stripe import post_event, stripe_event
from tests.factories import DiamondFactory
from tests.monitoring.conftest import REDIS_TEST_URL, redis_cache_config
from tests.payments.test_webhooks import session_for

pytestmark = pytest.mark.django_db


def test_the_default_cache_is_local_memory_so_make_run_needs_no_redis():
    config = cache_settings(environ.Env.cache_url_config("locmemcache://"))
    assert config["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert isinstance(caches["default"], LocMemCache)


def test_a_redis_url_gets_the_resilient_backend_with_short_socket_timeouts():
    config = cache_settings(environ.Env.cache_url_config("redis://10.0.0.5:6379/2"))
    assert config["BACKEND"] == "monitoring.cache.ResilientRedisCache"
    assert config["LOCATION"] == "redis://10.0.0.5:6379/2"
    assert config["OPTIONS"] == {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    tuned = cache_settings(environ.Env.cache_url_config("redis://10.0.0.5:6379/2?socket_timeout=2"))
    assert tuned["OPTIONS"]["socket_timeout"] == 2


def test_a_key_prefix_and_timeout_in_the_redis_url_are_honoured():
    config = cache_settings(
        environ.Env.cache_url_config("redis://127.0.0.1:6379/0?key_prefix=shop&timeout=60")
    )
    assert (config["KEY_PREFIX"], config["TIMEOUT"]) == ("shop", 60)
    assert "key_prefix" not in config and "timeout" not in config


# ---------------------------------------------------------------- Redis down


def test_with_the_cache_down_the_catalog_still_shows_its_filters(client, cache_down, caplog):
    DiamondFactory(shape="OVAL", color="E")
    assert isinstance(caches["default"], ResilientRedisCache)

    with caplog.at_level(logging.WARNING, logger="monitoring.cache"):
        response = client.get("/")

    assert response.status_code == 200
    assert diamond_filter_values()["shape"] == ["OVAL"]  # read from the stock instead
    assert "Cache (Redis) unavailable" in caplog.text


def test_with_the_cache_down_checkout_and_the_webhook_work(
    cache_down, stripe_api, shopper_client, demo_diamond
):
    response = shopper_client.post("/checkout/create/", {"diamond_id": str(demo_diamond.pk)})
    assert response.status_code == 303
    order = Order.objects.get()

    answer = post_event(
        shopper_client, stripe_event("checkout.session.completed", session_for(order))
    )

    assert answer.status_code == 200
    order.refresh_from_db()
    assert order.status in (Status.PAID, Status.CONFIRMED)


def test_every_cache_call_answers_as_a_miss_when_redis_refuses(cache_down):
    cache = caches["default"]
    assert cache.get("k", "fallback") == "fallback"
    assert cache.set("k", 1) is None
    assert cache.add("k", 1) is False
    assert cache.get_many(["a", "b"]) == {}
    assert cache.set_many({"a": 1}) == ["a"]
    assert cache.delete("k") is False
    assert cache.incr("k") == 1
    assert cache.has_key("k") is False
    assert cache.get_or_set("k", 5) == 5


# ---------------------------------------------------------------- Redis up


@pytest.mark.redis
def test_two_processes_see_one_cache_an_import_clearing_reaches_both(redis_cache):
    """Two cache clients on one Redis, as two web processes have: what one clears, the other
    no longer serves."""
    DiamondFactory(shape="OVAL")
    config = redis_cache_config(REDIS_TEST_URL, KEY_PREFIX=redis_cache)
    other = ResilientRedisCache(config["LOCATION"], config)

    assert diamond_filter_values()["shape"] == ["OVAL"]
    assert other.get(FILTER_VALUES_CACHE_KEY)["shape"] == ["OVAL"]
    other.delete(FILTER_VALUES_CACHE_KEY)
    assert caches["default"].get(FILTER_VALUES_CACHE_KEY) is None


@pytest.mark.redis
def test_a_redis_outage_degrades_and_the_cache_comes_back_by_itself(
    settings, own_redis_server, caplog
):
    settings.CACHES = {"default": redis_cache_config(own_redis_server.url)}
    settings.CACHE_RETRY_SECONDS = 0
    cache = caches["default"]
    cache.set("k", "v")
    assert cache.get("k") == "v"

    own_redis_server.stop()
    with caplog.at_level(logging.WARNING, logger="monitoring.cache"):
        assert cache.get("k", "miss") == "miss"
        assert cache.set("k", "w") is None
    assert caplog.text.count("Cache (Redis) unavailable") == 1  # one warning per outage

    own_redis_server.start()
    with caplog.at_level(logging.WARNING, logger="monitoring.cache"):
        cache.set("k", "again")
        assert cache.get("k") == "again"
    assert "Cache (Redis) answers again" in caplog.text
