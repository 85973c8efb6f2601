"""The catalog's query parameters (SPEC Part 2): each alone, combined, and bad values."""

from decimal import Decimal

import pytest

from catalog.views import catalog_query
from tests.catalog.test_views import text
from tests.factories import DiamondFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/"
ALL = {"round-natural", "oval-lab", "oval-natural", "pear-lab", "emerald-hrd"}


@pytest.fixture
def stock():
    """Five stones, named for what tells them apart."""
    specs = {
        "round-natural": dict(
            shape="ROUND", carats="1.00", color="D", clarity="IF", cut="EX", lab="GIA",
            price_model_nzd="14000", lab_grown=False,
        ),
        "oval-lab": dict(
            shape="OVAL", carats="1.20", color="G", clarity="VS1", cut="EX", lab="IGI",
            price_model_nzd="4200", lab_grown=True,
        ),
        "oval-natural": dict(
            shape="OVAL", carats="1.21", color="H", clarity="VS2", cut="VG", lab="GIA",
            price_model_nzd="13200", lab_grown=False,
        ),
        "pear-lab": dict(
            shape="PEAR", carats="2.00", color="J", clarity="SI1", cut="GD", lab="IGI",
            price_model_nzd="6100", lab_grown=True,
        ),
        "emerald-hrd": dict(
            shape="EMERALD", carats="0.70", color="F", clarity="VVS2", cut="", lab="HRD",
            price_model_nzd="3900", lab_grown=False,
        ),
    }  # fmt: skip
    return {
        name: DiamondFactory(supplier_stone_id=name, **{**spec, "carats": Decimal(spec["carats"])})
        for name, spec in specs.items()
    }


def found(response) -> set[str]:
    return {d.supplier_stone_id for d in response.context["page"].object_list}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"origin": "natural"}, {"round-natural", "oval-natural", "emerald-hrd"}),
        ({"origin": "lab_grown"}, {"oval-lab", "pear-lab"}),
        ({"shape": "OVAL"}, {"oval-lab", "oval-natural"}),
        ({"shape": ["OVAL", "PEAR"]}, {"oval-lab", "oval-natural", "pear-lab"}),
        ({"carat_min": "1.21"}, {"oval-natural", "pear-lab"}),
        ({"carat_max": "1.00"}, {"round-natural", "emerald-hrd"}),
        ({"price_min": "6100"}, {"round-natural", "oval-natural", "pear-lab"}),
        ({"price_max": "4200"}, {"oval-lab", "emerald-hrd"}),
        ({"color_min": "G"}, {"oval-lab", "oval-natural", "pear-lab"}),  # G and below
        ({"color_max": "F"}, {"round-natural", "emerald-hrd"}),  # F and better
        ({"color_min": "G", "color_max": "H"}, {"oval-lab", "oval-natural"}),
        ({"color_min": "H", "color_max": "G"}, {"oval-lab", "oval-natural"}),  # either order
        ({"clarity_min": "VS1", "clarity_max": "VS2"}, {"oval-lab", "oval-natural"}),
        ({"clarity_max": "VVS2"}, {"round-natural", "emerald-hrd"}),
        ({"cut_min": "EX"}, {"round-natural", "oval-lab"}),
        ({"cut_min": "VG"}, {"round-natural", "oval-lab", "oval-natural"}),
        ({"cut_min": "G"}, {"round-natural", "oval-lab", "oval-natural", "pear-lab"}),
        ({"lab": "IGI"}, {"oval-lab", "pear-lab"}),
        ({"lab": "HRD"}, {"emerald-hrd"}),
        ({"color_min": "D", "color_max": "Z"}, ALL),
    ],
)
def test_each_parameter_alone(client, stock, query, expected):
    response = client.get(LIST_URL, query)

    assert response.status_code == 200
    assert not response.context["form"].errors
    assert found(response) == expected


