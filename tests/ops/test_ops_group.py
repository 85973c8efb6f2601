"""The Ops group (created by a migration) is enough for every triage action, and nothing
more: no editing of users, groups, orders' fields or the feed's stones."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from notifications.models import Category, Notification
from orders.models import Order
from payments.models import WebhookEvent
from tests.factories import DiamondFactory, OrderFactory, StaffFactory, simulated_payment

OPS_PERMISSIONS = {
    "catalog.change_diamond",
    "catalog.view_diamond",
    "notifications.view_notification",
    "orders.cancel_order",
    "orders.capture_payment",
    "orders.fulfil_order",
    "orders.refund_order",
    "orders.resolve_order",
    "orders.retry_feed_order",
    "orders.view_order",
    "orders.view_orderevent",
    "payments.process_webhookevent",
    "payments.view_webhookevent",
}


def action(order, name):
    return reverse("admin:orders_order_action", args=[order.pk, name])


@pytest.fixture
def ops(ops_group):
    user = StaffFactory(is_superuser=False)
    user.groups.add(ops_group)
    return user


@pytest.fixture
def ops_client(client, ops):
    client.force_login(ops)
    return client


@pytest.fixture
def simulator(settings):
    settings.DEBUG = True
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""


@pytest.mark.django_db
def test_the_migration_created_the_group_with_exactly_these_permissions(ops_group):
    group = Group.objects.get(name="Ops")
    held = {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }
    assert held == OPS_PERMISSIONS
    assert not any(p.startswith("auth.") for p in held)


@pytest.mark.django_db
def test_ops_see_the_dashboard_the_orders_the_logs_and_export(ops_client):
    order = OrderFactory(feed_failed=True)
    note = Notification.objects.create(
        category=Category.ORDER_FEED_FAILURE, channel="#e", title="t"
    )
    event = WebhookEvent.objects.create(stripe_event_id="evt_1", type="x", payload={})
    assert "How we are doing" in ops_client.get(reverse("admin:index")).content.decode()
    for url in [
        reverse("admin:orders_order_changelist"),
        reverse("admin:orders_order_change", args=[order.pk]),
        reverse("admin:orders_order_history", args=[order.pk]),
        reverse("admin:orders_orderevent_changelist"),
        reverse("admin:notifications_notification_change", args=[note.pk]),
        reverse("admin:payments_webhookevent_change", args=[event.pk]),
        reverse("admin:catalog_diamond_change", args=[order.diamond.pk]),
        reverse("admin:orders_order_export"),
    ]:
        assert ops_client.get(url).status_code == 200, url


@pytest.mark.django_db
def test_ops_can_run_every_triage_action(ops_client, ops, simulator):
    failed = OrderFactory(feed_failed=True)
    ops_client.post(action(failed, "retry"), {"confirm": "yes"})
    assert failed.events.get(kind="feed_order_retried").actor == ops

    to_resolve = OrderFactory(mismatch=True)
    ops_client.post(
        action(to_resolve, "resolve"), {"confirm": "yes", "note": "Checked.", "money": "keep"}
    )
    assert Order.objects.get(pk=to_resolve.pk).resolved_by == ops

    def simulated(**fields):
        return simulated_payment(OrderFactory(**fields))

    to_refund = simulated(confirmed=True)
    ops_client.post(
        action(to_refund, "refund"),
        {"confirm": "yes", "amount": "10.00", "release_diamond": "no", "reason": "Goodwill."},
    )
    assert Order.objects.get(pk=to_refund.pk).amount_refunded_cents == 1000

    to_capture = simulated(
        paid=True, payment_status="authorized", feed_order_status="success", payment_error="x"
    )
    ops_client.post(action(to_capture, "capture"), {"confirm": "yes"})
    assert Order.objects.get(pk=to_capture.pk).status == "confirmed"

    to_cancel = simulated(feed_failed=True, payment_status="authorized")
    ops_client.post(action(to_cancel, "cancel"), {"confirm": "yes", "reason": "Sold out."})
    assert Order.objects.get(pk=to_cancel.pk).payment_status == "voided"

    stone = DiamondFactory()
    ops_client.post(
        reverse("admin:catalog_diamond_changelist"),
        {"action": "withdraw", "_selected_action": [str(stone.pk)]},
    )
    stone.refresh_from_db()
    assert stone.availability == "unavailable"

    broken = WebhookEvent.objects.create(
        stripe_event_id="evt_broken",
        type="some.unhandled_type",
        payload={"id": "evt_broken", "type": "some.unhandled_type", "data": {"object": {}}},
        processing_error="KeyError('x')",
    )
    ops_client.post(reverse("admin:payments_webhookevent_process_again", args=[broken.pk]))
    broken.refresh_from_db()
    assert broken.processed_at is not None and broken.processing_error == ""


@pytest.mark.django_db
def test_ops_cannot_edit_users_groups_or_permissions(ops_client, ops):
    for name in ["auth_user", "auth_group"]:
        for view in ["changelist", "add"]:
            url = reverse(f"admin:{name}_{view}")
            assert ops_client.get(url).status_code == 403, url
    assert ops_client.get(reverse("admin:auth_user_change", args=[ops.pk])).status_code == 403
    ops_client.post(
        reverse("admin:auth_user_change", args=[ops.pk]),
        {"username": ops.username, "is_superuser": "on"},
    )
    ops.refresh_from_db()
    assert not ops.is_superuser
    assert not ops.user_permissions.exists()
    index = ops_client.get(reverse("admin:index")).content.decode()
    assert "/admin/auth/" not in index


@pytest.mark.django_db
def test_ops_cannot_change_orders_logs_or_stones_by_hand(ops_client):
    order = OrderFactory(feed_failed=True)
    stone = DiamondFactory()
    event = WebhookEvent.objects.create(stripe_event_id="evt_2", type="x", payload={})
    assert ops_client.get(reverse("admin:orders_order_add")).status_code == 403
    assert (
        ops_client.post(
            reverse("admin:orders_order_delete", args=[order.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert ops_client.get(reverse("admin:catalog_diamond_add")).status_code == 403
    assert (
        ops_client.post(
            reverse("admin:catalog_diamond_delete", args=[stone.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert (
        ops_client.post(
            reverse("admin:payments_webhookevent_delete", args=[event.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    ops_client.post(
        reverse("admin:catalog_diamond_change", args=[stone.pk]),
        {"price_model_nzd": "1.00", "carats": "9.99"},
    )
    stone.refresh_from_db()
    assert str(stone.price_model_nzd) == "12345.00" and str(stone.carats) == "1.01"


@pytest.mark.django_db
def test_no_permission_outside_the_group_is_needed(ops):
    # Everything the triage views check is in the group: nothing given to the user itself.
    assert ops.get_all_permissions() == OPS_PERMISSIONS
    assert Permission.objects.filter(user=ops).count() == 0
