"""One safe `next` for every form that sends a visitor on (sign-up, log-in, log-out, the
compare forms): only a path on this site passes; anything else — a view name, bytes that are
not UTF-8, another host — falls back to the page's own default, never a 5xx."""

import pytest
from django.test import RequestFactory

from core.http import safe_next_url

HOSTILE = [
    "abc",
    "compare",
    "catalog:compare",
    "login",
    "%FF",
    "%FF%FE",
    "/\nSet-Cookie: x=1",
    "//evil.example.com/",
    "/\\evil.example.com",
    "\\\\evil.example.com",
    "https://evil.example.com/",
    "http://testserver/",  # even this host, spelled absolute: only relative paths pass
    "javascript:alert(1)",
    " /",
    "/" + "a" * 3000,
    "/\u200bzero-width",
    "./relative",
    "../up",
]
SAFE = ["/", "/account/orders/", "/diamonds/?shape=OVAL&page=2", "/compare/#top", "/%FF", "/%0A"]


@pytest.mark.parametrize("candidate", HOSTILE)
def test_anything_but_a_path_on_this_site_falls_back(candidate):
    for request in (
        RequestFactory().get("/", {"next": candidate}),
        RequestFactory().post("/", {"next": candidate}),
    ):
        assert safe_next_url(request, default="/fallback/") == "/fallback/"


@pytest.mark.parametrize("candidate", SAFE)
def test_a_path_on_this_site_passes(candidate):
    assert safe_next_url(RequestFactory().get("/", {"next": candidate}), default="/x/") == (
        candidate
    )


def test_post_wins_over_the_query_string():
    request = RequestFactory().post("/?next=/from-query/", {"next": "/from-form/"})
    assert safe_next_url(request, default="/") == "/from-form/"


# ---------------------------------------------------------------- every form that uses it

RAW = [
    "abc",
    "compare",
    "%FF",
    "%FF%FE",
    "//evil.example.com/",
    "%0A",
    "https://evil.example.com/",
]
# Safe paths, but a logged-in visitor sent from the log-in page back to it would loop.
LOOPS = ["/accounts/login/", "/accounts/login/?next=/"]


def _no_5xx_and_stays_home(response):
    assert response.status_code < 500
    location = response.get("Location", "")
    assert "evil" not in location
    assert location == "" or location.startswith("/")


@pytest.mark.django_db
@pytest.mark.parametrize("raw", RAW + LOOPS)
def test_sign_up_log_in_and_log_out_answer_3xx_or_4xx(client, shopper, raw):
    _no_5xx_and_stays_home(client.get(f"/accounts/signup/?next={raw}"))
    _no_5xx_and_stays_home(client.get(f"/accounts/login/?next={raw}"))
    client.force_login(shopper)
    _no_5xx_and_stays_home(client.get(f"/accounts/login/?next={raw}"))
    _no_5xx_and_stays_home(client.get(f"/accounts/signup/?next={raw}"))
    _no_5xx_and_stays_home(client.post(f"/accounts/signup/?next={raw}", {}))
    _no_5xx_and_stays_home(client.get(f"/accounts/welcome/?next={raw}"))
    _no_5xx_and_stays_home(client.post(f"/accounts/logout/?next={raw}"))


@pytest.mark.django_db
@pytest.mark.parametrize("raw", RAW)
def test_a_successful_sign_up_with_a_bad_next_goes_to_check_your_inbox(client, raw):
    password = "a-long-unusual-passphrase-42"
    response = client.post(
        f"/accounts/signup/?next={raw}",
        {
            "full_name": "A B",
            "email": "ab@example.com",
            "password1": password,
            "password2": password,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/signup/done/"


@pytest.mark.django_db
@pytest.mark.parametrize("raw", RAW)
def test_the_compare_forms_answer_3xx(client, diamond, raw):
    for path, data in [
        ("/compare/add/", {"diamond": str(diamond.pk)}),
        ("/compare/add/", {"diamond": "not-a-uuid"}),
        ("/compare/remove/", {"diamond": str(diamond.pk)}),
        ("/compare/remove/", {"all": "1"}),
    ]:
        response = client.post(f"{path}?next={raw}", data)
        assert response.status_code == 302
        assert response["Location"] == "/compare/"
        response = client.post(path, {**data, "next": raw})
        assert response.status_code == 302
        assert response["Location"] == "/compare/"
