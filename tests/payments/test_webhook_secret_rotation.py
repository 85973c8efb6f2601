"""Rolling the webhook signing secret refuses no event: `STRIPE_WEBHOOK_SECRET` lists the new and
the old secret (comma-separated) while Stripe signs every event with both, and the old one is
refused once it is taken off the list. Through HTTP, headers signed the way Stripe signs them."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from gateway.signing import signature_header
from gateway.simulator import SIMULATOR_WEBHOOK_SECRET
from payments.checks import check_stripe_settings, check_webhook_secrets
from payments.models import WebhookEvent
from tests.doubles.stripe import WEBHOOK_PATH, stripe_event

OLD = "whsec_" + "0ld" * 11
NEW = "whsec_" + "n3w" * 11
pytestmark = pytest.mark.django_db


def deliver(client, *signing_secrets: str):
    """One new event (for no order of ours: recorded, then ignored), signed with each secret."""
    event = stripe_event(
        "checkout.session.expired", {"id": "cs_test_unknown", "object": "checkout.session"}
    )
    payload = json.dumps(event).encode()
    response = client.post(
        WEBHOOK_PATH,
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature_header(payload, *signing_secrets),
    )
    return response.status_code, WebhookEvent.objects.filter(stripe_event_id=event["id"]).exists()


def test_a_roll_from_start_to_end_refuses_no_event_until_the_old_secret_is_removed(
    client, settings
):
    settings.STRIPE_WEBHOOK_SECRET = OLD
    assert deliver(client, OLD) == (200, True)
    # Rolled in the Dashboard: Stripe signs with both until the old one expires.
    assert deliver(client, NEW, OLD) == (200, True)

    # Deployed with both listed (spaces around the comma are trimmed).
    settings.STRIPE_WEBHOOK_SECRET = f" {NEW} , {OLD} "
    assert deliver(client, NEW, OLD) == (200, True)
    assert deliver(client, OLD) == (200, True)
    assert deliver(client, NEW) == (200, True)
    assert deliver(client, "whsec_someone_else") == (400, False)

    # The old secret expired at Stripe and is removed here: only the new one signs.
    settings.STRIPE_WEBHOOK_SECRET = NEW
    assert deliver(client, NEW) == (200, True)
    assert deliver(client, OLD) == (400, False)


def test_the_order_of_the_listed_secrets_does_not_matter(client, settings):
    settings.STRIPE_WEBHOOK_SECRET = f"{OLD},{NEW}"
    assert deliver(client, NEW) == (200, True)
    assert deliver(client, OLD) == (200, True)


def test_a_list_of_only_commas_is_no_secret_at_all(client, settings):
    settings.STRIPE_WEBHOOK_SECRET = " , "
    assert deliver(client, OLD) == (500, False)
    assert [e.id for e in check_stripe_settings(None)] == ["payments.E001"]


# ---------------------------------------------------------------- system checks


def ids(messages):
    return [message.id for message in messages]


@pytest.mark.parametrize("value", [f"{NEW},,{OLD}", f"{NEW},", f",{NEW}", f"{NEW}, ,{OLD}"])
def test_an_empty_entry_is_a_check_error(settings, value):
    settings.STRIPE_WEBHOOK_SECRET = value
    assert ids(check_webhook_secrets(None)) == ["payments.E009"]


@pytest.mark.parametrize(
    ("value", "position"),
    [("sk_live_abc", "entry 1 of 1"), (f"{NEW}, we_123endpoint", "entry 2 of 2")],
)
def test_an_entry_that_is_not_a_signing_secret_is_a_check_error(settings, value, position):
    settings.STRIPE_WEBHOOK_SECRET = value
    [error] = check_webhook_secrets(None)
    assert error.id == "payments.E010"
    assert position in error.msg
    assert "abc" not in error.msg and "we_123" not in error.msg  # never the value itself


@pytest.mark.parametrize("value", ["", NEW, f"{NEW},{OLD}", f" {NEW} , {OLD} "])
def test_one_or_several_signing_secrets_pass(settings, value):
    settings.STRIPE_WEBHOOK_SECRET = value
    assert check_webhook_secrets(None) == []


def test_the_simulators_public_secret_is_refused_in_a_list_too(settings):
    settings.DEBUG = False
    settings.STRIPE_SECRET_KEY = "sk_live_x"
    settings.STRIPE_WEBHOOK_SECRET = f"{NEW},{SIMULATOR_WEBHOOK_SECRET}"

    with pytest.raises(SystemCheckError, match=r"payments\.E004"):
        call_command("check")
