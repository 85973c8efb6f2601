from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog import selectors
from catalog.models import Availability, Diamond
from catalog.selectors import (
    DiamondResults,
    diamond_filter_values,
    diamond_filter_values_forget,
    diamond_list,
    diamond_page,
)
from feeds.base import Stone
from feeds.importing import diamonds_upsert, diamonds_withdraw_missing
from tests.factories import DiamondFactory

pytestmark = pytest.mark.django_db


def ids(qs):
    return [d.supplier_stone_id for d in qs]


def test_lists_only_available_stones_with_a_retail_price():
    DiamondFactory(supplier_stone_id="A")
    for state in ("reserved", "on_hold", "sold", "unavailable"):
        DiamondFactory(supplier_stone_id=state, availability=state)
    DiamondFactory(supplier_stone_id="no-price", price_model_nzd=None)

    assert ids(diamond_list(filters={})) == ["A"]


def test_shape_filter():
    DiamondFactory(supplier_stone_id="round", shape="ROUND")
    DiamondFactory(supplier_stone_id="oval", shape="OVAL")

    assert ids(diamond_list(filters={"shape": "OVAL"})) == ["oval"]


def test_carat_range_is_inclusive():
    for carats in ("0.50", "1.00", "1.50", "2.00"):
        DiamondFactory(supplier_stone_id=carats, carats=Decimal(carats))

    found = diamond_list(
        filters={"carat_min": Decimal("1.00"), "carat_max": Decimal("1.50")}, sort="carats"
    )

    assert ids(found) == ["1.00", "1.50"]


def test_price_range_uses_the_retail_price():
    DiamondFactory(supplier_stone_id="cheap", price_nzd=Decimal("9000"), price_model_nzd=1000)
    DiamondFactory(supplier_stone_id="mid", price_nzd=Decimal("1"), price_model_nzd=5000)
    DiamondFactory(supplier_stone_id="dear", price_nzd=Decimal("1"), price_model_nzd=9000)

    found = diamond_list(filters={"price_min": Decimal("5000"), "price_max": Decimal("8999.99")})

    assert ids(found) == ["mid"]


@pytest.mark.parametrize(
    ("field", "values", "expected"),
    [
        ("color", ["D", "F"], ["d", "f"]),
        ("clarity", ["VS1"], ["e"]),
        ("cut", ["VG"], ["e"]),
    ],
)
def test_grade_filters_match_any_of_the_chosen_values(field, values, expected):
    DiamondFactory(supplier_stone_id="d", color="D", clarity="IF", cut="EX")
    DiamondFactory(supplier_stone_id="e", color="E", clarity="VS1", cut="VG")
    DiamondFactory(supplier_stone_id="f", color="F", clarity="SI1", cut="GD")

    assert sorted(ids(diamond_list(filters={field: values}))) == expected


def test_filters_combine():
    DiamondFactory(supplier_stone_id="hit", shape="OVAL", color="E", carats=Decimal("1.2"))
    DiamondFactory(supplier_stone_id="wrong-color", shape="OVAL", color="H", carats=Decimal("1.2"))
    DiamondFactory(supplier_stone_id="wrong-shape", shape="PEAR", color="E", carats=Decimal("1.2"))
    DiamondFactory(supplier_stone_id="too-small", shape="OVAL", color="E", carats=Decimal("0.5"))

    found = diamond_list(filters={"shape": "OVAL", "color": ["E"], "carat_min": Decimal("1")})

    assert ids(found) == ["hit"]


def test_empty_filter_values_are_ignored():
    DiamondFactory(supplier_stone_id="A")

    found = diamond_list(filters={"shape": "", "color": [], "carat_min": None})

    assert ids(found) == ["A"]


@pytest.fixture
def three_stones():
    now = timezone.now()
    stones = [
        DiamondFactory(supplier_stone_id="small-dear", carats=Decimal("0.5"), price_model_nzd=9000),
        DiamondFactory(supplier_stone_id="big-cheap", carats=Decimal("2.0"), price_model_nzd=3000),
        DiamondFactory(supplier_stone_id="mid-mid", carats=Decimal("1.0"), price_model_nzd=6000),
    ]
    # created_at is auto_now_add: set distinct ages explicitly.
    for age, stone in enumerate(stones):
        Diamond.objects.filter(pk=stone.pk).update(created_at=now - timedelta(days=age))
    return stones


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("price", ["big-cheap", "mid-mid", "small-dear"]),
        ("-price", ["small-dear", "mid-mid", "big-cheap"]),
        ("carats", ["small-dear", "mid-mid", "big-cheap"]),
        ("-carats", ["big-cheap", "mid-mid", "small-dear"]),
        ("newest", ["small-dear", "big-cheap", "mid-mid"]),
        ("nonsense", ["big-cheap", "mid-mid", "small-dear"]),
    ],
)
def test_sort_orders(three_stones, sort, expected):
    assert ids(diamond_list(filters={}, sort=sort)) == expected


