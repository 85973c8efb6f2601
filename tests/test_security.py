"""Security properties across the app: CSRF on every state-changing form, login where a
shopper's data is, no order enumeration, a staff-only admin, deploy settings that pass
Django's own checks, and no secret in any log line."""

import logging
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from catalog.models import Availability, Feed
from orders.models import FeedOrderStatus, Order, PaymentStatus, Status
from tests.doubles.stripe import post_event, stripe_event
from tests.factories import PASSWORD, DiamondFactory, OrderFactory, UserFactory
from tests.payments.test_webhooks import session_for

ROOT = Path(__file__).resolve().parent.parent
CHANGELIST = reverse("admin:orders_order_changelist")


def logged_in(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


# ---------------------------------------------------------------- CSRF


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "data", "json_body"),
    [
        ("/checkout/create/", {"diamond_id": "x"}, False),
        ("/api/v2/checkout/create", '{"diamond_id": "x"}', True),
        ("/accounts/logout/", {}, False),
        (CHANGELIST, {"action": "refund", "_selected_action": ["x"]}, False),
    ],
)
def test_every_state_changing_form_refuses_a_post_without_the_csrf_token(
    stripe_api, path, data, json_body
):
    user = UserFactory(is_staff=True, is_superuser=True)
    client = logged_in(user, enforce_csrf_checks=True)
    if json_body:
        response = client.post(path, data, content_type="application/json")
        assert response.json()["error"]["code"] == "csrf_failed"
    else:
        response = client.post(path, data)
    assert response.status_code == 403
    assert not Order.objects.exists()
    # Still logged in: the logout itself was refused.
    assert client.get("/account/orders/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/signup/"])
