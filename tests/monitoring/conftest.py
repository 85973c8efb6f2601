import os
import shutil
import socket
import subprocess
import time
import uuid

import pytest
import redis

from tests.payments.conftest import demo_diamond, make_diamond, shopper_client  # noqa: F401

REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/3")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def redis_or_skip(url: str = REDIS_TEST_URL) -> redis.Redis:
    """A client for the test Redis. Outside CI a missing Redis skips the test, saying so; in
    CI (CI=true) it fails, so the Redis tests cannot quietly stop running."""
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        message = f"needs Redis at {url} (REDIS_TEST_URL): {exc}"
        if in_ci():
            pytest.fail(f"CI=true but Redis is not there: {message}")
        pytest.skip(message)
    return client


def closed_port() -> int:
    """A local TCP port nothing listens on (connecting to it is refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_cache_config(url: str, **extra) -> dict:
    from monitoring.cache import cache_settings

    return cache_settings(
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url, **extra}
    )


@pytest.fixture
def redis_client():
    return redis_or_skip()


@pytest.fixture
def redis_cache(settings, redis_client):
    """The default cache on the test Redis, under a prefix of this test's own."""
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    settings.CACHES = {"default": redis_cache_config(REDIS_TEST_URL, KEY_PREFIX=prefix)}
    yield prefix
    for key in redis_client.scan_iter(f"{prefix}:*"):
        redis_client.delete(key)


@pytest.fixture
def cache_down(settings):
    """The default cache pointed at Redis on a closed port: every call is refused."""
    settings.CACHES = {"default": redis_cache_config(f"redis://127.0.0.1:{closed_port()}/0")}
    settings.CACHE_RETRY_SECONDS = 0  # try (and fail) on every call: the worst case


class RedisServer:
    """A throwaway redis-server of the test's own, to stop and start at will."""

    def __init__(self, tmp_path):
        self.port = closed_port()
        self.dir = tmp_path
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return self
            except redis.RedisError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def own_redis_server(tmp_path):
    if not shutil.which("redis-server"):
        if in_ci():
            pytest.fail("CI=true but redis-server is not installed")
        pytest.skip("needs the redis-server binary")
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()