@pytest.fixture
def correlated_stones():
    """90 stones whose price rises with carats (the catalog's usual shape), in two
    origins, with ties on price and on carats, a few not available or unpriced."""
    stones = []
    for i in range(90):
        carats = Decimal("0.30") + Decimal(i % 30) * Decimal("0.07")
        lab_grown = i % 3 == 0
        price = int(carats * 4000) // (4 if lab_grown else 1) + (i % 2) * 100
        stones.append(
            DiamondFactory.build(
                supplier_stone_id=f"S{i:03d}",
                carats=carats,
                price_model_nzd=Decimal(price),
                lab_grown=lab_grown,
                color="DEFGH"[i % 5],
                shape=("ROUND", "OVAL")[i % 2],
                availability="sold" if i % 17 == 5 else "available",
            )
        )
    stones[7].price_model_nzd = None
    Diamond.objects.bulk_create(stones)


PAGE_CASES = [
    ({"carat_min": Decimal("1.00"), "carat_max": Decimal("1.50")}, "-price"),
    ({"carat_min": Decimal("1.00"), "carat_max": Decimal("1.50")}, "price"),
    ({"carat_min": Decimal("0.995"), "carat_max": Decimal("1.505")}, "-price"),
    ({"carat_min": Decimal("1.5")}, "price"),
    ({"carat_max": Decimal("0.9"), "color": ["D", "E"]}, "-price"),
    ({"carat_min": Decimal("2.5"), "carat_max": Decimal("2.0")}, "price"),
    ({"price_min": Decimal("1000"), "price_max": Decimal("3000")}, "-carats"),
    ({"price_min": Decimal("1000"), "price_max": Decimal("3000")}, "carats"),
    ({"price_max": Decimal("2000"), "origin": "lab_grown", "shape": "OVAL"}, "-carats"),
    ({"price_min": Decimal("1000"), "carat_min": Decimal("0.5")}, "carats"),
    ({}, "price"),
    ({"shape": "OVAL"}, "-carats"),
    ({"carat_min": Decimal("1.0")}, "newest"),
]


@pytest.mark.parametrize(("filters", "sort"), PAGE_CASES)
@pytest.mark.parametrize(("offset", "limit"), [(0, 5), (5, 5), (12, 7), (40, 10), (0, 100)])
def test_a_page_is_that_slice_of_the_sorted_list(correlated_stones, filters, sort, offset, limit):
    expected = ids(diamond_list(filters=filters, sort=sort)[offset : offset + limit])

    assert ids(diamond_page(filters=filters, sort=sort, offset=offset, limit=limit)) == expected


def test_the_paginator_reads_pages_and_counts_through_the_results(correlated_stones):
    results = DiamondResults(filters={"carat_min": Decimal("1")}, sort="-price")

    assert ids(results[3:8]) == ids(results.queryset[3:8])
    with pytest.raises(TypeError):
        results[3]


@pytest.mark.parametrize(("filters", "sort"), PAGE_CASES)
def test_past_the_walk_limit_a_page_reads_the_plain_way(
    correlated_stones, monkeypatch, filters, sort
):
    monkeypatch.setattr(selectors, "CARAT_WALK_MAX_WEIGHTS", 3)
    expected = ids(diamond_list(filters=filters, sort=sort)[2:9])

    assert ids(diamond_page(filters=filters, sort=sort, offset=2, limit=7)) == expected


@pytest.mark.parametrize(
    ("filters", "sort", "walks"),
    [
        ({"carat_min": Decimal("1.00"), "carat_max": Decimal("1.50")}, "-price", True),
        ({"price_min": Decimal("1000"), "price_max": Decimal("3000")}, "-carats", True),
        ({"carat_min": Decimal("1.00")}, "carats", False),
        ({"price_min": Decimal("1000")}, "price", False),
        ({"carat_min": Decimal("1.00")}, "newest", False),
        ({}, "price", False),
    ],
)
@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the carat walk is PostgreSQL's (generate_series, LATERAL); elsewhere pages read "
    "the plain way, which the tests above compare",
)
def test_a_range_sorted_by_the_other_column_visits_the_carat_weights(
    correlated_stones, filters, sort, walks
):
    """On PostgreSQL (generate_series and LATERAL): price and carats rise together, so the
    page's ids come from each carat weight of the range instead of the sort's whole order."""
    with CaptureQueriesContext(connection) as queries:
        diamond_page(filters=filters, sort=sort, offset=0, limit=5)

    assert any("generate_series" in q["sql"] for q in queries) is walks


