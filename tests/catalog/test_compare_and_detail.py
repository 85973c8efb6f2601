"""Compare (session-kept, POST forms, no script needed) and the diamond page's new parts."""

from decimal import Decimal

import pytest

from catalog.selectors import COMPARE_SESSION_KEY
from tests.catalog.test_views import text
from tests.factories import DiamondFactory

pytestmark = pytest.mark.django_db


def add(client, diamond, **extra):
    return client.post("/compare/add/", {"diamond": str(diamond.pk), **extra})


def remove(client, diamond=None, **extra):
    data = {"diamond": str(diamond.pk)} if diamond else {}
    return client.post("/compare/remove/", {**data, **extra})


def compared(client) -> list[str]:
    return [d.supplier_stone_id for d in client.get("/compare/").context["diamonds"]]


def test_add_then_remove_without_javascript(client):
    first, second = DiamondFactory(supplier_stone_id="A"), DiamondFactory(supplier_stone_id="B")

    response = add(client, first)
    assert response.status_code == 302 and response.url == "/compare/"
    add(client, second)
    add(client, first)  # twice: still once
    assert compared(client) == ["A", "B"]

    page = client.get("/compare/")
    assert page.status_code == 200
    assert "Round 1.01ct" in text(page)
    assert text(page).count("Remove the round 1.01ct diamond") == 2

    remove(client, first)
    assert compared(client) == ["B"]
    remove(client, all="1")
    assert compared(client) == []
    assert "You are not comparing any diamonds yet." in text(client.get("/compare/"))


def test_at_most_four_stones_and_the_fifth_is_refused_with_a_message(client):
    stones = [DiamondFactory(supplier_stone_id=f"S{i}") for i in range(5)]
    for stone in stones[:4]:
        add(client, stone)

    response = add(client, stones[4], next="/")
    assert response.url == "/"
    page = client.get("/")

    assert compared(client) == ["S0", "S1", "S2", "S3"]
    assert "You can compare up to 4 diamonds. Remove one on the compare page first." in text(page)


def test_add_and_remove_go_back_where_the_shopper_was_but_never_off_site(client):
    stone = DiamondFactory()

    assert add(client, stone, next="/?shape=OVAL&page=2").url == "/?shape=OVAL&page=2"
    assert remove(client, stone, next="https://evil.example/").url == "/compare/"
    assert add(client, stone, next="//evil.example/").url == "/compare/"


