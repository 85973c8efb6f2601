"""The orders list exported as CSV: exactly the filtered rows, streamed."""

import csv
import io
import zoneinfo

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from orders.admin.export import HEADER
from orders.fulfilment import order_ship, order_stone_receive
from tests.factories import OrderFactory, UserFactory

EXPORT = reverse("admin:orders_order_export")


def exported(client, **params) -> list[list[str]]:
    response = client.get(EXPORT, params)
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"].startswith('attachment; filename="orders-')
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture
def logged_in(client, staff):
    client.force_login(staff)
    return client


@pytest.mark.django_db
def test_the_header_and_one_row(logged_in, settings):
    settings.TIME_ZONE = "Pacific/Auckland"
    order = OrderFactory(
        confirmed=True,
        amount_cents=123_456,
        user=UserFactory(email="ana@example.com"),
        feed_order_id="FEED-7",
    )
    header, row = exported(logged_in)
    assert header == list(HEADER)
    values = dict(zip(header, row, strict=True))
    assert values == {
        "order_number": order.order_number,
        "created_at": order.created_at.astimezone(zoneinfo.ZoneInfo("Pacific/Auckland")).isoformat(
            timespec="seconds"
        ),
        "customer_email": "ana@example.com",
        "feed": "demo",
        "stone_id": order.diamond.supplier_stone_id,
        "diamond": "ROUND 1.01ct",
        "amount": "1234.56",
        "currency": "NZD",
        "amount_refunded": "0.00",
        "status": "confirmed",
        "payment_status": "paid",
        "feed_order_status": "success",
        "feed_order_id": "FEED-7",
        "paid_at": values["paid_at"],
        "confirmed_at": values["confirmed_at"],
        "fulfilment_status": "awaiting_stone",
        "carrier": "",
        "tracking_number": "",
        "shipped_at": "",
        "delivered_at": "",
        "returned_at": "",
        "needs_attention": "no",
        "resolved_at": "",
    }
    assert values["paid_at"].endswith("+13:00") or values["paid_at"].endswith("+12:00")


@pytest.mark.django_db
def test_a_shipped_order_says_how_and_when(logged_in, settings):
    settings.TIME_ZONE = "Pacific/Auckland"
    order = OrderFactory(confirmed=True)
    order_stone_receive(order=order, actor=None)
    order_ship(order=order, actor=None, carrier="nzpost", tracking_number="=EG1NZ")
    values = dict(zip(*exported(logged_in), strict=True))
    assert (values["fulfilment_status"], values["carrier"]) == ("shipped", "nzpost")
    assert values["tracking_number"] == "'=EG1NZ"  # defused, as every text cell
    assert values["shipped_at"].endswith(("+13:00", "+12:00"))
    assert values["delivered_at"] == values["returned_at"] == ""


@pytest.mark.django_db
def test_exactly_the_filtered_and_searched_rows(logged_in):
    failed = [OrderFactory(feed_failed=True) for _ in range(3)]
    OrderFactory.create_batch(2, confirmed=True)
    OrderFactory()
    numbers = {row[0] for row in exported(logged_in, needs_attention="yes")[1:]}
    assert numbers == {o.order_number for o in failed}
    assert [row[0] for row in exported(logged_in, q=failed[1].order_number)[1:]] == [
        failed[1].order_number
    ]
    assert len(exported(logged_in, status__exact="confirmed")) == 1 + 2
    assert len(exported(logged_in)) == 1 + 6  # more than one page's worth is not cut


@pytest.mark.django_db
def test_every_row_not_only_the_first_page(logged_in):
    OrderFactory.create_batch(120)
    assert len(exported(logged_in)) == 1 + 120


@pytest.mark.django_db
def test_a_cell_that_looks_like_a_formula_is_defused(logged_in):
    OrderFactory(user=UserFactory(email="=HYPERLINK(evil)@example.com"))
    (row,) = exported(logged_in)[1:]
    assert row[2] == "'=HYPERLINK(evil)@example.com"


@pytest.mark.django_db
def test_the_list_links_its_own_filters_to_the_export(logged_in):
    html = logged_in.get(reverse("admin:orders_order_changelist"), {"status__exact": "paid"})
    assert f'href="{EXPORT}?status__exact=paid"' in html.content.decode()


@pytest.mark.django_db
def test_the_export_needs_the_view_permission(client):
    client.force_login(UserFactory(is_staff=True))
    assert client.get(EXPORT).status_code == 403
