"""Sign-up: a full name, an email and a password; the answer never says whether the address
has an account. Every valid sign-up answers "check your inbox", and the mail — read back
from a real SMTP server (tests/smtp.py), delivered by the outbox — says what happened: a link
that opens a new account (then logs it in and welcomes it), or, to the owner of an address
that has an account, how to log in or reset the password."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.test import Client

from accounts.emails import SIGNUP_CONFIRM, SIGNUP_EXISTING
from accounts.services import username_derive
from notifications.models import Category, Notification
from tests.factories import PASSWORD, UserFactory
from tests.smtp import message_html, message_text, subject_of

pytestmark = pytest.mark.django_db

User = get_user_model()
NEW_PASSWORD = "a-long-unusual-passphrase-42"
CONFIRM_LINK = re.compile(r"http://localhost:8000(/accounts/signup/confirm/[^/\s]+/[^/\s]+/\S*)")


@pytest.fixture
def sign_up(client, django_capture_on_commit_callbacks):
    """POST the sign-up form; the outbox's delivery (queued on commit) runs before it returns."""

    def post(browser=None, **overrides):
        data = {
            "full_name": "Aroha Ngata",
            "email": "aroha@example.com",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            **overrides,
        }
        with django_capture_on_commit_callbacks(execute=True):
            return (browser or client).post("/accounts/signup/", data)

    return post


def confirm_link(message) -> str:
    return CONFIRM_LINK.search(message_text(message)).group(1)


# ---------------------------------------------------------------- the form


def test_the_form_asks_for_a_full_name_an_email_and_a_password(client):
    html = client.get("/accounts/signup/").content.decode()

    for name, label in [
        ("full_name", "Full name"),
        ("email", "Email"),
        ("password1", "Password"),
        ("password2", "Password confirmation"),
    ]:
        assert f'<label for="id_{name}">{label}:</label>' in html
    assert 'autocomplete="name"' in html and 'autocomplete="email"' in html
    assert 'name="username"' not in html  # derived from the address (README)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"full_name": ""}, "full_name"),
        ({"full_name": "   "}, "full_name"),
        ({"email": ""}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"password2": "something-else-entirely"}, "password2"),
        ({"password1": "12345678", "password2": "12345678"}, "password2"),
        ({"password1": "aroha@example.com", "password2": "aroha@example.com"}, "password2"),
    ],
)
def test_errors_are_shown_and_nothing_is_created_or_sent(sign_up, smtp_server, overrides, field):
    response = sign_up(**overrides)

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not User.objects.exists()
    assert Notification.objects.count() == 0
    assert smtp_server.messages == []


# ---------------------------------------------------------------- one answer, two mails


def test_a_new_address_gets_a_link_that_opens_logs_in_and_welcomes(client, sign_up, smtp_server):
    response = sign_up()

    assert response.status_code == 302
    assert response["Location"] == "/accounts/signup/done/"
    assert "_auth_user_id" not in client.session
    user = User.objects.get(email="aroha@example.com")
    assert (user.first_name, user.username, user.is_active) == ("Aroha Ngata", "aroha", False)
    assert user.check_password(NEW_PASSWORD)

    (message,) = smtp_server.wait_for(1)
    assert message["To"] == "aroha@example.com"
    assert subject_of(message) == "Confirm your email to open your Diamond Store account"
    assert "Kia ora Aroha Ngata," in message_text(message)
    assert "Confirm and open my account" in message_html(message)

    opened = client.get(confirm_link(message))
    assert opened.status_code == 302
    assert opened["Location"] == "/accounts/welcome/"
    user.refresh_from_db()
    assert user.is_active
    assert client.session["_auth_user_id"] == str(user.pk)
    welcome = client.get(opened["Location"]).content.decode()
    assert "Welcome, Aroha Ngata" in welcome
    assert "Your email address is confirmed and your account is open." in welcome

    assert Client().login(username="aroha@example.com", password=NEW_PASSWORD)


