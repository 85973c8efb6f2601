from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import Availability, Feed
from tests.factories import DiamondFactory


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    return client


@pytest.mark.django_db
def test_the_diamond_list_shows_formatted_prices_and_filters(admin_client):
    DiamondFactory(
        supplier_stone_id="NIV-77",
        feed=Feed.NIVODA,
        price_nzd=Decimal("9876.5"),
        price_model_nzd=Decimal("1234567.00"),
    )
    response = admin_client.get(reverse("admin:catalog_diamond_changelist"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "NIV-77" in page
    assert "$1,234,567.00 NZD" in page and "$9,876.50 NZD" in page
    for parameter in ("feed__exact", "availability__exact", "shape", "color", "clarity", "lab"):
        assert parameter in page


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["supplier_stone_id", "offer_id", "certificate_number"])
def test_ops_find_a_stone_by_its_identifiers(admin_client, field):
    wanted = DiamondFactory(supplier_stone_id="S-1", offer_id="O-1", certificate_number="C-1")
    DiamondFactory(supplier_stone_id="S-2", offer_id="O-2", certificate_number="C-2")
    value = getattr(wanted, field)
    response = admin_client.get(reverse("admin:catalog_diamond_changelist"), {"q": value})
    assert list(response.context["cl"].result_list) == [wanted]


@pytest.mark.django_db
def test_filtering_by_availability(admin_client):
    DiamondFactory(supplier_stone_id="FREE")
    held = DiamondFactory(supplier_stone_id="HELD", availability=Availability.ON_HOLD)
    response = admin_client.get(
        reverse("admin:catalog_diamond_changelist"), {"availability__exact": "on_hold"}
    )
    assert list(response.context["cl"].result_list) == [held]