@pytest.mark.parametrize("bad", ["", "not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_an_unknown_stone_is_not_added(client, bad):
    response = client.post("/compare/add/", {"diamond": bad})

    assert response.status_code == 302
    page = client.get("/compare/")
    assert "That diamond could not be found, so it was not added." in text(page)
    assert page.context["diamonds"] == []


def test_compare_needs_post_and_csrf(client):
    stone = DiamondFactory()
    assert client.get("/compare/add/").status_code == 405

    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/compare/add/", {"diamond": str(stone.pk)}).status_code == 403


def test_a_stone_sold_meanwhile_stays_in_the_comparison_marked_as_such(client):
    stone = DiamondFactory()
    add(client, stone)
    stone.availability = "sold"
    stone.save()

    assert "Availability Sold" in text(client.get("/compare/"))


def test_junk_in_the_session_is_ignored(client):
    session = client.session
    session[COMPARE_SESSION_KEY] = "garbage"
    session.save()

    assert client.get("/compare/").status_code == 200
    assert compared(client) == []


def test_cards_and_the_stone_page_offer_compare_and_show_what_is_compared(client):
    stone = DiamondFactory()
    html = client.get("/").content.decode()
    assert 'action="/compare/add/"' in html

    add(client, stone)

    assert 'action="/compare/remove/"' in client.get("/").content.decode()
    detail = text(client.get(stone.get_absolute_url()))
    assert "Comparing · Remove" in detail
    assert "See the comparison (1 of 4)" in detail


# ---------------------------------------------------------------- the diamond page


def test_the_page_shows_origin_measurements_proportions_and_fluorescence(client):
    stone = DiamondFactory(
        lab_grown=True,
        fluorescence="Faint",
        length_mm=Decimal("7.41"),
        width_mm=Decimal("5.30"),
        depth_mm=Decimal("3.29"),
        depth_percent=Decimal("62.10"),
        table_percent=Decimal("58.00"),
    )

    page = text(client.get(stone.get_absolute_url()))

    assert "Lab-grown diamond" in page
    assert "Measurements 7.41 \N{MULTIPLICATION SIGN} 5.30 \N{MULTIPLICATION SIGN} 3.29 mm" in page
    assert "Length to width 1.40" in page
    assert "Depth % 62.1%" in page
    assert "Table % 58%" in page
    assert "Fluorescence Faint" in page
    assert "Free insured shipping" in page and "30-day returns" in page


def test_the_promises_link_to_the_content_pages(client):
    html = client.get(DiamondFactory().get_absolute_url()).content.decode()
    promises = html.split('class="promises"', 1)[1].split("</ul>", 1)[0]

    for url in ("/pages/shipping/", "/pages/returns/", "/guide/#certificates"):
        assert f'href="{url}"' in promises


@pytest.mark.parametrize(
    ("lab", "number", "pdf", "expected"),
    [
        ("GIA", "2141307919", "", "https://www.gia.edu/report-check?reportno=2141307919"),
        ("IGI", "LG612345", "", "https://www.igi.org/verify-your-report/?r=LG612345"),
        ("HRD", "240001", "", "https://my.hrdantwerp.com/?record_number=240001"),
        ("gia", " 22 ", "", "https://www.gia.edu/report-check?reportno=22"),
        ("GIA", "22", "https://cdn.example/cert.pdf", "https://cdn.example/cert.pdf"),
    ],
)
def test_the_certificate_link_is_the_labs_report_check(client, lab, number, pdf, expected):
    stone = DiamondFactory(lab=lab, certificate_number=number, certificate_url=pdf)

    html = client.get(stone.get_absolute_url()).content.decode()

    assert stone.certificate_link == expected
    assert f'id="certificate-link" href="{expected}" target="_blank" rel="noopener"' in html


def test_a_lab_without_a_report_check_shows_the_number_only(client):
    stone = DiamondFactory(lab="GCAL", certificate_number="99", certificate_url="")

    response = client.get(stone.get_absolute_url())

    assert 'id="certificate-link"' not in response.content.decode()
    assert "Graded by GCAL , report number 99 ." in text(response)


def test_a_video_file_plays_on_the_page_and_a_viewer_page_is_linked(client):
    playable = DiamondFactory(video_url="https://video.example/360/a.mp4")
    viewer = DiamondFactory(video_url="https://viewer.example/v360/abc")
    silent = DiamondFactory(video_url="")

    assert '<video src="https://video.example/360/a.mp4" controls' in (
        client.get(playable.get_absolute_url()).content.decode()
    )
    html = client.get(viewer.get_absolute_url()).content.decode()
    assert 'href="https://viewer.example/v360/abc" target="_blank" rel="noopener"' in html
    assert "Watch the 360° video" in html
    silent_html = client.get(silent.get_absolute_url()).content.decode()
    assert "<video" not in silent_html and "360° video" not in silent_html


def test_the_photo_is_lazy_sized_and_falls_back_to_the_drawing(client):
    stone = DiamondFactory(shape="OVAL", image_url="https://images.example.com/o.jpg")

    html = client.get(stone.get_absolute_url()).content.decode()

    assert (
        '<img src="https://images.example.com/o.jpg" '
        'data-fallback="/static/catalog/shapes/oval.svg" alt="Photo of the oval diamond" '
        'loading="lazy" decoding="async" width="600" height="600">'
    ) in html
    assert '<script src="/static/js/stone-images.js" defer></script>' in html


def test_the_purchase_box_and_dialog_are_their_own_includes(client, shopper):
    stone = DiamondFactory()
    client.force_login(shopper)

    response = client.get(stone.get_absolute_url())

    used = [t.name for t in response.templates]
    assert "catalog/_purchase_box.html" in used
    assert "catalog/_purchase_dialog.html" in used
    assert "catalog/_confirm_pay.html" in used


# ---------------------------------------------------------------- media hosts in the CSP


def test_media_hosts_are_allowed_for_images_and_video_only(client, settings):
    settings.MEDIA_HOSTS = ["https://images.nivoda.example", "https://video.nivoda.example"]

    policy = client.get("/").headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))

    hosts = "https://images.nivoda.example https://video.nivoda.example"
    assert directives["img-src"] == f"'self' data: {hosts}"
    assert directives["media-src"] == f"'self' {hosts}"
    assert directives["default-src"] == "'self'"
    assert "https:" not in directives["img-src"].split()


def test_without_media_hosts_only_the_store_serves_images(client, settings):
    settings.MEDIA_HOSTS = []

    policy = client.get("/").headers["Content-Security-Policy"]

    assert "img-src 'self' data:;" in policy
    assert "media-src 'self';" in policy