def test_the_issues_search_a_lab_grown_oval_g_to_h_vs_under_5000(client, stock):
    response = client.get(
        LIST_URL,
        {
            "origin": "lab_grown",
            "shape": "OVAL",
            "carat_min": "1.0",
            "carat_max": "1.5",
            "color_min": "G",
            "color_max": "H",
            "clarity_min": "VS1",
            "clarity_max": "VS2",
            "price_max": "5000",
        },
    )

    assert found(response) == {"oval-lab"}
    page = text(response)
    assert "Lab-grown" in page
    assert "$4,200 NZD" in page


NATURAL_D_TO_F = {"origin": "natural", "color_max": "F", "clarity_max": "VVS2", "lab": "GIA"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"origin": "natural", "shape": "OVAL"}, {"oval-natural"}),
        ({"origin": "lab_grown", "cut_min": "EX", "lab": "IGI"}, {"oval-lab"}),
        ({"shape": ["OVAL", "PEAR"], "price_max": "7000"}, {"oval-lab", "pear-lab"}),
        ({"carat_min": "1", "price_max": "13500"}, {"oval-lab", "oval-natural", "pear-lab"}),
        (NATURAL_D_TO_F, {"round-natural"}),
        ({"origin": "lab_grown", "lab": "GIA"}, set()),
    ],
)
def test_parameters_combine(client, stock, query, expected):
    response = client.get(LIST_URL, query)

    assert not response.context["form"].errors
    assert found(response) == expected


def test_a_price_range_sorted_by_carats(client, stock):
    response = client.get(LIST_URL, {"price_min": "4000", "price_max": "14000", "sort": "-carats"})

    order = [d.supplier_stone_id for d in response.context["page"].object_list]
    assert order == ["pear-lab", "oval-natural", "oval-lab", "round-natural"]


@pytest.mark.parametrize(
    ("query", "bad_field", "words"),
    [
        ({"origin": "synthetic"}, "origin", "“synthetic” isn't one of the options"),
        ({"shape": "DODECAHEDRON"}, "shape", "“DODECAHEDRON” isn't one of the options"),
        ({"carat_min": "lots"}, "carat_min", "Enter a number, like 0.50."),
        ({"carat_max": "-1"}, "carat_max", "Enter a number of 0 or more."),
        ({"price_min": "1e999"}, "price_min", "That number is too large."),
        ({"price_max": "NaN"}, "price_max", "Enter a number, like 20000."),
        ({"color_min": "Q'; DROP TABLE"}, "color_min", "isn't one of the options"),
        ({"color_max": "<script>"}, "color_max", "isn't one of the options"),
        ({"clarity_min": "XYZ"}, "clarity_min", "“XYZ” isn't one of the options"),
        ({"clarity_max": "VS"}, "clarity_max", "“VS” isn't one of the options"),
        ({"cut_min": "superb"}, "cut_min", "“superb” isn't one of the options"),
        ({"lab": "MADE-UP"}, "lab", "“MADE-UP” isn't one of the options"),
        ({"sort": "password"}, "sort", "“password” isn't one of the options"),
        ({"view": "carousel"}, "view", "“carousel” isn't one of the options"),
    ],
)
def test_bad_values_get_a_clear_message_and_are_left_out(client, stock, query, bad_field, words):
    response = client.get(LIST_URL, query)

    assert response.status_code == 200
    assert bad_field in response.context["form"].errors
    page = text(response)
    assert "Some filters could not be used and were left out" in page
    assert words in page
    assert "<script>" not in response.content.decode().split("<main", 1)[1].split("</main>")[0]
    assert found(response) == ALL


@pytest.mark.parametrize(
    ("query", "bad_field", "expected"),
    [
        ({"carat_min": "2", "carat_max": "1"}, "carat_max", {"pear-lab"}),
        ({"price_min": "9000", "price_max": "10"}, "price_max", {"round-natural", "oval-natural"}),
    ],
)
def test_a_maximum_below_the_minimum_is_left_out(client, stock, query, bad_field, expected):
    response = client.get(LIST_URL, query)

    assert bad_field in response.context["form"].errors
    assert "must not be below the minimum" in text(response)
    assert found(response) == expected


