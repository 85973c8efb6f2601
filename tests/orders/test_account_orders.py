import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.utils import timezone

from orders.models import Order, Status
from orders.selectors.shopper import order_list_for_customer, order_shopper_status
from tests.factories import DiamondFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/account/orders/"
FEED_ERROR = "GraphQL error: offer OFFER-123 not found (supplier timeout, outcome unknown)"

# Every order state, as the webhook/feed code leaves it, with what the shopper reads.
STATES = [
    ({"status": "pending_payment"}, "Awaiting payment"),
    (
        {"status": "paid", "payment_status": "paid", "feed_order_status": "pending"},
        "Processing",
    ),
    (
        {
            "status": "paid",
            "payment_status": "paid",
            "feed_order_status": "failed",
            "feed_order_error": FEED_ERROR,
        },
        "Processing",
    ),
    (
        {
            "status": "confirmed",
            "payment_status": "paid",
            "feed_order_status": "success",
            "fulfilment_status": "awaiting_stone",
        },
        "Confirmed",
    ),
    ({"status": "failed", "payment_status": "failed"}, "Payment failed"),
    ({"status": "expired", "payment_status": "expired"}, "Checkout expired"),
    (
        {"status": "cancelled", "payment_status": "refunded", "feed_order_status": "failed"},
        "Cancelled",
    ),
]


def text(response) -> str:
    html = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", unescape(html))


def test_every_status_has_its_own_shopper_words():
    def unsaved(status):
        order = OrderFactory.build(status=status)
        order.payment_processing = False  # what the list's query annotates
        return order

    labels = {order_shopper_status(order=unsaved(s)).label for s in Status.values}
    assert len(labels) == len(Status.values)


@pytest.mark.parametrize(("fields", "label"), STATES)
def test_status_label(fields, label):
    assert order_shopper_status(order=OrderFactory(**fields)).label == label


def test_requires_login(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={URL}"


def test_shows_only_the_shoppers_own_orders_newest_first(client, shopper):
    now = timezone.now()
    old = OrderFactory(user=shopper, order_number="DO-20260101-0001")
    new = OrderFactory(user=shopper, order_number="DO-20260102-0001")
    OrderFactory(user=UserFactory(), order_number="DO-20260102-0002")
    old.created_at = now - timedelta(days=1)
    old.save(update_fields=["created_at"])
    new.created_at = now
    new.save(update_fields=["created_at"])

    assert list(order_list_for_customer(user=shopper)) == [new, old]
    client.force_login(shopper)
    page = text(client.get(URL))

    assert page.index("DO-20260102-0001") < page.index("DO-20260101-0001")
    assert "DO-20260102-0002" not in page


def test_row_shows_number_diamond_amount_date_and_status(client, shopper):
    diamond = DiamondFactory(shape="OVAL", carats=Decimal("1.50"), availability="sold")
    OrderFactory(
        user=shopper,
        diamond=diamond,
        order_number="DO-20260315-0042",
        amount_cents=1234500,
        created_at=datetime(2026, 3, 15, 0, 30, tzinfo=UTC),  # 1:30 p.m. in Auckland
        status="confirmed",
        payment_status="paid",
        feed_order_status="success",
        fulfilment_status="awaiting_stone",
    )
    client.force_login(shopper)

    page = text(client.get(URL))

    assert "DO-20260315-0042" in page
    assert "Oval 1.50ct" in page
    assert "$12,345.00 NZD" in page
    assert "15 Mar 2026" in page
    assert "Confirmed" in page


@pytest.mark.parametrize(("fields", "label"), STATES)
def test_status_in_customer_words_never_internal_detail(client, shopper, fields, label):
    OrderFactory(user=shopper, **fields)
    client.force_login(shopper)

    response = client.get(URL)
    page = text(response)

    assert response.status_code == 200
    assert label in page
    assert FEED_ERROR not in page
    assert "GraphQL" not in page
    for internal in ("pending_payment", "not_attempted", "feed", "Feed", "cs_test_factory"):
        assert internal not in page


def test_awaiting_payment_order_offers_to_complete_payment(client, shopper):
    order = OrderFactory(user=shopper)
    client.force_login(shopper)

    html = client.get(URL).content.decode()

    form = re.search(r'<form method="post" action="/checkout/create/">(.*?)</form>', html, re.S)
    assert f'name="diamond_id" value="{order.diamond_id}"' in form.group(1)
    assert "Complete payment" in form.group(1)


def test_closed_orders_offer_no_payment(client, shopper):
    OrderFactory(user=shopper, status="expired", payment_status="expired")
    client.force_login(shopper)

    assert "diamond_id" not in client.get(URL).content.decode()


def test_no_orders_yet(client, shopper):
    client.force_login(shopper)

    page = text(client.get(URL))

    assert "You haven't placed any orders yet." in page


@pytest.mark.django_db
def test_my_orders_shows_one_row_per_purchase_with_earlier_attempts_folded_under_it(client):
    shopper = UserFactory()
    stone = DiamondFactory()
    failed = OrderFactory(user=shopper, diamond=stone, failed=True)
    expired = OrderFactory(user=shopper, diamond=stone, expired=True)
    bought = OrderFactory(user=shopper, diamond=stone, paid=True)
    other = OrderFactory(user=shopper, failed=True)  # another stone: its own row
    for age, order in enumerate([bought, expired, failed]):
        Order.objects.filter(pk=order.pk).update(
            created_at=timezone.now() - timedelta(hours=age + 1)
        )
    client.force_login(shopper)

    html = client.get("/account/orders/").content.decode()
    rows = re.findall(r"<tr>.*?</tr>", html, re.S)[1:]
    assert len(rows) == 2
    purchase = next(row for row in rows if bought.order_number in row)
    assert "Processing" in purchase and "2 earlier attempts" in purchase
    assert failed.order_number in purchase and expired.order_number in purchase
    assert "Payment failed" in purchase and "Checkout expired" in purchase
    assert any(other.order_number in row and "Payment failed" in row for row in rows)
