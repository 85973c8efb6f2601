import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-unusual-passphrase-42"


def signup_data(**overrides):
    data = {
        "username": "newshopper",
        "email": "new@example.com",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
    }
    data.update(overrides)
    return data


def test_signup_page_has_labelled_fields(client):
    html = client.get("/accounts/signup/").content.decode()

    for name in ("username", "email", "password1", "password2"):
        assert f'<label for="id_{name}">' in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_signup_creates_the_user_logs_in_and_goes_to_the_catalog(client):
    response = client.post("/accounts/signup/", signup_data())

    assert response.status_code == 302
    assert response["Location"] == "/"
    user = get_user_model().objects.get(username="newshopper")
    assert user.email == "new@example.com"
    assert user.check_password(NEW_PASSWORD)
    assert not user.is_staff
    assert client.session["_auth_user_id"] == str(user.pk)
    assert "Signed in as newshopper" in client.get("/").content.decode()


def test_signup_follows_next(client, diamond):
    target = f"/diamonds/{diamond.pk}/purchase/"

    response = client.post(f"/accounts/signup/?next={target}", signup_data())

    assert response["Location"] == target


def test_signup_carries_next_through_the_form(client):
    html = client.get("/accounts/signup/?next=/account/orders/").content.decode()
    assert '<input type="hidden" name="next" value="/account/orders/">' in html

    response = client.post("/accounts/signup/", signup_data(next="/account/orders/"))

    assert response["Location"] == "/account/orders/"


def test_signup_refuses_an_offsite_next(client):
    response = client.post("/accounts/signup/", signup_data(next="https://evil.example.com/"))

    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": ""}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"password2": "something-else-entirely"}, "password2"),
        ({"password1": "12345678", "password2": "12345678"}, "password2"),
    ],
)
def test_signup_errors_are_shown_and_nobody_is_created(client, overrides, field):
    response = client.post("/accounts/signup/", signup_data(**overrides))

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not User.objects.filter(username="newshopper").exists()
    assert "_auth_user_id" not in client.session


def test_signup_refuses_a_taken_username(client):
    UserFactory(username="newshopper")

    response = client.post("/accounts/signup/", signup_data())

    assert response.status_code == 200
    assert "username" in response.context["form"].errors


def test_logged_in_user_visiting_signup_goes_on(client, shopper):
    client.force_login(shopper)

    response = client.get("/accounts/signup/")

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_login_with_next(client, shopper):
    page = client.get("/accounts/login/?next=/account/orders/")
    assert '<input type="hidden" name="next" value="/account/orders/">' in page.content.decode()
    assert 'href="/accounts/signup/?next=/account/orders/"' in page.content.decode()

    response = client.post(
        "/accounts/login/",
        {"username": shopper.username, "password": PASSWORD, "next": "/account/orders/"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/account/orders/"


def test_login_without_next_goes_to_the_catalog(client, shopper):
    response = client.post("/accounts/login/", {"username": shopper.username, "password": PASSWORD})

    assert response["Location"] == "/"


def test_wrong_password_is_a_calm_form_error(client, shopper):
    response = client.post("/accounts/login/", {"username": shopper.username, "password": "x"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_logout_is_post_only_and_logs_out(client, shopper):
    client.force_login(shopper)

    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("path", ["/account/orders/", "/diamonds/{pk}/purchase/"])
def test_pages_that_need_a_shopper_send_visitors_to_login(client, diamond, path):
    path = path.format(pk=diamond.pk)

    response = client.get(path)

    assert response.status_code == 302
    assert re.fullmatch(rf"/accounts/login/\?next={re.escape(path)}", response["Location"])