def test_filter_values_come_from_available_stock_in_grading_order():
    DiamondFactory(shape="OVAL", color="H", clarity="SI1", cut="VG")
    DiamondFactory(shape="ROUND", color="D", clarity="VS1", cut="EX")
    DiamondFactory(shape="HEART", color="K", clarity="IF", cut="EX", availability="sold")

    values = diamond_filter_values()

    assert values == {
        "shape": ["ROUND", "OVAL"],
        "color": ["D", "H"],
        "clarity": ["VS1", "SI1"],
        "cut": ["EX", "VG"],
        "lab": ["GIA"],
    }


def test_requested_values_on_the_standard_scale_stay_offered():
    DiamondFactory(shape="ROUND", color="G", clarity="VS1", cut="EX")

    values = diamond_filter_values(
        keep={"shape": ["HEART"], "color": ["D", "nonsense"], "clarity": ["FL"], "cut": ["Q"]}
    )

    assert values == {
        "shape": ["ROUND", "HEART"],
        "color": ["D", "G"],
        "clarity": ["FL", "VS1"],
        "cut": ["EX"],
        "lab": ["GIA"],
    }


# ---------------------------------------------------------------- filter choices: the cache


def stone(stone_id: str, **changes) -> Stone:
    data = {
        "supplier_stone_id": stone_id,
        "offer_id": f"O-{stone_id}",
        "shape": "ROUND",
        "carats": Decimal("1.01"),
        "color": "G",
        "clarity": "VS1",
        "cut": "EX",
        "polish": "EX",
        "symmetry": "VG",
        "lab": "GIA",
        "certificate_number": "",
        "image_url": "https://images.example.com/s.jpg",
        "price_nzd": Decimal("10000.00"),
        "price_model_nzd": Decimal("12000.00"),
        "availability": Availability.AVAILABLE,
    }
    data.update(changes)
    return Stone(**data)


def test_filter_values_are_read_once_then_served_from_the_cache(django_assert_num_queries):
    DiamondFactory(shape="OVAL", color="H", clarity="SI1", cut="VG")
    with django_assert_num_queries(5):
        first = diamond_filter_values()
    with django_assert_num_queries(0):
        again = diamond_filter_values(keep={"color": ["D"]})

    assert again == {**first, "color": ["D", "H"]}  # what the shopper asked for is still kept


def test_an_import_that_adds_stones_refreshes_the_filter_values():
    DiamondFactory(shape="OVAL", color="H", clarity="SI1", cut="VG")
    assert diamond_filter_values()["shape"] == ["OVAL"]

    diamonds_upsert(feed="demo", stones=[stone("NEW-1", shape="HEART", color="D")])

    values = diamond_filter_values()
    assert values["shape"] == ["OVAL", "HEART"]
    assert values["color"] == ["D", "H"]


def test_an_import_that_changes_a_stone_refreshes_the_filter_values():
    diamonds_upsert(feed="demo", stones=[stone("S-1", color="G")])
    assert diamond_filter_values()["color"] == ["G"]

    diamonds_upsert(feed="demo", stones=[stone("S-1", color="E")])

    assert diamond_filter_values()["color"] == ["E"]


def test_an_import_that_changes_nothing_keeps_the_cache(django_assert_num_queries):
    diamonds_upsert(feed="demo", stones=[stone("S-1")])
    diamond_filter_values()

    diamonds_upsert(feed="demo", stones=[stone("S-1")])

    with django_assert_num_queries(0):
        diamond_filter_values()


def test_withdrawing_delisted_stones_refreshes_the_filter_values():
    diamonds_upsert(feed="demo", stones=[stone("S-1", shape="OVAL"), stone("S-2", shape="PEAR")])
    assert diamond_filter_values()["shape"] == ["OVAL", "PEAR"]

    assert diamonds_withdraw_missing(feed="demo", listed={"S-1"}) == 1

    assert diamond_filter_values()["shape"] == ["OVAL"]


def test_stock_changes_outside_an_import_show_once_the_cache_is_forgotten():
    DiamondFactory(shape="OVAL")
    assert diamond_filter_values()["shape"] == ["OVAL"]
    Diamond.objects.update(availability=Availability.SOLD)
    assert diamond_filter_values()["shape"] == ["OVAL"]  # cached for a few minutes

    diamond_filter_values_forget()

    assert diamond_filter_values()["shape"] == []
