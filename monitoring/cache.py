"""The shared cache (`CACHE_URL`): local memory by default, Redis across a fleet.

`ResilientRedisCache` is Django's own `RedisCache` with one difference: when Redis cannot be
reached, every call answers as a cache miss (or a no-op write) instead of raising, and Redis is
left alone for `CACHE_RETRY_SECONDS` before the next try. So an outage costs the pages that use
the cache their shortcut (they read the database instead) and never fails checkout or the
webhook. The first failure and the recovery are logged as warnings; `cache_ping` raises, for
the health check.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# Without these an unreachable host (not a closed port) would hang each request for the
# operating system's connect timeout.
DEFAULT_SOCKET_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}


# django-environ lower-cases every query parameter of a redis:// URL (for the client's
# options), the base options too, which Django would then ignore: `?key_prefix=shop`.
BASE_OPTIONS = ("TIMEOUT", "KEY_PREFIX", "VERSION", "KEY_FUNCTION")


def cache_settings(config: dict) -> dict:
    """`CACHES["default"]` from `env.cache_url(...)`: Redis made resilient, others as given."""
    config = dict(config)
    for name in BASE_OPTIONS:
        if name.lower() in config:
            config[name] = config.pop(name.lower())
    if config.get("BACKEND") == "django.core.cache.backends.redis.RedisCache":
        config["BACKEND"] = "monitoring.cache.ResilientRedisCache"
        config["OPTIONS"] = {**DEFAULT_SOCKET_OPTIONS, **config.get("OPTIONS", {})}
    return config


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._down_until = 0.0
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ the outage guard

    def _call(self, operation: str, fallback, method, *args, **kwargs):
        if time.monotonic() < self._down_until:
            return fallback
        try:
            result = method(*args, **kwargs)
        except RedisError as exc:
            self._mark_down(operation, exc)
            return fallback
        if self._down_until:
            with self._lock:
                if self._down_until:
                    self._down_until = 0.0
                    logger.warning("Cache (Redis) answers again; using it.")
        return result

    def _mark_down(self, operation: str, exc: Exception) -> None:
        retry = getattr(settings, "CACHE_RETRY_SECONDS", 5)
        with self._lock:
            first = not self._down_until
            self._down_until = time.monotonic() + retry
        log = logger.warning if first else logger.debug
        log(
            "Cache (Redis) unavailable during %s, serving without it for %ss: %s",
            operation,
            retry,
            exc,
        )

    def ping(self) -> bool:
        """Ask Redis directly (no guard): raises when it does not answer."""
        return self._cache.get_client(write=True).ping()

    # ------------------------------------------------------------------ the cache API

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", False, super().add, key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._call("get", default, super().get, key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", None, super().set, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", False, super().touch, key, timeout, version)

    def delete(self, key, version=None):
        return self._call("delete", False, super().delete, key, version)

    def get_many(self, keys, version=None):
        return self._call("get_many", {}, super().get_many, keys, version)

    def has_key(self, key, version=None):
        return self._call("has_key", False, super().has_key, key, version)

    def incr(self, key, delta=1, version=None):
        # A counter that cannot be read counts nothing: limits built on it stop limiting
        # (logged) rather than refusing every shopper.
        return self._call("incr", delta, super().incr, key, delta, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", list(data), super().set_many, data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", None, super().delete_many, keys, version)

    def clear(self):
        return self._call("clear", False, super().clear)


def cache_ping(cache) -> None:
    """Raise unless `cache` answers a real round trip."""
    if isinstance(cache, ResilientRedisCache):
        cache.ping()
        return
    probe = f"monitoring:ping:{time.monotonic_ns()}"
    cache.set(probe, "1", 10)
    if cache.get(probe) != "1":
        raise RuntimeError("the cache did not keep a value it was just given")
    cache.delete(probe)
