"""Sign-up asks for an email, required and unique regardless of case — in the form and in
the database (a unique index on LOWER(email))."""

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from accounts.forms import EMAIL_TAKEN
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()
PASSWORD = "a-long-unusual-passphrase-42"


def signup(client, **overrides):
    data = {
        "username": "newshopper",
        "email": "new@example.com",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **overrides,
    }
    return client.post("/accounts/signup/", data)


def test_the_email_is_required(client):
    response = signup(client, email="")
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not User.objects.filter(username="newshopper").exists()


@pytest.mark.parametrize("email", ["taken@example.com", "TAKEN@example.com", "Taken@Example.COM"])
def test_an_email_another_account_uses_is_refused_in_any_case(client, email):
    UserFactory(username="first", email="taken@example.com")

    response = signup(client, email=email)

    assert response.status_code == 200
    assert "An account with this email already exists." in response.content.decode()
    assert "reset your password" in response.content.decode()
    assert not User.objects.filter(username="newshopper").exists()


def test_a_new_email_signs_up(client):
    UserFactory(username="first", email="taken@example.com")
    assert signup(client, email="other@example.com").status_code == 302
    assert User.objects.get(username="newshopper").email == "other@example.com"


def test_the_database_refuses_a_second_account_with_the_same_email_in_another_case():
    UserFactory(username="first", email="same@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("second", email="SAME@example.com", password=PASSWORD)


def test_accounts_without_an_email_are_not_constrained():
    User.objects.create_user("a", email="", password=PASSWORD)
    User.objects.create_user("b", email="", password=PASSWORD)
    assert User.objects.filter(email="").count() == 2


def test_a_race_past_the_form_check_is_a_form_error_not_a_500(client):
    """Another sign-up with the same email commits between this one's form check and its
    insert (a receiver stands in for the concurrent request; its row shares this test's
    transaction, so it is rolled back with the failed insert): the index decides, calmly."""
    from django.db.models.signals import pre_save

    def concurrent_signup(sender, instance, **kwargs):
        if instance.username == "newshopper" and instance.pk is None:
            pre_save.disconnect(concurrent_signup, sender=User)
            User.objects.create_user("racer", email="race@example.com", password=PASSWORD)

    pre_save.connect(concurrent_signup, sender=User)
    try:
        response = signup(client, email="Race@example.com")
    finally:
        pre_save.disconnect(concurrent_signup, sender=User)

    assert response.status_code == 200
    assert EMAIL_TAKEN.split(".")[0] in response.content.decode()
    assert not User.objects.filter(username="newshopper").exists()
