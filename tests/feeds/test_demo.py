from decimal import ROUND_HALF_UP, Decimal

import pytest

from catalog.models import Availability, Feed
from feeds.base import FeedError
from feeds.demo import FAIL_PREFIX, FAILING_STONE_IDS, SHAPES, DemoFeed, demo_stones
from feeds.registry import get_adapter
from tests.factories import DiamondFactory


@pytest.fixture
def demo():
    return get_adapter("demo")


def test_the_demo_feed_is_registered(demo):
    assert isinstance(demo, DemoFeed)
    with pytest.raises(FeedError, match="Unknown feed 'nope'; known feeds: demo, nivoda"):
        get_adapter("nope")


def test_stones_are_deterministic_and_varied():
    stones = demo_stones()
    assert stones == demo_stones()
    assert len(stones) == 40
    assert len({s.supplier_stone_id for s in stones}) == 40
    assert len({s.offer_id for s in stones}) == 40
    assert {s.shape for s in stones} == set(SHAPES)
    assert {s.color for s in stones} == set("DEFGHIJK")
    assert {s.clarity for s in stones} == {"FL", "IF", "VVS1", "VVS2", "VS1", "VS2", "SI1", "SI2"}
    assert {s.lab for s in stones} == {"GIA", "IGI", "HRD"}
    assert min(s.carats for s in stones) == Decimal("0.30")
    assert max(s.carats for s in stones) == Decimal("5.00")
    for stone in stones:
        assert stone.certificate_number.removeprefix("LG").isdigit()
        assert stone.availability == Availability.AVAILABLE
        assert Decimal(0) < stone.price_nzd < stone.price_model_nzd


def test_prices_come_from_the_pricing_model(settings):
    settings.FEED_MARKUP_PERCENT = Decimal("0")
    settings.PRICE_ROUNDING_NZD = Decimal("0.01")
    natural = next(s for s in demo_stones() if not s.lab_grown)
    assert natural.price_nzd == natural.price_model_nzd
    settings.FEED_USD_TO_NZD_RATE = settings.FEED_USD_TO_NZD_RATE * 2
    assert demo_stones()[1].price_nzd == natural.price_nzd * 2


def test_lab_grown_stones_take_their_own_markup(settings):
    settings.FEED_MARKUP_PERCENT = Decimal("0")
    settings.FEED_MARKUP_PERCENT_LAB_GROWN = Decimal("100")
    for stone in demo_stones():
        expected = stone.price_nzd * (2 if stone.lab_grown else 1)
        assert stone.price_model_nzd == expected.quantize(Decimal("1"), ROUND_HALF_UP)


def test_about_forty_percent_are_lab_grown_with_photos_and_measurements():
    stones = demo_stones()
    lab_grown = [s for s in stones if s.lab_grown]
    assert 0.35 <= len(lab_grown) / len(stones) <= 0.45
    assert {s.lab for s in lab_grown} == {"IGI"}
    assert all(s.certificate_number.startswith("LG") for s in lab_grown)
    with_photo = [s for s in stones if s.image_url]
    assert len(with_photo) >= 0.85 * len(stones)
    assert all(s.image_url.startswith("/static/catalog/photos/") for s in with_photo)
    for stone in stones:
        assert stone.length_mm and stone.width_mm and stone.depth_mm
        assert Decimal(55) < stone.depth_percent < Decimal(65)
        assert Decimal(50) < stone.table_percent < Decimal(62)
        assert stone.fluorescence in {"None", "Faint", "Medium", "Strong"}
        assert stone.certificate_url.startswith("https://")
        assert stone.certificate_number in stone.certificate_url
        assert stone.price_model_nzd == stone.price_model_nzd.to_integral_value()


def test_the_stones_seeded_orders_use_stay_natural_purchasable_stones():
    stones = {s.supplier_stone_id: s for s in demo_stones()}
    for stone_id in ("DEMO-0002", "DEMO-0003", "DEMO-0006"):
        assert stones[stone_id].availability == Availability.AVAILABLE
        assert stones[stone_id].price_model_nzd > 0
    assert {"DEMO-FAIL-0005", "DEMO-FAIL-0014", "DEMO-FAIL-0028"} <= set(stones)


def test_search_pages_over_the_stones(demo):
    first, rest, beyond = (
        demo.search(offset=0, limit=10),
        demo.search(offset=10, limit=100),
        demo.search(offset=40, limit=10),
    )
    assert (len(first.stones), len(rest.stones), len(beyond.stones)) == (10, 30, 0)
    assert first.total_count == rest.total_count == 40
    assert first.stones + rest.stones == demo_stones()
    assert [len(p.stones) for p in demo.iter_pages(page_size=16)] == [16, 16, 8]
    assert [len(p.stones) for p in demo.iter_pages(page_size=16, limit=20)] == [16, 4]


@pytest.mark.django_db
def test_availability_comes_from_the_demo_data(demo):
    known = DiamondFactory(feed=Feed.DEMO, supplier_stone_id=demo_stones()[3].supplier_stone_id)
    assert demo.check_availability(known) == Availability.AVAILABLE
    assert demo.check_availability(DiamondFactory(supplier_stone_id="X")) == "unavailable"


@pytest.mark.django_db
def test_an_order_returns_a_supplier_order_id(demo):
    diamond = DiamondFactory(supplier_stone_id="DEMO-0001", offer_id="DEMO-OFFER-0001")
    assert demo.create_order(diamond, reference="DO-20261124-0001") == "DEMO-DO-20261124-0001"


@pytest.mark.django_db
def test_every_order_fails_while_the_setting_is_on(demo, settings):
    diamond = DiamondFactory(supplier_stone_id="DEMO-0001", offer_id="DEMO-OFFER-0001")
    settings.DEMO_FEED_FAIL_ORDERS = True
    with pytest.raises(FeedError) as failure:
        demo.create_order(diamond, reference="DO-20261124-0002")
    message = str(failure.value)
    assert "DO-20261124-0002" in message
    assert "DEMO-0001" in message and "DEMO-OFFER-0001" in message
    assert "DEMO_FEED_FAIL_ORDERS" in message and "retry" in message
    assert failure.value.outcome_unknown is False
    settings.DEMO_FEED_FAIL_ORDERS = False
    assert demo.create_order(diamond, reference="DO-20261124-0002") == "DEMO-DO-20261124-0002"


@pytest.mark.django_db
def test_failing_stones_always_fail_but_look_normal(demo):
    stones = {s.supplier_stone_id: s for s in demo_stones()}
    assert len(FAILING_STONE_IDS) == 3
    for stone_id in FAILING_STONE_IDS:
        assert stone_id.startswith(FAIL_PREFIX)
        stone = stones[stone_id]
        assert stone.availability == Availability.AVAILABLE
        diamond = DiamondFactory(supplier_stone_id=stone_id, offer_id=stone.offer_id)
        assert demo.check_availability(diamond) == Availability.AVAILABLE
        with pytest.raises(FeedError, match=f"{stone_id}.*{stone.offer_id}.*always fail"):
            demo.create_order(diamond, reference="DO-20261124-0003")
    assert sum(s.startswith(FAIL_PREFIX) for s in stones) == 3


@pytest.mark.django_db
def test_an_unknown_stone_cannot_be_ordered(demo):
    with pytest.raises(FeedError, match="has no stone NOT-DEMO"):
        demo.create_order(DiamondFactory(supplier_stone_id="NOT-DEMO"), reference="DO-1")
