"""Failed log-ins are throttled through Django's cache, on the shop's form and the admin's:
after LOGIN_FAILURE_LIMIT failures for one account from one address (or the wider limits per
account and per address) the password is not even checked until the window ends."""

import time

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.throttle import login_account, login_throttled
from tests.factories import PASSWORD, StaffFactory, UserFactory

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
        assert (
            "Please enter a correct email address (or username) and password."
            in response.content.decode()
        )

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


def test_the_limit_is_per_account_whichever_name_it_is_typed_as(client):
    UserFactory(username="alice", email="alice@example.com")
    for name in ["alice", "ALICE@example.com", "alice@example.com", "Alice@Example.COM", "alice"]:
        attempt(client, name, "wrong")
    assert CALM in attempt(client, "alice", PASSWORD).content.decode()
    assert CALM in attempt(client, "alice@example.com", PASSWORD).content.decode()

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
    account = login_account(user.username)
    assert login_throttled(account=account, ip="127.0.0.1") is not None
    cache.clear()
    assert login_throttled(account=account, ip="127.0.0.1") is None


def test_behind_the_stores_own_proxy_each_shopper_is_counted_by_their_address(client):
    """deploy/'s nginx connects from 127.0.0.1 and names the shopper in X-Real-IP."""
    user = UserFactory()
    behind = {"REMOTE_ADDR": "127.0.0.1"}
    for _ in range(5):
        attempt(client, user.username, "wrong", HTTP_X_REAL_IP="203.0.113.9", **behind)
    blocked = attempt(client, user.username, PASSWORD, HTTP_X_REAL_IP="203.0.113.9", **behind)
    assert CALM in blocked.content.decode()
    other = attempt(Client(), user.username, PASSWORD, HTTP_X_REAL_IP="198.51.100.1", **behind)
    assert other.status_code == 302


def test_a_client_cannot_pick_its_own_address_with_a_header(client):
    user = UserFactory()
    for n in range(5):
        attempt(
            client, user.username, "wrong", REMOTE_ADDR="203.0.113.9", HTTP_X_REAL_IP=f"10.0.0.{n}"
        )
    blocked = attempt(client, user.username, PASSWORD, REMOTE_ADDR="203.0.113.9")
    assert CALM in blocked.content.decode()


def test_unknown_names_are_counted_case_insensitively(client):
    for name in ["ghost", "GHOST", "Ghost", "gHoSt", "ghosT"]:
        attempt(client, name, "guess")
    assert login_throttled(account=login_account("ghost"), ip="127.0.0.1") is not None


def test_many_addresses_guessing_one_account_are_slowed(client, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_ACCOUNT = "6/15m"
    user = UserFactory()
    for n in range(6):
        attempt(client, user.email, "wrong", REMOTE_ADDR=f"203.0.113.{n}")
    blocked = attempt(Client(), user.username, PASSWORD, REMOTE_ADDR="198.51.100.7")
    assert CALM in blocked.content.decode()


ADMIN_LOGIN = "/admin/login/?next=/admin/"


def admin_attempt(client, username, password, **extra):
    return client.post(
        ADMIN_LOGIN, {"username": username, "password": password, "next": "/admin/"}, **extra
    )


def test_the_admin_log_in_is_throttled_too(client):
    """40 wrong passwords for a superuser, then the right one: refused, calmly."""
    staff = StaffFactory()
    for _ in range(40):
        assert admin_attempt(client, staff.username, "wrong").status_code == 200

    response = admin_attempt(client, staff.username, PASSWORD)

    assert response.status_code == 200
    assert CALM in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_shop_and_the_admin_share_one_count(client):
    staff = StaffFactory(email="ops@store.example")
    for _ in range(3):
        attempt(client, staff.username, "wrong")
    for _ in range(2):
        admin_attempt(client, "OPS@store.example", "wrong")

    assert CALM in admin_attempt(client, staff.username, PASSWORD).content.decode()
    assert CALM in attempt(client, staff.username, PASSWORD).content.decode()


def test_the_admin_log_in_takes_an_email_and_clears_the_count(client):
    staff = StaffFactory(email="ops@store.example")
    for _ in range(4):
        admin_attempt(client, staff.username, "wrong")
    assert admin_attempt(client, "ops@store.example", PASSWORD).status_code == 302
    for _ in range(4):
        admin_attempt(Client(), staff.username, "wrong")
    assert admin_attempt(Client(), staff.username, PASSWORD).status_code == 302