def test_the_link_works_once(client, sign_up, smtp_server):
    sign_up()
    link = confirm_link(smtp_server.wait_for(1)[0])
    assert client.get(link).status_code == 302

    again = Client().get(link)

    assert again.status_code == 400
    assert "This link no longer works" in again.content.decode()
    assert "_auth_user_id" not in again.client.session


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/signup/confirm/MQ/abc-123/",
        "/accounts/signup/confirm/%FF%FE/token/",
        "/accounts/signup/confirm/OTk5OTk5OTk5OTk5OTk5OTk5OTk5/x/",
    ],
)
def test_a_wrong_link_opens_nothing(client, path):
    UserFactory(is_active=False)
    response = client.get(path)
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session


def test_an_address_with_an_account_gets_the_same_answer_and_a_mail_to_its_owner(
    client, sign_up, smtp_server
):
    owner = UserFactory(username="aroha", email="aroha@example.com", first_name="Aroha Ngata")
    new = sign_up(browser=Client(), email="someone-new@example.com")
    smtp_server.wait_for(1)

    taken = sign_up(email="ARoha@Example.com")

    assert (taken.status_code, taken["Location"]) == (new.status_code, new["Location"])
    assert "_auth_user_id" not in client.session
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD) and owner.first_name == "Aroha Ngata"  # unchanged
    assert User.objects.filter(email__iexact="aroha@example.com").count() == 1

    message = smtp_server.wait_for(2)[1]
    assert message["To"] == "aroha@example.com"
    assert subject_of(message) == "You already have a Diamond Store account"
    text = message_text(message)
    assert "Kia ora Aroha Ngata," in text
    assert "Someone (perhaps you) tried to sign up" in text
    assert "your username (aroha)" in text
    assert "http://localhost:8000/accounts/login/" in text
    assert "http://localhost:8000/accounts/password_reset/" in text
    assert "/accounts/signup/confirm/" not in text


def test_the_check_your_inbox_page_is_the_same_whoever_signed_up(client, sign_up):
    UserFactory(email="taken@example.com")
    pages = []
    for email in ["taken@example.com", "free@example.com"]:
        browser = Client()
        response = sign_up(browser=browser, email=email)
        pages.append(browser.get(response["Location"]).content.decode())

    assert pages[0] == pages[1]
    assert "Check your inbox" in pages[0]
    assert "taken@example.com" not in pages[0] and "free@example.com" not in pages[1]


def test_signing_up_again_before_confirming_replaces_the_details_and_the_link(
    client, sign_up, smtp_server
):
    sign_up(full_name="Arhoa Ngata", password1="first-passphrase-1", password2="first-passphrase-1")
    first = confirm_link(smtp_server.wait_for(1)[0])

    sign_up(email="Aroha@example.com")

    user = User.objects.get()
    assert user.first_name == "Aroha Ngata" and user.check_password(NEW_PASSWORD)
    second = confirm_link(smtp_server.wait_for(2)[1])
    assert Client().get(first).status_code == 400  # the first password's link is spent
    assert client.get(second).status_code == 302
    user.refresh_from_db()
    assert user.is_active


def test_at_most_three_mails_of_a_kind_reach_an_address_in_an_hour(sign_up, smtp_server):
    UserFactory(email="owner@example.com")
    for _ in range(5):
        assert sign_up(email="owner@example.com")["Location"] == "/accounts/signup/done/"
        assert sign_up(email="new@example.com")["Location"] == "/accounts/signup/done/"

    subjects = [subject_of(m) for m in smtp_server.wait_for(6)]
    assert subjects.count("You already have a Diamond Store account") == 3
    assert subjects.count("Confirm your email to open your Diamond Store account") == 3
    assert len(smtp_server.messages) == 6
    # The links already sent still open the account: a refused sign-up changed nothing.
    link = CONFIRM_LINK.search(message_text(smtp_server.messages[-1])).group(1)
    assert Client().get(link).status_code == 302


def test_the_limit_is_a_setting(sign_up, smtp_server, settings):
    settings.ACCOUNT_EMAIL_LIMIT = "1/1h"
    sign_up()
    sign_up()
    assert len(smtp_server.wait_for(1)) == 1
    assert Notification.objects.filter(reference=SIGNUP_CONFIRM).count() == 1


