"""Authorise, then capture; cancel; partial refunds; disputes and fraud warnings; supplier
holds — through the real SDK against the Stripe double and signed webhooks."""

import json
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from catalog.models import Availability
from feeds import base
from notifications.models import Category, Notification
from orders.models import FeedOrderStatus, Order, PaymentStatus, Status
from orders.money import PaymentActionError, order_cancel, order_capture, order_refund
from payments.reconciliation import payments_reconcile
from tests.doubles.stripe import post_event, stripe_event
from tests.threads import at_once

pytestmark = pytest.mark.django_db(transaction=True)

CAPTURES = "/v1/payment_intents/"


@pytest.fixture
def manual(settings, stripe_api):
    settings.CHECKOUT_CAPTURE = "manual"
    return stripe_api


def start_checkout(shopper_client, diamond) -> Order:
    response = shopper_client.post(
        "/api/v2/checkout/create",
        data=json.dumps({"diamond_id": str(diamond.pk)}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return Order.objects.get(order_number=response.json()["orderNumber"])


def authorise(client, stripe_api, order, **event):
    """The shopper pays at Checkout: the card is authorised, Stripe sends the session."""
    session = stripe_api.complete(order.stripe_checkout_session_id)
    return post_event(client, stripe_event("checkout.session.completed", session, **event))


def capture_calls(stripe_api):
    return [c for c in stripe_api.calls("POST", CAPTURES) if c["path"].endswith("/capture")]


def state(order):
    order.refresh_from_db()
    return (order.status, order.payment_status, order.feed_order_status)


# ---------------------------------------------------------------- authorise, then capture


def test_checkout_asks_stripe_to_hold_the_money(manual, shopper_client, demo_diamond):
    start_checkout(shopper_client, demo_diamond)
    (call,) = manual.calls("POST", "/v1/checkout/sessions")
    assert call["params"]["payment_intent_data"]["capture_method"] == "manual"


def test_an_authorised_payment_is_captured_when_the_supplier_confirms(
    manual, client, shopper_client, demo_diamond
):
    order = start_checkout(shopper_client, demo_diamond)
    assert authorise(client, manual, order).status_code == 200

    # The feed order ran as the authorisation committed, then the capture.
    assert state(order) == (Status.CONFIRMED, PaymentStatus.PAID, FeedOrderStatus.SUCCESS)
    (capture,) = capture_calls(manual)
    assert capture["headers"]["idempotency-key"] == f"capture-{order.pk}"
    assert manual.intent_for(order.stripe_checkout_session_id)["status"] == "succeeded"
    kinds = list(order.events.values_list("kind", flat=True))
    assert kinds[-3:] == ["authorized", "supplier_confirmed", "captured"]
    assert order.captured_at is not None
    demo_diamond.refresh_from_db()
    assert demo_diamond.availability == Availability.SOLD


def test_a_failed_supplier_order_leaves_the_money_held_and_cancel_releases_it(
    manual, client, shopper_client, make_diamond, staff
):
    from feeds.demo import FAILING_STONE_IDS

    diamond = make_diamond(supplier_stone_id=sorted(FAILING_STONE_IDS)[0])
    order = start_checkout(shopper_client, diamond)
    authorise(client, manual, order)
    assert state(order) == (Status.PAID, PaymentStatus.AUTHORIZED, FeedOrderStatus.FAILED)
    assert not capture_calls(manual)
    assert order.needs_attention

    order_cancel(order=order, actor=staff, reason="Supplier sold it elsewhere")
    assert state(order) == (Status.CANCELLED, PaymentStatus.VOIDED, FeedOrderStatus.FAILED)
    assert manual.intent_for(order.stripe_checkout_session_id)["status"] == "canceled"
    assert not manual.calls("POST", "/v1/refunds")  # nothing charged, nothing to refund
    diamond.refresh_from_db()
    # The supplier refused the stone: off sale until a feed import lists it again.
    assert diamond.availability == Availability.UNAVAILABLE
    assert not order.needs_attention


def test_cancel_of_a_captured_order_refunds_it(manual, client, shopper_client, demo_diamond, staff):
    order = start_checkout(shopper_client, demo_diamond)
    authorise(client, manual, order)
    order_cancel(order=order, actor=staff, reason="Customer changed their mind")
    assert state(order)[:2] == (Status.CANCELLED, PaymentStatus.REFUNDED)
    assert len(manual.calls("POST", "/v1/refunds")) == 1


def test_a_capture_that_times_out_is_never_repeated_with_a_new_key(
    manual, settings, client, shopper_client, demo_diamond
):
    settings.STRIPE_TIMEOUT_SECONDS = 0.3
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    order = start_checkout(shopper_client, demo_diamond)
    manual.hang("POST", CAPTURES, seconds=1.0)
    authorise(client, manual, order)

    # Stripe did capture, but the answer never came: the order still shows the money held.
    assert state(order) == (Status.PAID, PaymentStatus.AUTHORIZED, FeedOrderStatus.SUCCESS)
    assert "outcome unknown" in order.payment_error
    assert order.needs_attention and order.attention.reason == "capture_failed"
    assert Notification.objects.filter(category=Category.ORDER_PAYMENT_FAILURE).count() == 1

    # Ops press Capture again: the same key, so Stripe answers the first capture.
    time.sleep(0.8)
    assert order_capture(order=order) == "captured"
    keys = {c["headers"]["idempotency-key"] for c in capture_calls(manual)}
    assert keys == {f"capture-{order.pk}"}
    assert state(order) == (Status.CONFIRMED, PaymentStatus.PAID, FeedOrderStatus.SUCCESS)
    assert order.payment_error == ""


def test_reconciliation_recovers_a_capture_it_did_not_see(
    manual, settings, client, shopper_client, demo_diamond
):
    settings.STRIPE_TIMEOUT_SECONDS = 0.3
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    order = start_checkout(shopper_client, demo_diamond)
    manual.hang("POST", CAPTURES, seconds=0.6)
    authorise(client, manual, order)
    time.sleep(0.5)

    changes = payments_reconcile(now=timezone.now() + timedelta(minutes=5))
    assert f"{order.order_number}: held payment captured." in changes
    assert state(order) == (Status.CONFIRMED, PaymentStatus.PAID, FeedOrderStatus.SUCCESS)
    assert len(capture_calls(manual)) == 1  # Stripe was asked, not told to capture again


def test_reconciliation_captures_a_capture_that_never_ran(
    manual, settings, client, shopper_client, demo_diamond
):
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    order = start_checkout(shopper_client, demo_diamond)
    manual.fail("POST", CAPTURES, status=500)
    authorise(client, manual, order)
    assert state(order) == (Status.PAID, PaymentStatus.AUTHORIZED, FeedOrderStatus.SUCCESS)

    payments_reconcile(now=timezone.now() + timedelta(minutes=5))
    assert state(order) == (Status.CONFIRMED, PaymentStatus.PAID, FeedOrderStatus.SUCCESS)
    assert {c["headers"]["idempotency-key"] for c in capture_calls(manual)} == {
        f"capture-{order.pk}"
    }


def test_an_authorisation_near_expiry_needs_attention_and_alerts_once(
    manual, settings, client, shopper_client, make_diamond
):
    from feeds.demo import FAILING_STONE_IDS

    order = start_checkout(
        shopper_client, make_diamond(supplier_stone_id=sorted(FAILING_STONE_IDS)[0])
    )
    authorise(client, manual, order)
    Order.objects.filter(pk=order.pk).update(
        paid_at=timezone.now() - timedelta(hours=settings.AUTHORIZATION_WARN_HOURS + 1),
        resolved_at=timezone.now(),  # the feed failure was looked at; the clock was not
    )
    order.refresh_from_db()
    assert order.attention is None  # resolved hides it…
    Order.objects.filter(pk=order.pk).update(resolved_at=None)
    order.refresh_from_db()
    assert order.attention.reason in ("feed_failed", "authorization_expiring")
    assert Order.objects.needs_attention().filter(pk=order.pk).exists()
    payments_reconcile()
    payments_reconcile()
    alerts = Notification.objects.filter(title__contains="expires soon")
    assert alerts.count() == 1


# ---------------------------------------------------------------- duplicates and races


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_authorisation_events_place_one_order_and_capture_once(
    postgres_only, manual, shopper_client, demo_diamond, monkeypatch
):
    calls = []

    class CountingFeed(base.FeedAdapter):
        name = "demo"

        def check_availability(self, diamond):
            return Availability.AVAILABLE

        def create_order(self, diamond, *, reference, comments=""):
            calls.append(reference)
            return f"F-{reference}"

    monkeypatch.setitem(base._registry, "demo", CountingFeed)
    order = start_checkout(shopper_client, demo_diamond)
    session = manual.complete(order.stripe_checkout_session_id)
    intent = manual.intent_for(order.stripe_checkout_session_id)
    events = [stripe_event("checkout.session.completed", session) for _ in range(3)]
    events += [stripe_event("payment_intent.amount_capturable_updated", intent) for _ in range(3)]
    answers = at_once(lambda event: post_event(Client(), event).status_code, events)

    assert answers == [200] * len(events)
    assert calls == [order.order_number]
    assert len(capture_calls(manual)) == 1
    assert state(order) == (Status.CONFIRMED, PaymentStatus.PAID, FeedOrderStatus.SUCCESS)
    assert order.events.filter(kind="authorized").count() == 1


def test_a_refund_racing_a_capture_never_double_counts(
    manual, client, shopper_client, demo_diamond, staff
):
    order = start_checkout(shopper_client, demo_diamond)
    authorise(client, manual, order)
    refund_id = order_refund(order=order, actor=staff, amount_cents=5000, reason="Scratch")
    charge = manual.charge_for(order.stripe_checkout_session_id)
    # Stripe's own report of the same refund, twice and late, changes nothing more.
    post_event(client, stripe_event("charge.refunded", charge))
    post_event(client, stripe_event("charge.refunded", charge))
    order.refresh_from_db()
    assert refund_id
    assert order.amount_refunded_cents == 5000
    assert state(order) == (
        Status.CONFIRMED,
        PaymentStatus.PARTIALLY_REFUNDED,
        FeedOrderStatus.SUCCESS,
    )
    assert order.events.filter(kind="partially_refunded").count() == 1

    # A refund made later in the Stripe Dashboard for the rest ends the order.
    rest = manual.refund_from_dashboard(order.stripe_checkout_session_id)
    assert rest["amount_refunded"] == order.amount_cents
    post_event(client, stripe_event("charge.refunded", rest))
    assert state(order)[:2] == (Status.CANCELLED, PaymentStatus.REFUNDED)
    demo_diamond.refresh_from_db()
    assert demo_diamond.availability == Availability.SOLD  # the supplier order was placed


def test_a_partial_refund_from_the_admin_leaves_the_rest_refundable(
    stripe_api, client, shopper_client, demo_diamond, staff
):
    order = start_checkout(shopper_client, demo_diamond)
    post_event(
        client,
        stripe_event(
            "checkout.session.completed", stripe_api.complete(order.stripe_checkout_session_id)
        ),
    )
    order_refund(order=order, actor=staff, amount_cents=100_00)
    order_refund(order=order, actor=staff)  # the rest
    order.refresh_from_db()
    assert order.amount_refunded_cents == order.amount_cents
    assert [int(c["params"]["amount"]) for c in stripe_api.calls("POST", "/v1/refunds")] == [
        100_00,
        order.amount_cents - 100_00,
    ]
    with pytest.raises(PaymentActionError):
        order_refund(order=order, actor=staff)


def test_an_authorised_payment_cannot_be_refunded_only_cancelled(
    manual, client, shopper_client, make_diamond, staff
):
    from feeds.demo import FAILING_STONE_IDS

    order = start_checkout(
        shopper_client, make_diamond(supplier_stone_id=sorted(FAILING_STONE_IDS)[0])
    )
    authorise(client, manual, order)
    with pytest.raises(PaymentActionError, match="only authorised"):
        order_refund(order=order, actor=staff)


# ---------------------------------------------------------------- disputes and fraud


def test_a_dispute_on_a_confirmed_order_needs_attention_and_alerts_once(
    stripe_api, client, shopper_client, demo_diamond
):
    order = start_checkout(shopper_client, demo_diamond)
    post_event(
        client,
        stripe_event(
            "checkout.session.completed", stripe_api.complete(order.stripe_checkout_session_id)
        ),
    )
    order.refresh_from_db()
    assert order.status == Status.CONFIRMED
    dispute = stripe_api.dispute(order.stripe_checkout_session_id)
    due = dispute["evidence_details"]["due_by"]
    created = stripe_event("charge.dispute.created", dispute)
    post_event(client, created)
    post_event(client, {**created, "id": created["id"] + "x"})  # a second delivery
    order.refresh_from_db()
    assert order.dispute_status == "needs_response"
    assert int(order.dispute_evidence_due_by.timestamp()) == due
    assert order.attention.reason == "dispute_open"
    assert Notification.objects.filter(category=Category.ORDER_DISPUTE).count() == 1

    reviewed, before = stripe_api.dispute_update(dispute["id"], status="under_review")
    stale = stripe_event("charge.dispute.updated", reviewed, previous_attributes=before)
    won, _ = stripe_api.dispute_update(dispute["id"], status="won")
    closed = stripe_event("charge.dispute.closed", won)
    stale["created"] = closed["created"] - 60  # older than the close, delivered after it
    post_event(client, closed)
    post_event(client, stale)
    order.refresh_from_db()
    assert order.dispute_status == "won"
    assert not order.needs_attention


def test_a_fraud_warning_before_the_feed_order_stops_it_until_ops_retry(
    manual, settings, client, shopper_client, demo_diamond, staff
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    from django.core.management import call_command

    from orders.services import (
        order_feed_order_retry,
    )

    order = start_checkout(shopper_client, demo_diamond)
    authorise(client, manual, order)
    assert state(order) == (Status.PAID, PaymentStatus.AUTHORIZED, FeedOrderStatus.PENDING)
    warning = manual.early_fraud_warning(order.stripe_checkout_session_id)
    event = stripe_event("radar.early_fraud_warning.created", warning)
    post_event(client, event)
    post_event(client, event)  # a repeat of the same event id

    call_command("db_worker", batch=True, stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert state(order) == (Status.PAID, PaymentStatus.AUTHORIZED, FeedOrderStatus.FAILED)
    assert "fraud warning" in order.feed_order_error
    assert order.attention.reason == "fraud_warning"
    assert not capture_calls(manual)
    assert Notification.objects.filter(category=Category.ORDER_DISPUTE).count() == 1

    assert order_feed_order_retry(order=order, actor=staff, reason="Customer verified by phone")
    call_command("db_worker", batch=True, stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert state(order) == (Status.CONFIRMED, PaymentStatus.PAID, FeedOrderStatus.SUCCESS)
    assert not order.needs_attention


def test_a_fraud_warning_after_the_order_is_placed_only_alerts(
    stripe_api, client, shopper_client, demo_diamond
):
    order = start_checkout(shopper_client, demo_diamond)
    post_event(
        client,
        stripe_event(
            "checkout.session.completed", stripe_api.complete(order.stripe_checkout_session_id)
        ),
    )
    warning = stripe_api.early_fraud_warning(order.stripe_checkout_session_id, fraud_type="misc")
    post_event(client, stripe_event("radar.early_fraud_warning.created", warning))
    assert state(order) == (Status.CONFIRMED, PaymentStatus.PAID, FeedOrderStatus.SUCCESS)
    assert order.attention.reason == "fraud_warning"
    assert order.events.filter(kind="fraud_warning").exists()
    assert Notification.objects.filter(category=Category.ORDER_DISPUTE).count() == 1


# ---------------------------------------------------------------- events twice, out of order


def test_new_event_types_twice_and_out_of_order_settle_the_same_way(
    manual, client, shopper_client, make_diamond, staff
):
    from feeds.demo import FAILING_STONE_IDS

    order = start_checkout(
        shopper_client, make_diamond(supplier_stone_id=sorted(FAILING_STONE_IDS)[0])
    )
    session = manual.complete(order.stripe_checkout_session_id)
    intent = manual.intent_for(order.stripe_checkout_session_id)
    canceled = stripe_event("payment_intent.canceled", {**intent, "status": "canceled"})
    # The authorisation arrives as the PaymentIntent event first, then the session, twice.
    for event in [
        stripe_event("payment_intent.amount_capturable_updated", intent),
        stripe_event("checkout.session.completed", session),
        stripe_event("checkout.session.completed", session),
    ]:
        assert post_event(client, event).status_code == 200
    assert state(order) == (Status.PAID, PaymentStatus.AUTHORIZED, FeedOrderStatus.FAILED)
    assert order.events.filter(kind="authorized").count() == 1
    # The authorisation lapses at Stripe; the event comes twice; a late capture event after.
    post_event(client, canceled)
    post_event(client, {**canceled, "id": canceled["id"] + "b"})
    post_event(client, stripe_event("payment_intent.succeeded", {**intent, "status": "succeeded"}))
    assert state(order) == (Status.CANCELLED, PaymentStatus.VOIDED, FeedOrderStatus.FAILED)
    assert order.events.filter(kind="voided").count() == 1


# ---------------------------------------------------------------- supplier holds


class HoldingFeed(base.FeedAdapter):
    """A supplier with holds: remembers them, can deny them."""

    name = "holding"
    supports_holds = True
    holds: dict = {}
    deny = False

    def check_availability(self, diamond):
        return Availability.AVAILABLE

    def create_hold(self, diamond):
        if HoldingFeed.deny:
            raise base.FeedError("Hold denied: the stone is held by another buyer.")
        hold_id = f"H-{len(HoldingFeed.holds) + 1}"
        HoldingFeed.holds[hold_id] = "held"
        return hold_id

    def cancel_hold(self, hold_id):
        HoldingFeed.holds[hold_id] = "released"

    def create_order(self, diamond, *, reference, comments=""):
        return f"F-{reference}"


@pytest.fixture
def holding_feed(monkeypatch):
    monkeypatch.setitem(base._registry, HoldingFeed.name, HoldingFeed)
    HoldingFeed.holds, HoldingFeed.deny = {}, False
    return HoldingFeed


def test_checkout_holds_the_stone_and_expiry_releases_the_hold(
    stripe_api, client, shopper_client, make_diamond, holding_feed
):
    diamond = make_diamond(feed=HoldingFeed.name)
    order = start_checkout(shopper_client, diamond)
    order.refresh_from_db()
    assert order.feed_hold_id == "H-1"
    assert holding_feed.holds == {"H-1": "held"}

    session = stripe_api.expire(order.stripe_checkout_session_id)
    post_event(client, stripe_event("checkout.session.expired", session))
    assert holding_feed.holds == {"H-1": "released"}
    order.refresh_from_db()
    assert order.feed_hold_id == ""
    assert order.events.filter(kind="feed_hold_released").exists()


def test_a_denied_hold_answers_409_and_frees_the_stone(
    stripe_api, shopper_client, make_diamond, holding_feed
):
    holding_feed.deny = True
    diamond = make_diamond(feed=HoldingFeed.name)
    response = shopper_client.post(
        "/api/v2/checkout/create",
        data=json.dumps({"diamond_id": str(diamond.pk)}),
        content_type="application/json",
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "diamond_unavailable"
    assert "no longer available" in response.json()["error"]["message"]
    assert not stripe_api.calls("POST", "/v1/checkout/sessions")
    diamond.refresh_from_db()
    assert diamond.availability == Availability.AVAILABLE
    assert Order.objects.get().status == Status.FAILED


def test_the_hold_is_let_go_once_the_supplier_order_is_placed(
    stripe_api, client, shopper_client, make_diamond, holding_feed
):
    order = start_checkout(shopper_client, make_diamond(feed=HoldingFeed.name))
    post_event(
        client,
        stripe_event(
            "checkout.session.completed", stripe_api.complete(order.stripe_checkout_session_id)
        ),
    )
    assert state(order)[0] == Status.CONFIRMED
    assert holding_feed.holds == {"H-1": "released"}


# ---------------------------------------------------------------- what the shopper is emailed


def test_the_shopper_is_emailed_the_authorisation_then_the_confirmation_after_capture(
    manual, client, shopper_client, demo_diamond
):
    order = start_checkout(shopper_client, demo_diamond)
    authorise(client, manual, order)
    emails = Notification.objects.filter(kind=Notification.Kind.EMAIL, reference=order.order_number)
    subjects = list(emails.order_by("created_at", "id").values_list("title", flat=True))
    assert subjects == [
        f"We've received your payment — order {order.order_number}",
        f"Your order is confirmed — order {order.order_number}",
    ]
    first = emails.order_by("created_at", "id").first()
    assert "charge it only once your diamond is confirmed" in first.text.replace("\n", " ")


def test_a_cancelled_authorisation_emails_that_nothing_was_charged(
    manual, client, shopper_client, make_diamond, staff
):
    from feeds.demo import FAILING_STONE_IDS

    order = start_checkout(
        shopper_client, make_diamond(supplier_stone_id=sorted(FAILING_STONE_IDS)[0])
    )
    authorise(client, manual, order)
    order_cancel(order=order, actor=staff)
    titles = Notification.objects.filter(kind=Notification.Kind.EMAIL).values_list(
        "title", flat=True
    )
    assert f"Your order is cancelled — you have not been charged — order {order.order_number}" in (
        list(titles)
    )
    assert not any("confirmed" in title for title in titles)


def test_the_receipt_link_from_the_charge_reaches_the_order_page(
    stripe_api, client, shopper_client, demo_diamond
):
    order = start_checkout(shopper_client, demo_diamond)
    post_event(
        client,
        stripe_event(
            "checkout.session.completed", stripe_api.complete(order.stripe_checkout_session_id)
        ),
    )
    charge = stripe_api.charge_for(order.stripe_checkout_session_id)
    receipt = charge["receipt_url"]
    post_event(client, stripe_event("charge.succeeded", charge))
    post_event(client, stripe_event("charge.succeeded", {**charge, "receipt_url": "javascript:x"}))
    order.refresh_from_db()
    assert order.stripe_receipt_url == receipt
    page = shopper_client.get(f"/account/orders/{order.order_number}/").content.decode()
    assert receipt in page


def test_the_success_page_shows_an_authorised_payment_as_successful_before_the_webhook(
    manual, shopper_client, demo_diamond
):
    """Stripe's advice: fulfil on the success page. With manual capture the session says
    `unpaid`; its (expanded) PaymentIntent says `requires_capture`: the money is held."""
    order = start_checkout(shopper_client, demo_diamond)
    manual.complete(order.stripe_checkout_session_id)  # no webhook delivered yet

    page = shopper_client.get(
        "/checkout/success/",
        {"order": order.order_number, "session_id": order.stripe_checkout_session_id},
    )
    assert "Payment Successful" in page.content.decode()
    (retrieve,) = manual.calls("GET", "/v1/checkout/sessions/")
    assert retrieve["params"]["expand"] == ["payment_intent"]
    assert state(order)[1] in (PaymentStatus.AUTHORIZED, PaymentStatus.PAID)
    assert order.events.filter(kind="authorized").count() == 1


def test_reconciliation_fulfils_an_authorised_checkout_whose_webhook_was_missed(
    manual, shopper_client, demo_diamond
):
    order = start_checkout(shopper_client, demo_diamond)
    manual.complete(order.stripe_checkout_session_id)
    later = timezone.now() + timedelta(minutes=40)
    payments_reconcile(now=later)
    assert order.events.filter(kind="authorized").count() == 1
    assert state(order)[0] in (Status.PAID, Status.CONFIRMED)