def test_login_and_signup_forms_refuse_a_post_without_the_csrf_token(path):
    user = UserFactory()
    client = Client(enforce_csrf_checks=True)
    response = client.post(path, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_webhook_needs_no_csrf_token_only_the_signature(client):
    order = OrderFactory()
    response = post_event(
        Client(enforce_csrf_checks=True),
        stripe_event("checkout.session.completed", session_for(order)),
    )
    assert response.status_code == 200


# ---------------------------------------------------------------- login and ownership


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/account/orders/"),
        ("get", "/checkout/success/?order=DO-20260101-0001"),
        ("post", "/checkout/create/"),
    ],
)
def test_shopper_pages_send_anonymous_visitors_to_log_in(method, path):
    response = getattr(Client(), method)(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_json_checkout_answers_401_to_anonymous_callers():
    response = Client().post("/api/v2/checkout/create", "{}", content_type="application/json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def _without_tokens(html: bytes) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html.decode())


@pytest.mark.django_db
def test_another_shoppers_order_number_answers_exactly_like_a_missing_one():
    owner, snoop = UserFactory(), UserFactory()
    order = OrderFactory(user=owner, order_number="DO-20260101-0042")
    client = logged_in(snoop)

    theirs = client.get("/checkout/success/", {"order": order.order_number, "session_id": "x"})
    missing = client.get("/checkout/success/", {"order": "DO-20260101-0043", "session_id": "x"})

    assert theirs.status_code == missing.status_code == 404
    assert _without_tokens(theirs.content) == _without_tokens(missing.content)
    # Every response carries its own random X-Request-ID (for the logs); the rest is identical.
    assert len({theirs.headers.pop("X-Request-ID"), missing.headers.pop("X-Request-ID")}) == 2
    assert dict(theirs.headers) == dict(missing.headers)
    assert order.order_number not in client.get("/account/orders/").content.decode()
    assert (
        logged_in(owner).get("/checkout/success/", {"order": order.order_number}).status_code == 200
    )


# ---------------------------------------------------------------- the admin


@pytest.mark.django_db
def test_a_shopper_never_reaches_the_admin_even_holding_every_order_permission():
    shopper = UserFactory()
    shopper.user_permissions.set(Permission.objects.filter(content_type__app_label="orders"))
    order = OrderFactory(
        status=Status.PAID,
        payment_status=PaymentStatus.PAID,
        feed_order_status=FeedOrderStatus.FAILED,
        stripe_payment_intent_id="pi_x",
    )
    client = logged_in(shopper)

    for path in (
        reverse("admin:index"),
        CHANGELIST,
        reverse("admin:orders_order_change", args=[order.pk]),
    ):
        response = client.get(path)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], path
    data = {"action": "mark_resolved", "_selected_action": [str(order.pk)], "note": "mine now"}
    response = client.post(CHANGELIST, data)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    order.refresh_from_db()
    assert order.resolved_at is None


@pytest.mark.django_db
def test_staff_without_permissions_see_no_orders():
    staff = UserFactory(is_staff=True)
    client = logged_in(staff)
    assert client.get(CHANGELIST).status_code == 403
    assert "Orders" not in client.get(reverse("admin:index")).content.decode()


# ---------------------------------------------------------------- deploy settings


def test_production_settings_pass_the_deploy_check(tmp_path):
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "False",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "shop.example.com",
        "STOREFRONT_URL": "https://shop.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "STRIPE_SECRET_KEY": "sk_live_" + secrets.token_hex(24),
        "STRIPE_WEBHOOK_SECRET": "whsec_" + secrets.token_hex(24),
        "TASKS_BACKEND": "database",
        "STORE_ADDRESS": "10 Example Street, Auckland 1010",
        "GST_NUMBER": "49-091-850",
    }
    rotating = {  # halfway through rotating both secrets: the new one, then the old
        "SECRET_KEY_FALLBACKS": secrets.token_urlsafe(64),
        "STRIPE_WEBHOOK_SECRET": f"{env['STRIPE_WEBHOOK_SECRET']}, whsec_{secrets.token_hex(24)}",
    }
    for environment in (env, {**env, **rotating}):
        result = subprocess.run(
            [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "System check identified no issues" in result.stdout


# ---------------------------------------------------------------- secrets never logged


SECRETS = {
    "STRIPE_SECRET_KEY": "sk_test_" + "S3cr3tStr1peK3y" * 2,
    "STRIPE_WEBHOOK_SECRET": "whsec_" + "W3bh00kS1gn1ngS3cr3t" * 2,
}


@pytest.mark.django_db(transaction=True)
def test_no_secret_reaches_the_logs_through_checkout_webhook_and_failures(
    stripe_api, slack_api, nivoda_api, settings, caplog
):
    settings.STRIPE_SECRET_KEY = SECRETS["STRIPE_SECRET_KEY"]
    settings.STRIPE_WEBHOOK_SECRET = SECRETS["STRIPE_WEBHOOK_SECRET"]
    secret_values = [
        settings.STRIPE_SECRET_KEY,
        settings.STRIPE_WEBHOOK_SECRET,
        settings.SLACK_BOT_TOKEN,
        settings.NIVODA_PASSWORD,
    ]
    caplog.set_level(logging.DEBUG)
    item = nivoda_api.add_stone()
    diamond = DiamondFactory(
        feed=Feed.NIVODA, supplier_stone_id=item["diamond"]["id"], offer_id=item["id"]
    )
    failing = DiamondFactory(
        feed=Feed.NIVODA,
        supplier_stone_id=nivoda_api.add_stone()["diamond"]["id"],
        offer_id="offer-gone",
    )
    shopper = UserFactory()
    client = logged_in(shopper)

    # Stripe fails once at session creation, then a full paid checkout whose feed order
    # Nivoda refuses (Slack alert), then a void of the held payment Stripe refuses.
    stripe_api.fail("POST", "/v1/checkout/sessions", status=500, times=5)
    assert (
        client.post(
            "/api/v2/checkout/create",
            {"diamond_id": str(failing.pk)},
            content_type="application/json",
        ).status_code
        == 503
    )
    for stone in (diamond, failing):
        Order.objects.filter(diamond=stone).delete()
        type(stone).objects.filter(pk=stone.pk).update(availability=Availability.AVAILABLE)
    stripe_api._failures.clear()
    response = client.post(
        "/api/v2/checkout/create", {"diamond_id": str(failing.pk)}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    order = Order.objects.get(order_number=response.json()["orderNumber"])
    session = stripe_api.complete(order.stripe_checkout_session_id)
    assert (
        post_event(Client(), stripe_event("checkout.session.completed", session)).status_code == 200
    )
    order.refresh_from_db()
    assert order.feed_order_status == FeedOrderStatus.FAILED
    assert slack_api.messages

    stripe_api.fail("POST", "/v1/payment_intents/", status=500, times=5)
    staff = UserFactory(is_staff=True, is_superuser=True)
    data = {
        "action": "cancel",
        "_selected_action": [str(order.pk)],
        "confirm": "yes",
        "reason": "test",
    }
    assert logged_in(staff).post(CHANGELIST, data, follow=True).status_code == 200
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.AUTHORIZED  # Stripe refused: nothing changed
    post_event(Client(), stripe_event("checkout.session.completed", session), secret="whsec_wrong")

    assert len(caplog.records) > 10
    logged = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    for value in secret_values:
        assert value and value not in logged, f"a secret appears in the logs: {value[:8]}…"
