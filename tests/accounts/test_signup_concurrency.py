"""Sign-ups racing for one new address, from real threads on PostgreSQL: the unique index on
LOWER(email) lets one insert win; the other tries again and finds the waiting account."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from accounts.emails import SIGNUP_CONFIRM
from notifications.models import Notification

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-unusual-passphrase-42"


def sign_up_together(emails: list[str]) -> list[int]:
    barrier = threading.Barrier(len(emails))
    answers, errors = [None] * len(emails), []

    def work(index, email):
        try:
            client = Client()
            barrier.wait()
            response = client.post(
                "/accounts/signup/",
                {
                    "full_name": f"Racer {index}",
                    "email": email,
                    "password1": PASSWORD,
                    "password2": PASSWORD,
                },
            )
            answers[index] = response.status_code
        except Exception as exc:  # surfaced below, in the test's own thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=pair) for pair in enumerate(emails)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return answers


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
