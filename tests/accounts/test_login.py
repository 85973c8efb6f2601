"""Logging in with an email address (any case) or a username, through Django's own
ModelBackend (accounts.backends); the shop's form and the admin's."""

import re

import pytest
from django.test import Client

from tests.factories import PASSWORD, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def log_in(client, identifier, password=PASSWORD, **data):
    return client.post(LOGIN, {"username": identifier, "password": password, **data})


def test_the_form_asks_for_an_email_or_username(client):
    html = client.get(LOGIN).content.decode()
    assert '<label for="id_username">Email or username:</label>' in html
    assert 'name="csrfmiddlewaretoken"' in html


@pytest.mark.parametrize(
    "identifier", ["aroha@example.com", "Aroha@Example.COM", "  aroha@example.com ", "aroha"]
)
def test_an_email_in_any_case_or_the_username_logs_in(client, identifier):
    user = UserFactory(username="aroha", email="aroha@example.com")

    response = log_in(client, identifier)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_the_username_is_exact(client):
    UserFactory(username="aroha")
    assert log_in(client, "AROHA").status_code == 200
    assert "_auth_user_id" not in client.session


def test_a_username_that_looks_like_an_email_still_logs_in(client):
    """Django allows `@` in usernames: no account has that email, so it is a username."""
    user = UserFactory(username="bob@home", email="bob@example.com")
    assert log_in(client, "bob@home").status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.parametrize("identifier", ["aroha@example.com", "aroha"])
def test_a_wrong_password_is_a_calm_form_error(client, identifier):
    UserFactory(username="aroha", email="aroha@example.com")

    response = log_in(client, identifier, "not-the-password")

    assert response.status_code == 200
    assert "Please enter a correct email address (or username) and password." in (
        response.content.decode()
    )
    assert "_auth_user_id" not in client.session


def test_an_account_waiting_for_its_confirmation_cannot_log_in(client):
    UserFactory(username="waiting", email="waiting@example.com", is_active=False)
    assert log_in(client, "waiting@example.com").status_code == 200
    assert "_auth_user_id" not in client.session


def test_staff_log_in_to_the_admin_with_their_email_too(client):
    staff = StaffFactory(email="ops@store.example")

    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "OPS@store.example", "password": PASSWORD, "next": "/admin/"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.session["_auth_user_id"] == str(staff.pk)


def test_login_with_next(client, shopper):
    page = client.get("/accounts/login/?next=/account/orders/")
    assert '<input type="hidden" name="next" value="/account/orders/">' in page.content.decode()
    assert 'href="/accounts/signup/?next=/account/orders/"' in page.content.decode()

    response = log_in(client, shopper.email, next="/account/orders/")

    assert response.status_code == 302
    assert response["Location"] == "/account/orders/"


def test_login_without_next_goes_to_the_catalog(client, shopper):
    assert log_in(client, shopper.username)["Location"] == "/"


def test_logout_is_post_only_and_logs_out(client, shopper):
    client.force_login(shopper)

    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("path", ["/account/", "/account/orders/", "/diamonds/{pk}/purchase/"])
def test_pages_that_need_a_shopper_send_visitors_to_login(client, diamond, path):
    path = path.format(pk=diamond.pk)

    response = client.get(path)

    assert response.status_code == 302
    assert re.fullmatch(rf"/accounts/login/\?next={re.escape(path)}", response["Location"])


def test_the_header_names_the_shopper_and_links_their_account(client):
    user = UserFactory(first_name="Aroha Ngata")
    client.force_login(user)

    html = Client().get("/").content.decode()
    assert "Signed in as" not in html  # another visitor

    html = client.get("/").content.decode()
    assert 'Signed in as <a href="/account/" title="Your account">Aroha Ngata</a>' in html