def test_a_bad_value_keeps_the_good_ones(client, stock):
    response = client.get(LIST_URL, {"origin": "lab_grown", "shape": "OVAL", "carat_min": "x"})

    assert found(response) == {"oval-lab"}


@pytest.mark.parametrize("page", ["0", "999", "abc", "-1", "1.5"])
def test_a_page_that_does_not_exist_says_so(client, stock, page):
    response = client.get(LIST_URL, {"page": page})

    assert response.status_code == 200
    assert "There is no page" in text(response)
    assert found(response) == ALL


def test_view_list_shows_a_table_and_grid_is_the_default(client, stock):
    grid = client.get(LIST_URL).content.decode()
    listing = client.get(LIST_URL, {"view": "list", "origin": "natural"}).content.decode()

    assert 'class="diamond-grid"' in grid and "<table" not in grid.split("<main", 1)[1]
    assert 'class="diamond-table"' in listing
    assert '<input type="hidden" name="view" value="list">' in listing  # kept when filtering
    assert 'href="?origin=natural"' in listing  # the Grid link keeps the filters


def test_sort_sits_beside_the_results_and_submits_the_filters(client, stock):
    html = client.get(LIST_URL, {"sort": "-carats"}).content.decode()

    assert '<select name="sort" id="id_sort" form="catalog-filters" data-autosubmit>' in html
    assert '<option value="-carats" selected>' in html
    assert html.index('class="results-bar"') < html.index('name="sort"')


# ---------------------------------------------------------------- origin is never mixed up


def test_every_card_and_row_says_natural_or_lab_grown(client, stock):
    # List view names it twice a row: its column, and under the stone's name (the one shown
    # on a phone, where the column is hidden).
    for view, each in (("grid", 1), ("list", 2)):
        html = client.get(LIST_URL, {"view": view}).content.decode()
        assert html.count('class="origin origin--lab_grown">Lab-grown<') == 2 * each, view
        assert html.count('class="origin origin--natural">Natural<') == 3 * each, view


def test_a_lab_grown_stone_is_never_offered_as_natural(client, stock):
    response = client.get(LIST_URL, {"origin": "natural"})
    assert not any(d.lab_grown for d in response.context["page"].object_list)
    assert "Lab-grown<" not in response.content.decode().split('class="results"', 1)[1]

    page = text(client.get(stock["oval-lab"].get_absolute_url()))
    assert "Lab-grown diamond" in page
    assert "Origin Lab-grown" in page
    assert "Natural" not in page.split("Specification", 1)[1].split("What the grades mean")[0]


# ---------------------------------------------------------------- back to results


def test_a_stone_links_back_to_the_same_results(client, stock):
    query = {"origin": "lab_grown", "shape": ["OVAL", "PEAR"], "sort": "-price", "view": "list"}
    html = client.get(LIST_URL, query).content.decode()
    back = "origin%3Dlab_grown%26shape%3DOVAL%26shape%3DPEAR%26sort%3D-price%26view%3Dlist"
    link = f"{stock['oval-lab'].get_absolute_url()}?back={back}"
    assert f'href="{link}"' in html

    detail = client.get(link).content.decode()

    assert (
        '<a href="/?origin=lab_grown&amp;shape=OVAL&amp;shape=PEAR&amp;sort=-price&amp;view=list">'
        "← Back to results</a>" in detail
    )


def test_without_a_search_the_stone_links_to_all_diamonds(client, stock):
    html = client.get(stock["oval-lab"].get_absolute_url()).content.decode()
    assert '<a href="/">← All diamonds</a>' in html


@pytest.mark.parametrize(
    ("back", "expected"),
    [
        ("shape=OVAL&next=https://evil.example/", "shape=OVAL"),
        ("//evil.example/?x=1", ""),
        ("origin=natural&page=2&utm_source=mail", "origin=natural&page=2"),
        ("", ""),
    ],
)
def test_the_back_link_carries_only_catalog_parameters(back, expected):
    assert catalog_query(back) == expected
