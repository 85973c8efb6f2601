import re
from decimal import Decimal
from html import unescape

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog import views
from catalog.models import Availability, Diamond
from catalog.templatetags.store import (
    SHAPE_ILLUSTRATIONS,
    dollars,
    grade_label,
    money,
    nzd,
    price,
    shape_illustration_path,
    shape_label,
)
from orders.selectors.purchase import UNAVAILABLE_REASONS
from tests.factories import DiamondFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/"
DIALOG_COPY = (
    "You'll be redirected to our secure payment provider to complete your purchase of this "
    "Round 1.01ct diamond for $12,345 NZD."
)


def text(response) -> str:
    """The page's visible text, tags stripped and whitespace collapsed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def listed(response) -> list[str]:
    return [str(d.pk) for d in response.context["page"].object_list]


def detail_url(diamond) -> str:
    return reverse("catalog:detail", args=[diamond.pk])


def purchase_url(diamond) -> str:
    return reverse("catalog:purchase", args=[diamond.pk])


# ---------------------------------------------------------------- catalog list


def test_catalog_is_the_home_page_and_lists_only_available_stones(client):
    available = DiamondFactory()
    for state in ("reserved", "on_hold", "sold", "unavailable"):
        DiamondFactory(availability=state)

    response = client.get(LIST_URL)

    assert response.status_code == 200
    assert reverse("catalog:list") == "/"
    assert listed(response) == [str(available.pk)]
    assert detail_url(available) in response.content.decode()


def test_card_shows_shape_specs_illustration_and_price(client):
    DiamondFactory(
        shape="OVAL",
        carats=Decimal("1.50"),
        color="E",
        clarity="VVS2",
        cut="VG",
        image_url="",
        price_model_nzd=Decimal("12345.00"),
    )

    response = client.get(LIST_URL)
    page = text(response)

    assert "Oval 1.50ct" in page
    assert "E" in page and "VVS2" in page and "Very Good cut" in page
    assert "$12,345 NZD" in page and "$12,345.00" not in page
    assert "Natural" in page
    assert "/static/catalog/shapes/oval.svg" in response.content.decode()


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("price", ["cheap", "mid", "dear"]),
        ("-price", ["dear", "mid", "cheap"]),
        ("carats", ["dear", "cheap", "mid"]),
        ("-carats", ["mid", "cheap", "dear"]),
        ("newest", ["mid", "dear", "cheap"]),
    ],
)
def test_sort_orders(client, sort, expected):
    DiamondFactory(supplier_stone_id="cheap", carats=Decimal("1.0"), price_model_nzd=1000)
    DiamondFactory(supplier_stone_id="dear", carats=Decimal("0.5"), price_model_nzd=9000)
    DiamondFactory(supplier_stone_id="mid", carats=Decimal("2.0"), price_model_nzd=5000)

    response = client.get(LIST_URL, {"sort": sort})

    assert [d.supplier_stone_id for d in response.context["page"].object_list] == expected


def test_default_sort_is_price_low_to_high(client):
    DiamondFactory(supplier_stone_id="dear", price_model_nzd=9000)
    DiamondFactory(supplier_stone_id="cheap", price_model_nzd=1000)

    response = client.get(LIST_URL)

    assert [d.supplier_stone_id for d in response.context["page"].object_list] == [
        "cheap",
        "dear",
    ]


def test_pagination_24_a_page_and_links_keep_the_filters(client):
    for i in range(30):
        DiamondFactory(shape="OVAL", price_model_nzd=1000 + i)
    DiamondFactory(shape="ROUND")

    first = client.get(LIST_URL, {"shape": "OVAL", "sort": "-price"})
    second = client.get(LIST_URL, {"shape": "OVAL", "sort": "-price", "page": "2"})

    assert len(first.context["page"].object_list) == 24
    assert first.context["page"].paginator.count == 30
    assert "?shape=OVAL&amp;sort=-price&amp;page=2" in first.content.decode()
    assert len(second.context["page"].object_list) == 6
    assert "?shape=OVAL&amp;sort=-price&amp;page=1" in second.content.decode()
    assert list(second.context["page"].object_list)[-1].price_model_nzd == 1000


@pytest.fixture
def small_pages(monkeypatch):
    """Pages of 2 and a count capped at 5, so the cap is reached with a few stones."""
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    monkeypatch.setattr(views.CappedPaginator, "cap", 5)


def test_up_to_the_cap_the_exact_count_and_the_last_page_are_shown(client, small_pages):
    for i in range(5):
        DiamondFactory(price_model_nzd=1000 + i)

    response = client.get(LIST_URL)

    page = response.context["page"]
    assert (page.paginator.count, page.paginator.capped) == (5, False)
    assert "Showing 1\N{EN DASH}2 of 5 diamonds" in text(response)
    assert "Page 1 of 3" in text(response)


def test_past_the_cap_the_count_says_more_and_pages_stop_at_the_cap(client, small_pages):
    for i in range(8):
        DiamondFactory(price_model_nzd=1000 + i)

    first = client.get(LIST_URL)
    last = client.get(LIST_URL, {"page": "3"})
    beyond = client.get(LIST_URL, {"page": "4"})

    assert (first.context["page"].paginator.count, first.context["page"].paginator.capped) == (
        5,
        True,
    )
    assert "Showing 1\N{EN DASH}2 of 5+ diamonds" in text(first)
    assert "Page 1 Next" in text(first)
    assert " of 3" not in text(first)
    assert "narrow the filters" not in text(first)
    assert [d.price_model_nzd for d in last.context["page"].object_list] == [1004]
    assert (
        "Showing 5\N{EN DASH}5 of 5+ diamonds. "
        "Only the first 5 are listed: narrow the filters to see the rest." in text(last)
    )
    assert 'rel="next"' not in last.content.decode()
    assert listed(beyond) == listed(last)


def test_the_count_reads_at_most_one_row_past_the_cap():
    for _ in range(8):
        DiamondFactory()
    paginator = views.CappedPaginator(Diamond.objects.order_by("pk"), 2)
    paginator.cap = 5

    with CaptureQueriesContext(connection) as queries:
        assert paginator.count == 5
    assert len(queries) == 1
    assert "LIMIT 6" in queries[0]["sql"]
    assert "ORDER BY" not in queries[0]["sql"]
    assert paginator.count_label == "5+"


def test_a_capped_count_is_written_with_thousands_grouped():
    Diamond.objects.bulk_create(DiamondFactory.build_batch(1002))
    paginator = views.CappedPaginator(Diamond.objects.all(), 24)
    paginator.cap = 1000

    assert (paginator.count_label, paginator.capped, paginator.num_pages) == ("1,000+", True, 42)


def test_page_links_keep_multi_value_filters(client):
    for _ in range(25):
        DiamondFactory(shape="OVAL")

    response = client.get(LIST_URL, {"shape": ["OVAL", "PEAR"]})

    assert "?shape=OVAL&amp;shape=PEAR&amp;page=2" in response.content.decode()


@pytest.mark.parametrize("page", ["0", "999", "abc", "-1"])
def test_out_of_range_or_junk_page_is_calm(client, page):
    DiamondFactory()

    response = client.get(LIST_URL, {"page": page})

    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 1


def test_an_invalid_filter_does_not_drop_the_valid_ones(client):
    DiamondFactory(supplier_stone_id="oval", shape="OVAL")
    DiamondFactory(supplier_stone_id="round", shape="ROUND")

    response = client.get(LIST_URL, {"shape": "OVAL", "carat_min": "lots"})

    assert [d.supplier_stone_id for d in response.context["page"].object_list] == ["oval"]


def test_empty_catalog_says_so(client):
    response = client.get(LIST_URL, {"shape": ""})

    assert response.status_code == 200
    assert "No diamonds match these filters." in text(response)


def test_filter_controls_are_labelled(client):
    DiamondFactory()

    html = client.get(LIST_URL).content.decode()

    for name in (
        "carat_min",
        "carat_max",
        "price_min",
        "price_max",
        "color_min",
        "color_max",
        "clarity_min",
        "clarity_max",
        "cut_min",
        "lab",
        "sort",
    ):
        assert f'<label for="id_{name}">' in html, name
    assert '<label class="shape-option" for="id_shape_0">' in html
    assert '<label class="segmented__option" for="id_origin_0">' in html


# ---------------------------------------------------------------- storefront pages obey the CSP


@pytest.mark.parametrize("logged_in", [False, True])
def test_pages_have_no_inline_script_or_style(client, shopper, logged_in):
    diamond = DiamondFactory()
    if logged_in:
        client.force_login(shopper)
    urls = [LIST_URL, detail_url(diamond)]
    urls += (
        [purchase_url(diamond), "/account/orders/"]
        if logged_in
        else [
            "/accounts/login/",
            "/accounts/signup/",
        ]
    )

    for url in urls:
        response = client.get(url)
        html = response.content.decode()
        assert response.status_code == 200, url
        assert "style=" not in html, url
        assert "<style" not in html, url
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == [], url
        assert re.findall(r"\son[a-z]+=", html) == [], url
        assert "Content-Security-Policy" in response.headers


# ---------------------------------------------------------------- detail


def test_detail_shows_specs_price_and_illustration(client):
    diamond = DiamondFactory(image_url="", shape="PRINCESS", lab="GIA", certificate_number="123")

    response = client.get(detail_url(diamond))
    page = text(response)

    assert response.status_code == 200
    assert "Princess 1.01ct Diamond" in page
    assert "$12,345 NZD" in page
    for label, value in [("Colour", "G"), ("Clarity", "VS1"), ("Cut", "Excellent"), ("Lab", "GIA")]:
        assert f"{label} {value}" in page
    assert "Certificate 123" in page
    assert "/static/catalog/shapes/princess.svg" in response.content.decode()


def test_detail_uses_the_stone_image_when_there_is_one(client):
    diamond = DiamondFactory(image_url="https://images.example.com/stone.jpg")

    html = client.get(detail_url(diamond)).content.decode()

    assert 'src="https://images.example.com/stone.jpg"' in html


def test_unknown_diamond_is_404(client):
    response = client.get("/diamonds/00000000-0000-0000-0000-000000000000/")

    assert response.status_code == 404


def test_detail_dialog_for_a_logged_in_shopper(client, shopper):
    diamond = DiamondFactory(
        shape="ROUND", carats=Decimal("1.01"), price_model_nzd=Decimal("12345.00")
    )
    client.force_login(shopper)

    response = client.get(detail_url(diamond))
    html = response.content.decode()
    dialog = re.search(r"<dialog\b.*?</dialog>", html, flags=re.S).group(0)

    assert 'id="confirm-pay"' in dialog
    assert re.search(r"<h2[^>]*>Confirm & Pay</h2>", dialog)
    assert DIALOG_COPY in dialog
    form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', dialog, flags=re.S)
    assert form.group(1) == "/checkout/create/"
    assert 'name="csrfmiddlewaretoken"' in form.group(2)
    assert f'<input type="hidden" name="diamond_id" value="{diamond.pk}">' in form.group(2)
    assert '<button type="submit" class="button">Proceed to Payment</button>' in form.group(2)
    assert ">Cancel</button>" in form.group(2)
    # Purchase is a real link to the confirmation page; the script opens the dialog instead.
    purchase = re.search(r'<a [^>]*id="purchase-button"[^>]*>Purchase</a>', html).group(0)
    assert f'href="{purchase_url(diamond)}"' in purchase
    assert 'data-dialog-open="confirm-pay"' in purchase
    assert '<script src="/static/js/purchase-dialog.js" defer></script>' in html


def test_dialog_price_falls_back_to_supplier_price_like_checkout(client, shopper):
    diamond = DiamondFactory(price_model_nzd=None, price_nzd=Decimal("2500.5"))
    client.force_login(shopper)

    response = client.get(detail_url(diamond))

    assert "1.01ct diamond for $2,500.50 NZD." in response.content.decode()


def test_anonymous_purchase_link_leads_to_login_with_next(client):
    diamond = DiamondFactory()

    response = client.get(detail_url(diamond))
    html = response.content.decode()

    assert "<dialog" not in html
    assert f'href="{purchase_url(diamond)}"' in html
    follow = client.get(purchase_url(diamond))
    assert follow.status_code == 302
    assert follow["Location"] == f"/accounts/login/?next={purchase_url(diamond)}"


@pytest.mark.parametrize(
    ("availability", "words"),
    [
        (Availability.RESERVED, UNAVAILABLE_REASONS[Availability.RESERVED]),
        (Availability.SOLD, UNAVAILABLE_REASONS[Availability.SOLD]),
        (Availability.ON_HOLD, UNAVAILABLE_REASONS[Availability.ON_HOLD]),
        (Availability.UNAVAILABLE, UNAVAILABLE_REASONS[Availability.UNAVAILABLE]),
    ],
)
def test_unavailable_stone_says_why_and_offers_no_purchase(client, shopper, availability, words):
    diamond = DiamondFactory(availability=availability)
    client.force_login(shopper)

    response = client.get(detail_url(diamond))
    html = response.content.decode()

    assert response.status_code == 200
    assert words in text(response)
    assert ">Purchase</a>" not in html
    assert "<dialog" not in html
    assert "Proceed to Payment" not in html
    assert 'name="diamond_id"' not in html


def test_own_open_checkout_offers_to_continue_to_payment(client, shopper):
    order = OrderFactory(user=shopper)
    client.force_login(shopper)

    response = client.get(detail_url(order.diamond))
    html = response.content.decode()

    assert f"Your checkout is open — order {order.order_number}" in text(response)
    form = re.search(r'<form method="post" action="/checkout/create/">(.*?)</form>', html, re.S)
    assert f'name="diamond_id" value="{order.diamond_id}"' in form.group(1)
    assert "Continue to payment" in form.group(1)
    assert "Another customer" not in html


def test_someone_elses_open_checkout_is_reserved_for_me(client, shopper):
    order = OrderFactory(user=UserFactory())
    client.force_login(shopper)

    response = client.get(detail_url(order.diamond))

    assert "Another customer is checking out this diamond." in text(response)
    assert "Continue to payment" not in text(response)


# ---------------------------------------------------------------- purchase page (no script)


def test_purchase_page_requires_login(client):
    diamond = DiamondFactory()

    response = client.get(purchase_url(diamond))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_purchase_page_shows_the_same_title_copy_and_form(client, shopper):
    diamond = DiamondFactory(
        shape="ROUND", carats=Decimal("1.01"), price_model_nzd=Decimal("12345.00")
    )
    client.force_login(shopper)

    response = client.get(purchase_url(diamond))
    html = response.content.decode()

    assert response.status_code == 200
    assert re.search(r"<h1[^>]*>Confirm & Pay</h1>", html)
    assert DIALOG_COPY in html
    form = re.search(r'<form method="post" action="/checkout/create/">(.*?)</form>', html, re.S)
    assert 'name="csrfmiddlewaretoken"' in form.group(1)
    assert f'<input type="hidden" name="diamond_id" value="{diamond.pk}">' in form.group(1)
    assert "Proceed to Payment</button>" in form.group(1)
    assert f'href="{detail_url(diamond)}">Cancel</a>' in form.group(1)


@pytest.mark.parametrize(
    "availability",
    [Availability.RESERVED, Availability.SOLD, Availability.ON_HOLD, Availability.UNAVAILABLE],
)
def test_purchase_page_refuses_a_stone_that_is_not_available(client, shopper, availability):
    diamond = DiamondFactory(availability=availability)
    client.force_login(shopper)

    response = client.get(purchase_url(diamond))

    assert response.status_code == 200
    assert UNAVAILABLE_REASONS[availability] in text(response)
    assert "Proceed to Payment" not in response.content.decode()
    assert "Confirm & Pay" not in response.content.decode().split("<main", 1)[1]


def test_purchase_page_for_a_missing_diamond_is_404(client, shopper):
    client.force_login(shopper)

    response = client.get("/diamonds/00000000-0000-0000-0000-000000000000/purchase/")

    assert response.status_code == 404


# ---------------------------------------------------------------- the site frame


def test_header_for_anonymous_visitor(client):
    html = client.get(LIST_URL).content.decode()

    assert 'href="#main"' in html and 'id="main"' in html
    assert '<a href="/account/orders/">My orders</a>' in html
    assert 'href="/accounts/login/?next=/"' in html
    assert 'href="/accounts/signup/?next=/"' in html


def test_header_logout_is_a_post_form(client, shopper):
    client.force_login(shopper)

    html = client.get(LIST_URL).content.decode()

    assert re.search(
        r'<form method="post" action="/accounts/logout/">\s*<input type="hidden" '
        r'name="csrfmiddlewaretoken"[^>]*>\s*<button type="submit"[^>]*>Log out</button>',
        html,
    )
    assert f'Signed in as <a href="/account/" title="Your account">{shopper.username}</a>' in html


# ---------------------------------------------------------------- display filters


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("12345.00"), "$12,345.00 NZD"),
        (Decimal("12345"), "$12,345.00 NZD"),
        (Decimal("0.5"), "$0.50 NZD"),
        (Decimal("1234567.891"), "$1,234,567.89 NZD"),
        (999, "$999.00 NZD"),
        ("2500.5", "$2,500.50 NZD"),
        (None, "Price on request"),
        ("", "Price on request"),
        ("junk", "Price on request"),
    ],
)
def test_nzd_price_filter(value, expected):
    assert nzd(value) == expected


def test_money_filter_has_no_currency_code():
    assert money(Decimal("12345")) == "$12,345.00"
    assert money(None) == ""


def test_filters_in_a_template_ignore_the_locale(settings):
    settings.USE_THOUSAND_SEPARATOR = True
    template = Template("{% load store %}{{ p|nzd }} {{ c|carats }}")

    assert template.render(Context({"p": Decimal("12345"), "c": Decimal("1.5")})) == (
        "$12,345.00 NZD 1.50"
    )


@pytest.mark.parametrize(
    ("shape", "label", "drawing"),
    [
        ("ROUND", "Round", "round"),
        ("CUSHION_MODIFIED", "Cushion Modified", "cushion"),
        ("LONG RADIANT", "Long Radiant", "radiant"),
        ("TRILLION", "Trillion", "generic"),
        ("", "", "generic"),
    ],
)
def test_shape_label_and_drawing(shape, label, drawing):
    assert shape_label(shape) == label
    assert shape_illustration_path(shape) == f"catalog/shapes/{drawing}.svg"


def test_every_shape_drawing_exists():
    for name in [*SHAPE_ILLUSTRATIONS, "generic"]:
        assert finders.find(f"catalog/shapes/{name}.svg"), name


def test_grade_label():
    assert grade_label("EX") == "Excellent"
    assert grade_label("vg") == "Very Good"
    assert grade_label("GD") == "Good"
    assert grade_label("Astor") == "Astor"


def test_price_filter_shows_whole_dollars_without_cents():
    assert price(Decimal("12345.00")) == "$12,345 NZD"
    assert price(Decimal("12345")) == "$12,345 NZD"
    assert price(Decimal("2500.50")) == "$2,500.50 NZD"  # an older price with cents shows them
    assert price(None) == "Price on request"
    assert dollars(Decimal("4999.00")) == "$4,999"


def test_sold_out_grade_in_a_saved_search_finds_nothing_calmly(client):
    DiamondFactory(color="G")
    DiamondFactory(color="D", availability="sold")

    response = client.get(LIST_URL, {"color_min": "D", "color_max": "D"})

    assert response.status_code == 200
    assert not response.context["form"].errors
    assert "No diamonds match these filters." in text(response)
    assert '<option value="D" selected>D</option>' in response.content.decode()
