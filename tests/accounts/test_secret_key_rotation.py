"""Changing SECRET_KEY logs no shopper out and kills no reset link: the store is restarted with a
new key and the old one in SECRET_KEY_FALLBACKS, as README's *Going live* says. Real gunicorn
processes, real cookies, the reset mail read back from a real SMTP server."""

from __future__ import annotations

import os
import re
import secrets

import pytest
import requests

from tests.factories import PASSWORD, UserFactory
from tests.fleet.conftest import Fleet, Process
from tests.reliability.test_faults import worker_database_url
from tests.smtp import message_text

pytestmark = pytest.mark.django_db(transaction=True)

OLD_KEY, NEW_KEY = secrets.token_urlsafe(50), secrets.token_urlsafe(50)
NEW_PASSWORD = "a-brand-new-passphrase-51"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
RESET_LINK = re.compile(r"https?://[^/\s]+(/accounts/reset/[^/\s]+/[^/\s]+/)")
EXPIRED = "This link has expired"


@pytest.fixture
def store(tmp_path, smtp_server):
    """`store(SECRET_KEY=…, SECRET_KEY_FALLBACKS=…)`: the store's web server with those keys,
    on the test's database; the previous one is stopped first (a restart)."""
    running: list[Process] = []
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": worker_database_url(),
        "CONN_MAX_AGE": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "EMAIL_URL": f"smtp://{smtp_server.host}:{smtp_server.port}",
    }

    def start(**keys: str) -> str:
        for process in running:
            process.stop()
        fleet = Fleet(tmp_path, {**env, **keys})
        running.append(fleet.web(f"web-{len(running)}", workers=1))
        fleet.wait_ready()
        return running[-1].url

    yield start
    for process in running:
        process.stop()


def form_post(http: requests.Session, url: str, fields: dict) -> requests.Response:
    """Submit the form at `url` as a browser does (its CSRF token), without following."""
    token = CSRF.search(http.get(url).text).group(1)
    return http.post(url, {"csrfmiddlewaretoken": token, **fields}, allow_redirects=False)


def logged_in_browser(base: str, user) -> requests.Session:
    http = requests.Session()
    response = form_post(
        http, f"{base}/accounts/login/", {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302, response.text[:500]
    return http


def signed_in(http: requests.Session, base: str) -> bool:
    """Whether *My orders* opens (a shopper who is not logged in is sent to the log-in page)."""
    response = http.get(f"{base}/account/orders/", allow_redirects=False)
    assert response.status_code in (200, 302)
    return response.status_code == 200


def reset_link(base: str, user, smtp_server) -> str:
    sent = len(smtp_server.messages)
    response = form_post(
        requests.Session(), f"{base}/accounts/password_reset/", {"email": user.email}
    )
    assert response.status_code == 302
    message = smtp_server.wait_for(sent + 1)[sent]
    assert message["To"] == user.email
    return RESET_LINK.search(message_text(message)).group(1)


def test_sessions_and_reset_links_survive_a_secret_key_rotation(store, smtp_server):
    alice, bob, carol = (UserFactory(username=name) for name in ("alice", "bob", "carol"))

    base = store(SECRET_KEY=OLD_KEY)
    alices_browser, bobs_browser = logged_in_browser(base, alice), logged_in_browser(base, bob)
    carols_link, bobs_link = (
        reset_link(base, carol, smtp_server),
        reset_link(base, bob, smtp_server),
    )
    assert signed_in(alices_browser, base) and signed_in(bobs_browser, base)

    # The rotation: a new key, the old one kept as a fallback.
    base = store(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=OLD_KEY)
    assert signed_in(alices_browser, base)  # her session is re-signed with the new key
    carols_browser = requests.Session()
    form = carols_browser.get(base + carols_link)
    assert EXPIRED not in form.text and "new_password1" in form.text
    done = form_post(
        carols_browser,
        form.url,
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done.headers["Location"] == "/accounts/reset/done/"
    assert EXPIRED not in requests.get(base + bobs_link).text

    # Weeks later the old key is dropped: what was only ever signed with it lapses (Bob never
    # came back meanwhile), while Alice, who did, stays logged in.
    base = store(SECRET_KEY=NEW_KEY)
    assert signed_in(alices_browser, base)
    assert not signed_in(bobs_browser, base)
    assert EXPIRED in requests.get(base + bobs_link).text
    carol.refresh_from_db()
    assert carol.check_password(NEW_PASSWORD)


def test_without_the_fallback_the_same_rotation_logs_everyone_out(store, smtp_server):
    """What SECRET_KEY_FALLBACKS prevents (so the test above cannot pass by accident)."""
    shopper = UserFactory()
    base = store(SECRET_KEY=OLD_KEY)
    browser, link = logged_in_browser(base, shopper), reset_link(base, shopper, smtp_server)

    base = store(SECRET_KEY=NEW_KEY)

    assert not signed_in(browser, base)
    assert EXPIRED in requests.get(base + link).text
