"""The catalog a buyer expects, in a real browser: shape icons and sliders (with and without
JavaScript), a stone with its photo and certificate link, compare, and axe-core's checks.

The issue's search: a 1.0-1.5 ct lab-grown oval, G-H, VS, under $5,000 (the demo feed's
DEMO-0037), compared with a natural oval (DEMO-0038), and the returns policy.
"""

import json
import math
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings as django_settings

from tests.browser.conftest import screenshot
from tests.catalog.conftest import seed_content_pages

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("content_pages"),
]

AXE = Path(django_settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture
def content_pages(db):
    """The pages migration catalog.0004 seeds (an earlier transactional test emptied them)."""
    seed_content_pages()


def cards(page) -> list[str]:
    return page.locator(".diamond-card__title").all_inner_texts()


def drag_slider(page, slider, fraction: float):
    """Drag the slider's thumb with the mouse to `fraction` of the track."""
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    value = float(slider.input_value())
    low, high = float(slider.get_attribute("min")), float(slider.get_attribute("max"))
    start_x = box["x"] + 10 + (box["width"] - 20) * (value - low) / (high - low)
    y = box["y"] + box["height"] / 2
    page.mouse.move(start_x, y)
    page.mouse.down()
    page.mouse.move(box["x"] + 10 + (box["width"] - 20) * fraction, y, steps=8)
    page.mouse.up()


def search_for_a_lab_grown_oval(page):
    """Origin, the oval icon and the number inputs: what works with and without script."""
    page.get_by_label("Lab-grown", exact=True).check()
    page.get_by_label("Oval", exact=True).check()
    page.get_by_label("From colour (best)").select_option("G")
    page.get_by_label("To colour").select_option("H")
    page.get_by_label("From clarity (best)").select_option("VS1")
    page.get_by_label("To clarity").select_option("VS2")


def test_a_buyer_filters_with_icons_and_sliders_opens_a_stone_and_compares(new_page, stones):
    page = new_page()
    page.goto("/")
    search_for_a_lab_grown_oval(page)

    # The carat slider writes the number input; its other end stays "no limit".
    low = page.get_by_role("slider", name="Carat, minimum")
    drag_slider(page, low, math.log(1.0 / 0.2) / math.log(10 / 0.2))  # a logarithmic track
    carat_min = float(page.get_by_label("From carat").input_value())
    assert 0.9 <= carat_min <= 1.1
    assert page.get_by_label("To carat").input_value() == ""
    page.get_by_label("To carat").fill("1.5")  # typing moves the slider
    maximum = page.get_by_role("slider", name="Carat, maximum")
    assert maximum.get_attribute("aria-valuetext") == "1.50 ct"
    page.get_by_label("To price, NZD").fill("5000")
    screenshot(page, "catalog-filters")
    with page.expect_navigation():
        page.get_by_role("button", name="Apply").click()

    query = parse_qs(urlsplit(page.url).query)
    assert query["origin"] == ["lab_grown"] and query["shape"] == ["OVAL"]
    assert query["carat_max"] == ["1.5"] and query["price_max"] == ["5000"]
    assert cards(page) == ["Oval 1.20ct"]
    assert "lab-grown" in page.locator(".diamond-card").inner_text().lower()
    assert "price_min" not in query  # empty fields stay out of the shared URL
    results_url = page.url

    # Sort applies at once with script.
    with page.expect_navigation():
        page.get_by_label("Sort by").select_option("-carats")
    assert parse_qs(urlsplit(page.url).query)["sort"] == ["-carats"]
    results_url = page.url

    with page.expect_navigation():
        page.get_by_role("link", name="Oval 1.20ct").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Oval 1.20ct Diamond"
    assert page.locator(".origin--large").inner_text().lower() == "lab-grown diamond"
    photo = page.get_by_role("img", name="Photo of the oval diamond")
    photo.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=photo.element_handle()
    )
    assert photo.get_attribute("loading") == "lazy"
    assert photo.get_attribute("width") and photo.get_attribute("height")
    link = page.locator("#certificate-link")
    stone = stones["DEMO-0037"]
    assert link.get_attribute("href") == (
        f"https://www.igi.org/verify-your-report/?r={stone.certificate_number}"
    )
    assert "Check the IGI report" in link.inner_text()
    assert "Measurements" in page.locator(".specs-section").inner_text()
    screenshot(page, "diamond-page")

    with page.expect_navigation():
        page.get_by_role("button", name="Compare the oval 1.20ct diamond").click()
    assert "is in your comparison (1 of 4)" in page.locator(".messages").inner_text()

    # Back to results keeps every filter.
    with page.expect_navigation():
        page.get_by_role("link", name="← Back to results").click()
    assert parse_qs(urlsplit(page.url).query) == parse_qs(urlsplit(results_url).query)
    assert cards(page) == ["Oval 1.20ct"]

    # A natural oval to compare it with.
    page.goto(stones["DEMO-0038"].get_absolute_url())
    assert page.locator(".origin--large").inner_text().lower() == "natural diamond"
    with page.expect_navigation():
        page.get_by_role("button", name="Compare the oval 1.21ct diamond").click()
    with page.expect_navigation():
        page.get_by_role("link", name="See the comparison (2 of 4)").click()

    table = page.locator(".compare-table")
    assert table.locator("thead th").all_inner_texts() == ["Oval 1.20ct", "Oval 1.21ct"]
    origin_row = table.get_by_role("row").filter(has_text="Origin").inner_text().lower()
    assert "lab-grown" in origin_row and "natural" in origin_row
    screenshot(page, "compare")

    with page.expect_navigation():
        page.get_by_role("button", name="Remove the oval 1.20ct diamond").click()
    assert table.locator("thead th").all_inner_texts() == ["Oval 1.21ct"]

    # And the returns policy, from the footer.
    with page.expect_navigation():
        page.get_by_role("navigation", name="Store information").get_by_role(
            "link", name="Returns"
        ).click()
    assert page.get_by_role("heading", level=1).inner_text() == "Returns"
    assert "30 days" in page.locator("main").inner_text()