def test_the_mails_go_through_the_outbox_and_keep_no_link_once_delivered(sign_up, smtp_server):
    UserFactory(email="owner@example.com")
    sign_up()
    sign_up(email="owner@example.com")
    smtp_server.wait_for(2)

    mails = Notification.objects.order_by("created_at")
    assert [(m.category, m.reference, m.status) for m in mails] == [
        (Category.ACCOUNT_EMAIL, SIGNUP_CONFIRM, Notification.DeliveryStatus.SENT),
        (Category.ACCOUNT_EMAIL, SIGNUP_EXISTING, Notification.DeliveryStatus.SENT),
    ]
    assert all(m.text == "" and m.html == "" for m in mails)


def test_a_mail_outage_loses_no_sign_up(client, sign_up, smtp_server):
    smtp_server.stop()

    response = sign_up()

    assert response["Location"] == "/accounts/signup/done/"
    pending = Notification.objects.get(reference=SIGNUP_CONFIRM)
    assert pending.status == Notification.DeliveryStatus.PENDING
    assert "/accounts/signup/confirm/" in pending.text  # kept until it is delivered


# ---------------------------------------------------------------- next, usernames, races


def test_next_rides_through_the_link_to_the_welcome_page(client, sign_up, smtp_server, diamond):
    target = f"/diamonds/{diamond.pk}/purchase/"
    html = client.get(f"/accounts/signup/?next={target}").content.decode()
    assert f'<input type="hidden" name="next" value="{target}">' in html

    sign_up(next=target)
    opened = client.get(confirm_link(smtp_server.wait_for(1)[0]))

    assert opened["Location"] == f"/accounts/welcome/?next=%2Fdiamonds%2F{diamond.pk}%2Fpurchase%2F"
    welcome = client.get(opened["Location"]).content.decode()
    assert f'<a class="button" href="{target}">Continue where you were</a>' in welcome


def test_an_offsite_next_is_dropped(client, sign_up, smtp_server):
    response = sign_up(next="https://evil.example.com/")
    assert response["Location"] == "/accounts/signup/done/"
    link = confirm_link(smtp_server.wait_for(1)[0])
    assert "evil" not in link
    assert client.get(link)["Location"] == "/accounts/welcome/"


def test_a_logged_in_visitor_is_sent_on(client, shopper):
    client.force_login(shopper)
    assert client.get("/accounts/signup/")["Location"] == "/"
    assert client.get("/accounts/signup/?next=/account/")["Location"] == "/account/"


@pytest.mark.parametrize(
    ("email", "taken", "expected"),
    [
        ("aroha.ngata@example.com", [], "aroha.ngata"),
        ("Aroha.Ngata@example.com", ["aroha.ngata"], "aroha.ngata2"),
        ("aroha@example.com", ["Aroha", "aroha2"], "aroha3"),
        ("o'brien+shop@example.com", [], "obrien+shop"),
        ('"@"@example.com', [], "shopper"),
        ("deleted-7@example.com", [], "shopper-deleted-7"),
        (f"{'x' * 200}@example.com", [], "x" * 140),
    ],
)
def test_usernames_are_derived_from_the_address(email, taken, expected):
    for name in taken:
        UserFactory(username=name)
    assert username_derive(email) == expected


def test_the_database_refuses_a_second_account_with_the_same_email_in_another_case():
    UserFactory(username="first", email="same@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("second", email="SAME@example.com", password=PASSWORD)


def test_accounts_without_an_email_are_not_constrained():
    User.objects.create_user("a", email="", password=PASSWORD)
    User.objects.create_user("b", email="", password=PASSWORD)
    assert User.objects.filter(email="").count() == 2


def test_a_password_like_the_name_is_refused_in_the_store_s_words(sign_up):
    response = sign_up(
        full_name="Kauri Passphrase", password1="kauripassphrase", password2="kauripassphrase"
    )

    assert "The password is too similar to the name." in response.content.decode()
    assert not User.objects.exists()
