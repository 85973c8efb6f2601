from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from catalog.models import Availability, Diamond, Feed
from tests.factories import DiamondFactory


def refused(**fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        DiamondFactory(**fields)


@pytest.mark.django_db
def test_a_stone_is_unique_per_feed():
    DiamondFactory(feed=Feed.DEMO, supplier_stone_id="S-1")
    refused(feed=Feed.DEMO, supplier_stone_id="S-1")
    DiamondFactory(feed=Feed.NIVODA, supplier_stone_id="S-1")
    assert Diamond.objects.filter(supplier_stone_id="S-1").count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("carats", [Decimal("0"), Decimal("-0.50")])
def test_carats_must_be_positive(carats):
    refused(carats=carats)


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["price_nzd", "price_model_nzd"])
def test_prices_cannot_be_negative_but_may_be_zero_or_missing(field):
    refused(**{field: Decimal("-0.01")})
    DiamondFactory(**{field: Decimal("0")})
    DiamondFactory(**{field: None})


@pytest.mark.django_db
def test_availability_must_be_a_known_value():
    refused(availability="gone")


@pytest.mark.django_db
def test_price_prefers_the_retail_price_and_falls_back_to_cost():
    assert DiamondFactory.build(price_nzd=Decimal(1), price_model_nzd=Decimal(2)).price == 2
    assert DiamondFactory.build(price_nzd=Decimal(1), price_model_nzd=None).price == 1
    assert DiamondFactory.build().availability == Availability.AVAILABLE