def test_without_javascript_the_same_search_works_with_the_number_inputs(new_page, stones):
    page = new_page(java_script_enabled=False)
    page.goto("/")
    assert page.locator("input[type='range']").count() == 0  # sliders are an enhancement
    search_for_a_lab_grown_oval(page)
    page.get_by_label("From carat").fill("1.0")
    page.get_by_label("To carat").fill("1.5")
    page.get_by_label("To price, NZD").fill("5000")
    with page.expect_navigation():
        page.get_by_role("button", name="Apply").click()
    assert cards(page) == ["Oval 1.20ct"]

    # Sort has its own button without script.
    page.get_by_label("Sort by").select_option("-price")
    with page.expect_navigation():
        page.get_by_role("button", name="Sort").click()
    assert parse_qs(urlsplit(page.url).query)["sort"] == ["-price"]
    assert cards(page) == ["Oval 1.20ct"]

    with page.expect_navigation():
        page.get_by_role("link", name="List").click()
    assert page.locator(".diamond-table tbody tr").count() == 1

    with page.expect_navigation():
        page.get_by_role("link", name="Oval 1.20ct").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Compare the oval 1.20ct diamond").click()
    page.goto("/compare/")
    assert page.locator(".compare-table thead th").all_inner_texts() == ["Oval 1.20ct"]


def test_a_photo_that_fails_to_load_shows_the_shape_drawing(new_page, stones):
    stone = stones["DEMO-0002"]
    stone.image_url = "/static/catalog/photos/missing.svg"
    stone.save(update_fields=["image_url"])
    page = new_page()
    page.goto(stone.get_absolute_url())
    image = page.locator(".diamond-detail__image img")
    page.wait_for_function(
        "img => img.src.endsWith('/static/catalog/shapes/oval.svg') && img.naturalWidth > 0",
        arg=image.element_handle(),
    )


# ---------------------------------------------------------------- accessibility (axe-core)


def axe_violations(page) -> list[dict]:
    """axe-core's WCAG 2 A/AA violations on the page (evaluated through the DevTools
    protocol, which the page's Content-Security-Policy does not block)."""
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `make browser` (npm install from package.json).")
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {
                runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
            });
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ") + " " + n.failureSummary),
            }));
        }"""
    )
    return result


def test_axe_finds_no_violations_on_catalog_stone_compare_and_content_pages(new_page, stones):
    # axe-core measures colours by adding inline styles, which the store's policy forbids.
    page = new_page(bypass_csp=True)
    lab, natural = stones["DEMO-0037"], stones["DEMO-0038"]
    paths = [
        "/",
        "/?origin=lab_grown&shape=OVAL&view=list",
        "/?carat_min=lots&color_min=Q",  # with the error notice
        lab.get_absolute_url(),
        natural.get_absolute_url(),
        "/compare/",
        "/guide/",
        *(
            f"/pages/{name}/"
            for name in ("shipping", "returns", "contact", "faq", "terms", "privacy")
        ),
    ]
    for stone in (lab, natural):
        page.goto(stone.get_absolute_url())
        with page.expect_navigation():
            page.locator(".detail-actions").get_by_role("button").click()
    found = {}
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for path in paths:
            page.goto(path)
            violations = axe_violations(page)
            if violations:
                found[f"{path} @{width}"] = violations
    assert found == {}, json.dumps(found, indent=2)
