"""Failed log-ins are throttled through Django's cache: after LOGIN_FAILURE_LIMIT failures for
one username from one address the password is not even checked until the window ends."""

import time

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.services import login_throttled, rate_parse
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
CALM = "Too many unsuccessful attempts to log in to this account from here."


def attempt(client, username, password, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def test_five_failures_then_even_the_right_password_waits(client):
    user = UserFactory()
    for _ in range(5):
        response = attempt(client, user.username, "wrong")
        assert response.status_code == 200
        assert "Please enter a correct username and password." in response.content.decode()

    response = attempt(client, user.username, PASSWORD)

    html = response.content.decode()
    assert response.status_code == 200
    assert CALM in html and "wait 15 minutes" in html and "reset your password" in html
    assert "_auth_user_id" not in client.session


def test_four_failures_then_the_right_password_logs_in_and_clears_the_count(client):
    user = UserFactory()
    for _ in range(4):
        attempt(client, user.username, "wrong")
    assert attempt(client, user.username, PASSWORD).status_code == 302

    other = Client()
    for _ in range(4):
        attempt(other, user.username, "wrong")
    assert attempt(other, user.username, PASSWORD).status_code == 302  # count started over


def test_the_limit_is_per_username_case_insensitively(client):
    UserFactory(username="alice")
    for name in ["alice", "ALICE", "Alice", "aLiCe", "alicE"]:
        attempt(client, name, "wrong")
    assert CALM in attempt(client, "alice", PASSWORD).content.decode()

    other = UserFactory(username="bob")
    assert attempt(client, other.username, PASSWORD).status_code == 302


def test_the_limit_is_per_address(client):
    user = UserFactory()
    for _ in range(5):
        attempt(client, user.username, "wrong", REMOTE_ADDR="203.0.113.9")
    assert (
        CALM in attempt(client, user.username, PASSWORD, REMOTE_ADDR="203.0.113.9").content.decode()
    )
    assert attempt(Client(), user.username, PASSWORD, REMOTE_ADDR="198.51.100.1").status_code == 302


def test_one_address_trying_many_usernames_is_slowed(client, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_IP = "10/15m"
    user = UserFactory()
    for n in range(10):
        attempt(client, f"someone{n}", "guess")
    assert CALM in attempt(client, user.username, PASSWORD).content.decode()


def test_the_window_ends(client, settings):
    settings.LOGIN_FAILURE_LIMIT = "2/1s"
    user = UserFactory()
    attempt(client, user.username, "wrong")
    attempt(client, user.username, "wrong")
    assert "please wait a minute" in attempt(client, user.username, PASSWORD).content.decode()
    time.sleep(1.2)  # the window (1 s) runs out
    assert attempt(client, user.username, PASSWORD).status_code == 302


def test_the_counters_live_in_djangos_cache(client):
    """Nothing per-process in the code: the count is in `django.core.cache.cache` (shared by
    every process when CACHE_URL points at Redis)."""
    user = UserFactory()
    for _ in range(5):
        attempt(client, user.username, "wrong")
    assert login_throttled(username=user.username, ip="127.0.0.1") is not None
    cache.clear()
    assert login_throttled(username=user.username, ip="127.0.0.1") is None


@pytest.mark.parametrize(
    ("rate", "count", "seconds"), [("5/15m", 5, 900), ("10/h", 10, 3600), ("3 / 30s", 3, 30)]
)
def test_rates_parse(rate, count, seconds):
    assert (rate_parse(rate).count, rate_parse(rate).seconds) == (count, seconds)


def test_a_bad_rate_is_refused():
    with pytest.raises(ValueError, match="Invalid rate"):
        rate_parse("five a minute")
