"""Input the store cannot handle is refused before any view (`RequestInputMiddleware`), and
the admin's own pages answer a malformed value as Django's list does: never a 500."""

import logging

import pytest
from django.test import Client

from orders.models import Order
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops_client(client, ops_group):
    from tests.factories import StaffFactory

    ops = StaffFactory(is_superuser=False)
    ops.groups.add(ops_group)
    client.force_login(ops)
    return client


@pytest.mark.parametrize("query", ["status__exact=%00", "feed__exact=a%00b", "q=%00", "%00=paid"])
def test_a_nul_in_the_orders_list_filters_is_a_400(ops_client, query):
    OrderFactory()
    assert ops_client.get(f"/admin/orders/order/?{query}").status_code == 400


def test_a_nul_in_a_posted_form_is_a_400_and_changes_nothing(ops_client):
    order = OrderFactory(feed_failed=True)
    response = ops_client.post(
        "/admin/orders/order/",
        data="action=mark_resolved&_selected_action=%00",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    order.refresh_from_db()
    assert order.resolved_at is None


def test_a_nul_in_the_shops_query_strings_is_a_400(client):
    assert client.get("/?shape=%00").status_code == 400


@pytest.mark.parametrize(
    "query",
    ["next=", "status__exact=nonsense&created_at__gte=yesterday", "paid=forever", "p=abc"],
)
def test_the_export_answers_a_filter_it_cannot_apply_as_the_list_does(ops_client, query):
    OrderFactory()
    listed = ops_client.get(f"/admin/orders/order/?{query}")
    exported = ops_client.get(f"/admin/orders/order/export.csv?{query}")
    if listed.status_code == 302:
        assert listed["Location"].endswith("?e=1")
        assert exported.status_code == 302
        assert exported["Location"] == "/admin/orders/order/?e=1"
    else:  # a value the list ignores: the export ignores it too
        assert exported.status_code == 200


def test_view_on_site_answers_404_to_an_id_its_model_cannot_take(ops_client):
    from django.contrib.contenttypes.models import ContentType

    order_type = ContentType.objects.get_for_model(Order)
    assert ops_client.get(f"/admin/r/{order_type.pk}/12/").status_code == 404


def test_a_broken_multipart_body_is_a_400_even_where_no_page_exists():
    """Django's own 404 page parsed it (for the CSRF token) and failed with a 500."""
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = "x" * 32
    for content_type in ("multipart/form-data", "multipart/form-data; boundary=b"):
        response = client.generic(
            "POST",
            "/no-such-page/",
            data=b"a=1" * 40_000,
            content_type=content_type,
            headers={"X-CSRFToken": "x" * 32},
        )
        assert response.status_code == 400


def test_an_oversized_form_is_a_413_logged_as_a_warning(client, caplog):
    with caplog.at_level(logging.WARNING):
        response = client.post(
            "/accounts/login/",
            data=b"username=" + b"x" * 3_000_000,
            content_type="application/x-www-form-urlencoded",
        )
    assert response.status_code == 413
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
