"""Deleting an account: the shopper's personal data is gone from every table and every page
— the user row, their orders, timelines and ops' notes, the outbox's emails, the Stripe
events recorded about them, the admin's history — while their orders stay (with the name and
address a paid order's tax invoice must show), render for ops as a deleted customer's, and
send no more email."""

import json
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from accounts.selectors import DELETED_CUSTOMER, customer_name
from accounts.signals import personal_data_erase
from notifications.models import Notification
from notifications.outbox import email_message_create, slack_message_create
from orders.emails import order_email_enqueue
from orders.models import Order, OrderEvent
from orders.privacy import CUSTOMER_DELETED
from orders.selectors.shopper import shipping_address_lines
from payments.models import WebhookEvent
from tests.doubles.stripe import stripe_event
from tests.factories import PASSWORD, OrderFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

EMAIL = "aroha.ngata@example.com"
NAME = "Aroha Ngata"
PHONE = "+64 21 555 0199"
ADDRESS = {
    "line1": "12 Kauri Street",
    "line2": "Flat 3",
    "city": "Wellington",
    "state": "",
    "postal_code": "6011",
    "country": "NZ",
}
# What identifies her, anywhere it might be written (any case).
TRACES = ["aroha.ngata", "aroha ngata", "555 0199", "kauri street"]


def shipping_details():
    return {"name": NAME, "address": ADDRESS}


def customer_details():
    return {"email": EMAIL, "name": NAME, "phone": PHONE, "address": ADDRESS}


@pytest.fixture
def shopper_with_history(ops_group):
    """A shopper with a paid (invoiced) order, a failed and an expired one, their timelines,
    an ops note, emails, Slack alerts, the Stripe events of their payments, and an entry in
    the admin's history."""
    user = UserFactory(username="aroha.ngata", email=EMAIL, first_name=NAME)
    personal = {"shipping_name": NAME, "shipping_address": ADDRESS, "shipping_phone": PHONE}
    paid = OrderFactory(
        user=user,
        confirmed=True,
        reference="Aroha's anniversary ring",
        comments=f"Call {PHONE} before delivery",
        stripe_receipt_url="https://pay.stripe.com/receipts/acct_1/ch_1/rcpt_1",
        resolution_note=f"Spoke to {NAME} on {PHONE}; all good.",
        **personal,
    )
    failed = OrderFactory(user=user, failed=True, **personal)
    expired = OrderFactory(user=user, expired=True, created_at=timezone.now() - timedelta(days=2))
    for order in (paid, failed, expired):
        OrderEvent.objects.create(order=order, kind="checkout_created", message="Checkout started.")
    OrderEvent.objects.create(
        order=paid, kind="note", message=f"Customer {EMAIL} asked to ship to 12 Kauri Street."
    )
    for kind, order in [("payment_received", paid), ("order_confirmed", paid)]:
        order_email_enqueue(order=order, kind=kind)
    email_message_create(
        to=EMAIL.upper(), subject="Still waiting", text=f"Kia ora {NAME}", dedupe_key="pending-1"
    )
    slack_message_create(
        category="ORDER_COMPLETED",
        title=f"Order {paid.order_number} confirmed",
        text="Feed order placed.",
        fields=[("Order", paid.order_number)],
    )
    session = {
        "id": paid.stripe_checkout_session_id,
        "object": "checkout.session",
        "payment_intent": paid.stripe_payment_intent_id,
        "customer_email": EMAIL,
        "customer_details": customer_details(),
        "collected_information": {"shipping_details": shipping_details()},
        "amount_total": paid.amount_cents,
    }
    charge = {
        "id": "ch_test_aroha",
        "object": "charge",
        "payment_intent": paid.stripe_payment_intent_id,
        "billing_details": customer_details(),
        "receipt_email": EMAIL,
        "receipt_url": paid.stripe_receipt_url,
        "payment_method_details": {"card": {"brand": "visa", "last4": "4242"}},
        "amount": paid.amount_cents,
    }
    dispute = {  # Stripe's dispute may have no payment_intent: found by the email in it
        "id": "dp_test_aroha",
        "object": "dispute",
        "charge": "ch_test_aroha",
        "payment_intent": None,
        "evidence": {"customer_email_address": EMAIL, "customer_name": NAME},
        "amount": paid.amount_cents,
    }
    other_session = {"id": "cs_someone_else", "customer_details": {"email": "kiri@example.com"}}
    for event_type, obj, session_id in [
        ("checkout.session.completed", session, paid.stripe_checkout_session_id),
        ("charge.succeeded", charge, ""),
        ("charge.dispute.created", dispute, ""),
        ("checkout.session.completed", other_session, "cs_someone_else"),
    ]:
        event = stripe_event(event_type, obj)
        WebhookEvent.objects.create(
            stripe_event_id=event["id"],
            type=event_type,
            checkout_session_id=session_id,
            payload=event,
            processed_at=timezone.now(),
        )
    staff = StaffFactory()
    LogEntry.objects.log_actions(
        user_id=staff.pk, queryset=[user], action_flag=CHANGE, change_message="Looked at it."
    )
    return user, paid, failed, expired


