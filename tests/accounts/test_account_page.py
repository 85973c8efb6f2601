"""GET /account/: the shopper's details, links to their orders and the password change, and
*Delete my account* (password confirmed) — refused, saying why, while an order is open."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import PASSWORD, OrderFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def aroha(client):
    user = UserFactory(username="aroha", email="aroha@example.com", first_name="Aroha Ngata")
    client.force_login(user)
    return user


def test_the_account_page_shows_the_details_and_the_ways_on(client, aroha, settings):
    settings.STORE_CONTACT_EMAIL = "care@store.example"
    html = client.get("/account/").content.decode()

    assert "<h1" in html and "Your account" in html
    assert "<dt>Name</dt><dd>Aroha Ngata</dd>" in html
    assert "<dt>Email</dt><dd>aroha@example.com</dd>" in html
    assert "<dt>Username</dt><dd>aroha</dd>" in html
    assert 'href="/account/orders/">Your orders</a>' in html
    assert 'href="/accounts/password_change/">Change your password</a>' in html
    assert "care@store.example" in html
    assert '<form method="post" action="/account/delete/">' in html
    assert 'type="password"' in html and "Delete my account</button>" in html
    assert "seven years" in html


def test_the_password_change_works_from_the_account_page(client, aroha):
    new = "a-brand-new-passphrase-9"
    response = client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )

    assert response["Location"] == "/accounts/password_change/done/"
    assert "Your password is changed" in client.get(response["Location"]).content.decode()
    aroha.refresh_from_db()
    assert aroha.check_password(new)
    assert client.get("/account/").status_code == 200  # still logged in here


@pytest.mark.parametrize(
    ("trait", "created_minutes_ago"),
    [({}, 1), ({"paid": True}, 60), ({"feed_failed": True}, 60)],
    ids=["checkout open", "paid, supplier pending", "paid, supplier refused"],
)
def test_an_order_in_progress_stops_the_deletion_and_says_why(
    client, aroha, trait, created_minutes_ago
):
    order = OrderFactory(
        user=aroha, created_at=timezone.now() - timedelta(minutes=created_minutes_ago), **trait
    )

    page = client.get("/account/").content.decode()
    refused = client.post("/account/delete/", {"password": PASSWORD})

    for html in (page, refused.content.decode()):
        assert "Your account can't be deleted just yet." in html
        assert f"Order {order.order_number} is still in progress." in html
    assert '<form method="post" action="/account/delete/">' not in page
    assert refused.status_code == 409
    aroha.refresh_from_db()
    assert aroha.is_active and aroha.email == "aroha@example.com"


@pytest.mark.parametrize(
    "trait",
    [{"confirmed": True}, {"failed": True}, {"expired": True}, {"refunded": True}],
    ids=["confirmed", "failed", "expired", "refunded"],
)
def test_finished_orders_do_not_stop_it(client, aroha, trait):
    OrderFactory(user=aroha, **trait)
    OrderFactory(user=aroha, created_at=timezone.now() - timedelta(hours=2))  # checkout closed
    assert "can't be deleted" not in client.get("/account/").content.decode()
    assert client.post("/account/delete/", {"password": PASSWORD})["Location"] == (
        "/account/deleted/"
    )


def test_a_wrong_password_deletes_nothing_and_is_throttled(client, aroha):
    for _ in range(5):
        response = client.post("/account/delete/", {"password": "not-mine"})
        assert response.status_code == 200
        assert "That is not your password." in response.content.decode()

    throttled = client.post("/account/delete/", {"password": PASSWORD})

    assert "Too many unsuccessful attempts" in throttled.content.decode()
    aroha.refresh_from_db()
    assert aroha.is_active and aroha.email == "aroha@example.com"


def test_staff_accounts_are_closed_by_an_administrator(client):
    staff = StaffFactory()
    client.force_login(staff)
    assert (
        "Staff accounts are closed by an administrator" in client.get("/account/").content.decode()
    )
    assert client.post("/account/delete/", {"password": PASSWORD}).status_code == 409


def test_deletion_is_a_post_with_the_password(client, aroha):
    assert client.get("/account/delete/").status_code == 405
    assert client.post("/account/delete/", {}).status_code == 200
    aroha.refresh_from_db()
    assert aroha.is_active


def test_several_open_orders_are_named_in_one_sentence(client, aroha):
    first = OrderFactory(user=aroha, paid=True, created_at=timezone.now() - timedelta(hours=2))
    second = OrderFactory(user=aroha)

    html = client.get("/account/").content.decode()

    assert (
        f"Orders {first.order_number} and {second.order_number} are still in progress. You can "
        "delete your account once they are confirmed or closed"
    ) in html
