"""Django's password reset, with the mail sent by the worker through the outbox: read back
from a real SMTP server (aiosmtpd), its link followed, the new password works. The request
does the same work for an address with and without an account, and an address gets at most
three reset mails an hour."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from accounts.emails import PASSWORD_RESET
from notifications.models import Category, Notification
from tests.factories import PASSWORD, UserFactory
from tests.smtp import message_html, message_text, subject_of

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "an-entirely-new-passphrase-77"
LINK = re.compile(r"http://localhost:8000(/accounts/reset/[^/\s]+/[^/\s]+/)")


@pytest.fixture
def request_reset(client, django_capture_on_commit_callbacks):
    def post(email, browser=None):
        with django_capture_on_commit_callbacks(execute=True):
            return (browser or client).post("/accounts/password_reset/", {"email": email})

    return post


def test_the_reset_mail_arrives_its_link_works_and_the_new_password_logs_in(
    client, request_reset, smtp_server, settings
):
    settings.DEFAULT_FROM_EMAIL = "Diamond Store <orders@store.example>"
    user = UserFactory(username="forgetful", email="forgetful@example.com", first_name="Mere Tui")

    response = request_reset("Forgetful@Example.com")  # any case finds the account

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password_reset/done/"
    assert "Check your email" in client.get(response["Location"]).content.decode()
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == "forgetful@example.com"
    assert message["From"] == "Diamond Store <orders@store.example>"
    assert subject_of(message) == "Reset your Diamond Store password"
    text, html = message_text(message), message_html(message)
    assert "Kia ora Mere Tui," in text
    assert "Choose a new password" in html and "Diamond Store" in html
    path = LINK.search(text).group(1)
    assert path in html

    page = client.get(path, follow=True)  # Django swaps the token into the session
    assert "Choose a new password" in page.content.decode()
    set_password_url = page.redirect_chain[-1][0]
    done = client.post(
        set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done["Location"] == "/accounts/reset/done/"
    assert "Your password has been changed" in client.get(done["Location"]).content.decode()

    assert Client().login(username="forgetful@example.com", password=NEW_PASSWORD)
    assert not Client().login(username="forgetful", password=PASSWORD)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)

    again = client.get(path)  # a used link is spent
    assert "This link has expired" in again.content.decode()


def test_the_mail_goes_through_the_outbox_which_keeps_no_link_once_delivered(
    request_reset, smtp_server
):
    UserFactory(email="someone@example.com")
    request_reset("someone@example.com")
    smtp_server.wait_for(1)

    mail = Notification.objects.get()
    assert (mail.category, mail.reference, mail.channel) == (
        Category.ACCOUNT_EMAIL,
        PASSWORD_RESET,
        "someone@example.com",
    )
    assert mail.status == Notification.DeliveryStatus.SENT
    assert (mail.text, mail.html) == ("", "")


def test_an_unknown_email_shows_the_same_page_and_sends_nothing(request_reset, smtp_server):
    UserFactory(email="someone@example.com")
    known = request_reset("someone@example.com", browser=Client())
    smtp_server.wait_for(1)

    unknown = request_reset("nobody@example.com")

    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    assert len(smtp_server.messages) == 1
    assert not Notification.objects.filter(channel="nobody@example.com").exists()


def test_the_request_does_the_same_work_for_a_known_and_an_unknown_address(client, settings):
    """With the production task backend, the web request only looks the address up and
    queues one task either way: nothing is rendered, stored in the outbox or sent."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    UserFactory(email="someone@example.com")
    queries = {}
    for email in ["someone@example.com", "nobody@example.com"]:
        with CaptureQueriesContext(connection) as captured:
            response = client.post("/accounts/password_reset/", {"email": email})
        assert response.status_code == 302
        queries[email] = [re.sub(r"'[^']*'|\d+", "?", q["sql"]) for q in captured]

    assert queries["someone@example.com"] == queries["nobody@example.com"]
    assert Notification.objects.count() == 0  # the worker writes the mail, not the request
    tasks = DBTaskResult.objects.filter(task_path="accounts.tasks.password_reset_mail")
    assert tasks.count() == 2


def test_at_most_three_reset_mails_an_hour_reach_an_address(client, request_reset, smtp_server):
    UserFactory(email="popular@example.com")
    answers = {request_reset("popular@example.com")["Location"] for _ in range(6)}

    assert answers == {"/accounts/password_reset/done/"}
    assert len(smtp_server.wait_for(3)) == 3
    assert Notification.objects.filter(reference=PASSWORD_RESET).count() == 3


def test_an_account_without_a_usable_password_or_not_yet_open_gets_no_mail(
    request_reset, smtp_server
):
    UserFactory(email="waiting@example.com", is_active=False)
    UserFactory(email="nopassword@example.com", password=None)

    request_reset("waiting@example.com")
    request_reset("nopassword@example.com")

    assert smtp_server.messages == []


def test_an_smtp_server_that_is_down_still_answers_calmly_and_keeps_the_mail(
    request_reset, smtp_server
):
    UserFactory(username="unlucky", email="unlucky@example.com")
    smtp_server.stop()

    response = request_reset("unlucky@example.com")

    assert response.status_code == 302
    mail = Notification.objects.get(reference=PASSWORD_RESET)
    assert mail.status == Notification.DeliveryStatus.PENDING and mail.attempts == 1


def test_the_login_page_links_to_the_reset(client):
    html = client.get("/accounts/login/").content.decode()
    assert 'href="/accounts/password_reset/"' in html
    assert "Forgot your password?" in html