def delete_account(client, user):
    client.force_login(user)
    return client.post("/account/delete/", {"password": PASSWORD})


def traces_in_the_database() -> list[tuple[str, object, str, str]]:
    """Every (model, pk, field, trace) where a trace of her is stored, in any table."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        for row in model._default_manager.all().values():
            for field, value in row.items():
                text = json.dumps(value, default=str).lower()
                found += [
                    (model._meta.label, row.get("id"), field, trace)
                    for trace in TRACES
                    if trace in text
                ]
    return found


def test_her_personal_data_is_gone_from_every_table_but_the_invoice(client, shopper_with_history):
    user, paid, *_ = shopper_with_history
    assert len(traces_in_the_database()) > 20  # the fixture really wrote her everywhere

    response = delete_account(client, user)

    assert response.status_code == 302
    assert response["Location"] == "/account/deleted/"
    # What the tax invoice must show stays on the paid order, and only there.
    assert {(label, pk, field) for label, pk, field, _ in traces_in_the_database()} == {
        ("orders.Order", paid.pk, "shipping_name"),
        ("orders.Order", paid.pk, "shipping_address"),
    }


def test_the_user_row_stays_anonymised_and_closed(client, shopper_with_history):
    user, *_ = shopper_with_history
    delete_account(client, user)

    user = get_user_model().objects.get(pk=user.pk)
    assert (user.username, user.email, user.first_name, user.last_name) == (
        f"deleted-{user.pk}",
        "",
        "",
        "",
    )
    assert not user.is_active and not user.has_usable_password()
    assert not user.is_staff and not user.groups.exists()
    assert customer_name(user) == DELETED_CUSTOMER


def test_the_orders_stay_with_only_what_the_invoice_needs(client, shopper_with_history):
    user, paid, failed, expired = shopper_with_history
    delete_account(client, user)

    paid.refresh_from_db()
    assert shipping_address_lines(order=paid) == [
        NAME,
        "12 Kauri Street",
        "Flat 3",
        "Wellington 6011",
        "New Zealand",
    ]
    assert (paid.shipping_phone, paid.reference, paid.comments, paid.stripe_receipt_url) == (
        "",
        "",
        "",
        "",
    )
    assert paid.resolution_note == "Spoke to [deleted] on [deleted]; all good."
    assert (paid.amount_cents, paid.status, paid.order_number) == (
        1234500,
        "confirmed",
        paid.order_number,
    )
    failed.refresh_from_db()
    assert (failed.shipping_name, failed.shipping_address, failed.shipping_phone) == ("", {}, "")
    note = paid.events.get(kind="note")
    assert note.message == "Customer [deleted] asked to ship to [deleted]."
    for order in (paid, failed, expired):
        assert order.events.filter(kind=CUSTOMER_DELETED).count() == 1
    assert Order.objects.filter(user_id=user.pk).count() == 3


def test_the_stripe_events_keep_their_facts_and_lose_the_person(client, shopper_with_history):
    user, paid, *_ = shopper_with_history
    delete_account(client, user)

    events = {
        e.type + e.payload["data"]["object"]["id"]: e.payload for e in WebhookEvent.objects.all()
    }
    session = events["checkout.session.completed" + paid.stripe_checkout_session_id]["data"]
    assert session["object"]["customer_details"] is None
    assert session["object"]["collected_information"] is None
    assert session["object"]["amount_total"] == paid.amount_cents
    charge = events["charge.succeededch_test_aroha"]["data"]["object"]
    assert charge["billing_details"] is None and charge["payment_method_details"] is None
    assert charge["amount"] == paid.amount_cents
    dispute = events["charge.dispute.createddp_test_aroha"]["data"]["object"]
    assert dispute["evidence"] is None and dispute["charge"] == "ch_test_aroha"
    other = events["checkout.session.completedcs_someone_else"]["data"]["object"]
    assert other["customer_details"] == {"email": "kiri@example.com"}  # someone else's


def test_the_outbox_forgets_her_emails_and_keeps_ops_alerts(client, shopper_with_history):
    user, *_ = shopper_with_history
    assert Notification.objects.filter(kind="email").count() == 3
    delete_account(client, user)

    assert not Notification.objects.filter(kind="email").exists()
    assert Notification.objects.filter(kind="slack").count() == 1


def test_no_more_email_goes_to_a_deleted_customer(client, shopper_with_history):
    user, paid, *_ = shopper_with_history
    delete_account(client, user)
    paid.refresh_from_db()

    assert order_email_enqueue(order=paid, kind="refund_issued") is None
    assert not Notification.objects.filter(kind="email").exists()


def test_she_is_logged_out_everywhere_and_cannot_log_in_again(client, shopper_with_history):
    user, *_ = shopper_with_history
    elsewhere = Client()
    elsewhere.force_login(user)

    response = delete_account(client, user)

    assert "_auth_user_id" not in client.session
    assert "Your account is deleted" in client.get(response["Location"]).content.decode()
    assert elsewhere.get("/account/").status_code == 302  # the other session is gone too
    for name in (EMAIL, "aroha.ngata", f"deleted-{user.pk}"):
        assert not Client().login(username=name, password=PASSWORD)
    # The address is free for a new account.
    assert not get_user_model().objects.filter(email__iexact=EMAIL).exists()


def test_ops_see_a_deleted_customer_and_every_order_page_renders(
    client, shopper_with_history, ops_group
):
    user, paid, failed, expired = shopper_with_history
    delete_account(Client(), user)
    ops = StaffFactory(is_superuser=False)
    ops.groups.add(ops_group)
    client.force_login(ops)

    listing = client.get("/admin/orders/order/")
    assert listing.status_code == 200
    html = listing.content.decode()
    assert html.count(DELETED_CUSTOMER) >= 3
    assert not [trace for trace in TRACES if trace in html.lower()]

    for order in (paid, failed, expired):
        page = client.get(f"/admin/orders/order/{order.pk}/change/")
        assert page.status_code == 200
        html = page.content.decode()
        assert DELETED_CUSTOMER in html
        assert EMAIL not in html and PHONE not in html
    assert NAME in client.get(f"/admin/orders/order/{paid.pk}/change/").content.decode()
    assert NAME not in client.get(f"/admin/orders/order/{failed.pk}/change/").content.decode()

    for event in WebhookEvent.objects.all():
        page = client.get(f"/admin/payments/webhookevent/{event.pk}/change/")
        assert page.status_code == 200
        assert not [trace for trace in TRACES if trace in page.content.decode().lower()]


def test_the_deletion_is_all_or_nothing(client, shopper_with_history):
    """An app whose erasure fails after the others have run (a receiver connected last stands
    in for it) rolls every erasure back: nothing is half-forgotten, and the shopper can try
    again."""
    user, *_ = shopper_with_history
    before = traces_in_the_database()

    def failing_app(sender, user, **kwargs):
        raise RuntimeError("the database went away")

    personal_data_erase.connect(failing_app)
    try:
        with pytest.raises(RuntimeError):
            delete_account(client, user)
    finally:
        personal_data_erase.disconnect(failing_app)

    assert traces_in_the_database() == before
    user.refresh_from_db()
    assert user.is_active and user.email == EMAIL
    assert delete_account(Client(), user)["Location"] == "/account/deleted/"
