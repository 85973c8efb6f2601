"""The log-in throttle across processes: two gunicorn instances of the store on one
PostgreSQL and one Redis (CACHE_URL), as a fleet runs. Failures counted by one instance stop
the right password on the other — on the shop's form and on the admin's."""

from __future__ import annotations

import os
import re
import uuid

import pytest
import requests
from django.db import connection

from tests.factories import PASSWORD, StaffFactory, UserFactory
from tests.fleet.conftest import Fleet
from tests.monitoring.conftest import REDIS_TEST_URL, redis_or_skip
from tests.reliability.test_faults import worker_database_url

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

CALM = "Too many unsuccessful attempts to log in to this account from here."
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(scope="module")
def two_instances(django_db_setup, tmp_path_factory):
    """Two gunicorn instances (one process each) sharing the test database and a Redis,
    started once for this module's tests."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the instances are separate processes on one database")
    redis = redis_or_skip()
    prefix = f"throttle-{uuid.uuid4().hex[:10]}"
    fleet = Fleet(
        tmp_path_factory.mktemp("instances"),
        {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": worker_database_url(),
            "CONN_MAX_AGE": "0",
            "CACHE_URL": f"{REDIS_TEST_URL}?key_prefix={prefix}",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
        },
    )
    try:
        instances = [fleet.web("a", workers=1), fleet.web("b", workers=1)]
        fleet.wait_ready()
        yield instances
    finally:
        fleet.stop()
        for key in redis.scan_iter(f"{prefix}:*"):
            redis.delete(key)


def log_in(instance, path: str, username: str, password: str, *, address: str) -> requests.Response:
    """One attempt through the form, as a browser behind the store's nginx would make it
    (the proxy names the client in X-Real-IP; 127.0.0.1 is a trusted proxy)."""
    session = requests.Session()
    headers = {"X-Real-IP": address}
    page = session.get(instance.url + path, headers=headers, timeout=30)
    token = TOKEN.search(page.text).group(1)
    return session.post(
        instance.url + path,
        data={
            "csrfmiddlewaretoken": token,
            "username": username,
            "password": password,
            "next": "/admin/",
        },
        headers={**headers, "Referer": instance.url + path},
        allow_redirects=False,
        timeout=30,
    )


@pytest.mark.parametrize(
    ("path", "make_user"),
    [("/accounts/login/", UserFactory), ("/admin/login/", StaffFactory)],
    ids=["shop", "admin"],
)
def test_failures_on_one_instance_stop_the_right_password_on_the_other(
    two_instances, path, make_user
):
    a, b = two_instances
    user = make_user()
    for instance in (a, b, a, b, a):  # LOGIN_FAILURE_LIMIT: 5 per account and address
        wrong = log_in(instance, path, user.username, "wrong", address="203.0.113.9")
        assert wrong.status_code == 200 and CALM not in wrong.text

    for instance in (b, a):
        refused = log_in(instance, path, user.username, PASSWORD, address="203.0.113.9")
        assert refused.status_code == 200
        assert CALM in refused.text

    elsewhere = log_in(b, path, user.email, PASSWORD, address="198.51.100.1")
    assert elsewhere.status_code == 302
