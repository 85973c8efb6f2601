"""Django's password reset, end to end: the mail is read back from a real SMTP server the
test starts (aiosmtpd), its link followed, and the new password works."""

import re

import pytest
from django.test import Client

from tests.factories import PASSWORD, UserFactory
from tests.smtp import message_html, message_text

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "an-entirely-new-passphrase-77"
LINK = re.compile(r"http://localhost:8000(/accounts/reset/[^/\s]+/[^/\s]+/)")


def request_reset(client, email):
    return client.post("/accounts/password_reset/", {"email": email})


def test_the_reset_mail_arrives_its_link_works_and_the_new_password_logs_in(
    client, smtp_server, settings
):
    settings.DEFAULT_FROM_EMAIL = "Diamond Store <orders@store.example>"
    user = UserFactory(username="forgetful", email="forgetful@example.com")

    response = request_reset(client, "Forgetful@Example.com")  # any case finds the account

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password_reset/done/"
    assert "Check your email" in client.get(response["Location"]).content.decode()
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == "forgetful@example.com"
    assert message["From"] == "Diamond Store <orders@store.example>"
    assert message["Subject"] == "Reset your Diamond Store password"
    text, html = message_text(message), message_html(message)
    assert "Hello forgetful," in text
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

    assert Client().login(username="forgetful", password=NEW_PASSWORD)
    assert not Client().login(username="forgetful", password=PASSWORD)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)

    again = client.get(path)  # a used link is spent
    assert "This link has expired" in again.content.decode()


def test_an_unknown_email_shows_the_same_page_and_sends_nothing(client, smtp_server):
    UserFactory(email="someone@example.com")
    response = request_reset(client, "nobody@example.com")
    assert response["Location"] == "/accounts/password_reset/done/"
    assert smtp_server.messages == []


def test_an_smtp_server_that_is_down_still_answers_calmly(client, smtp_server, caplog):
    UserFactory(username="unlucky", email="unlucky@example.com")
    smtp_server.stop()

    response = request_reset(client, "unlucky@example.com")

    assert response.status_code == 302
    assert "Failed to send password reset email" in caplog.text


def test_the_login_page_links_to_the_reset(client):
    html = client.get("/accounts/login/").content.decode()
    assert 'href="/accounts/password_reset/"' in html
    assert "Forgot your password?" in html
