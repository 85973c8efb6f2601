"""Sign-ups racing for one new address, from real threads on PostgreSQL: the unique index on
LOWER(email) lets one insert win; the other tries again and finds the waiting account."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from accounts.emails import SIGNUP_CONFIRM
from notifications.models import Notification

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-unusual-passphrase-42"


def sign_up_together(emails: list[str]) -> list[int]:
    """Each sign-up in its own thread (its own client and database connection), released
    at once; the answers' status codes (an exception in a thread is raised here)."""
    start = threading.Barrier(len(emails))

    def sign_up(index: int, email: str) -> int:
        client = Client()
        start.wait()
        try:
            data = {"full_name": f"Racer {index}", "email": email}
            data |= {"password1": PASSWORD, "password2": PASSWORD}
            return client.post("/accounts/signup/", data).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(len(emails)) as pool:
        return list(pool.map(sign_up, range(len(emails)), emails))


def test_sign_ups_racing_for_one_address_leave_one_waiting_account(postgres_only):
    emails = ["race@example.com", "RACE@example.com", "Race@Example.com", "race@EXAMPLE.com"]

    answers = sign_up_together(emails)

    assert answers == [302] * len(emails)  # each answered "check your inbox"
    (user,) = get_user_model().objects.all()
    assert user.email.lower() == "race@example.com" and not user.is_active
    assert user.username == "race"
    # One confirmation mail per sign-up (the limit allows three an hour).
    mails = Notification.objects.filter(reference=SIGNUP_CONFIRM)
    assert mails.count() == 3


def test_sign_ups_racing_for_one_username_get_different_ones(postgres_only):
    answers = sign_up_together(["kiri@one.example", "kiri@two.example", "kiri@three.example"])

    assert answers == [302, 302, 302]
    names = sorted(get_user_model().objects.values_list("username", flat=True))
    assert names == ["kiri", "kiri2", "kiri3"]
