"""Diamonds in the admin: the feed's data is read-only; a stone with orders is withdrawn
from sale, never deleted."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.urls import reverse

from catalog.models import Availability, Diamond
from tests.factories import DiamondFactory, OrderFactory

CHANGELIST = reverse("admin:catalog_diamond_changelist")


@pytest.fixture
def logged_in(client, staff):
    client.force_login(staff)
    return client


@pytest.mark.django_db
def test_every_field_is_read_only_and_stones_are_not_added_by_hand(logged_in):
    stone = DiamondFactory()
    page = logged_in.get(reverse("admin:catalog_diamond_change", args=[stone.pk]))
    assert page.context["adminform"].form.fields == {}
    logged_in.post(reverse("admin:catalog_diamond_change", args=[stone.pk]), {"carats": "5"})
    stone.refresh_from_db()
    assert str(stone.carats) == "1.01"
    assert logged_in.get(reverse("admin:catalog_diamond_add")).status_code == 403


@pytest.mark.django_db
def test_a_stone_with_orders_cannot_be_deleted(logged_in):
    ordered = OrderFactory().diamond
    free = DiamondFactory()
    delete = reverse("admin:catalog_diamond_delete", args=[ordered.pk])
    assert logged_in.post(delete, {"post": "yes"}).status_code == 403
    page = logged_in.post(
        CHANGELIST,
        {
            "action": "delete_selected",
            "_selected_action": [str(ordered.pk), str(free.pk)],
            "post": "yes",
        },
    )
    assert "Cannot delete diamonds" in page.content.decode()
    assert Diamond.objects.filter(pk=ordered.pk).exists()
    # a stone without orders may still be deleted (by someone allowed to)
    logged_in.post(reverse("admin:catalog_diamond_delete", args=[free.pk]), {"post": "yes"})
    assert not Diamond.objects.filter(pk=free.pk).exists()


@pytest.mark.django_db
def test_withdraw_takes_stones_off_sale_and_leaves_ordered_ones(logged_in, staff):
    on_sale = DiamondFactory(supplier_stone_id="FREE-1")
    held = DiamondFactory(supplier_stone_id="HOLD-1", availability=Availability.ON_HOLD)
    reserved = OrderFactory(
        diamond=DiamondFactory(supplier_stone_id="RES-1", availability=Availability.RESERVED)
    ).diamond
    response = logged_in.post(
        CHANGELIST,
        {"action": "withdraw", "_selected_action": [str(d.pk) for d in (on_sale, held, reserved)]},
        follow=True,
    )
    states = dict(Diamond.objects.values_list("supplier_stone_id", "availability"))
    assert states == {"FREE-1": "unavailable", "HOLD-1": "unavailable", "RES-1": "reserved"}
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(t.startswith("Withdrew 2 stone(s) from sale") for t in texts)
    assert any("RES-1 (reserved)" in t for t in texts)
    logged = LogEntry.objects.filter(user=staff).values_list("object_repr", flat=True)
    assert len(logged) == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changelist", "action"),
    [("admin:catalog_diamond_changelist", "withdraw"), ("admin:orders_order_changelist", "retry")],
)
def test_a_selected_id_that_names_no_row_is_refused_not_a_server_error(
    logged_in, changelist, action
):
    stone = DiamondFactory()
    response = logged_in.post(
        reverse(changelist),
        {"action": action, "_selected_action": [str(stone.pk), "not-a-uuid"]},
        follow=True,
    )

    assert response.status_code == 200
    assert "Some of the selected items do not exist." in response.content.decode()
    stone.refresh_from_db()
    assert stone.availability == "available"
