"""Content pages (flatpages seeded by catalog.0004), the grading guide and the footer."""

import pytest
from django.contrib.flatpages.models import FlatPage
from django.db.migrations.recorder import MigrationRecorder

from tests.catalog.conftest import seed_content_pages
from tests.catalog.test_views import text
from tests.factories import DiamondFactory

PAGES = {
    "/pages/shipping/": ("Shipping", "insured"),
    "/pages/returns/": ("Returns", "30 days"),
    "/pages/contact/": ("Contact us", "order number"),
    "/pages/faq/": ("Questions & answers", "lab-grown"),
    "/pages/terms/": ("Terms of sale", "New Zealand"),
    "/pages/privacy/": ("Privacy", "Privacy Act 2020"),
}


@pytest.mark.django_db
def test_the_migration_seeds_every_content_page_on_the_site(client, content_pages):
    assert MigrationRecorder.Migration.objects.filter(
        app="catalog", name="0004_content_pages"
    ).exists()
    assert set(FlatPage.objects.values_list("url", flat=True)) >= set(PAGES)
    for url, (title, words) in PAGES.items():
        page = FlatPage.objects.get(url=url)
        assert page.title == title
        assert list(page.sites.values_list("pk", flat=True)) == [1]
        response = client.get(url)
        assert response.status_code == 200, url
        # Flatpage titles and content are staff-written HTML, shown as written.
        assert f'<h1 class="page-title">{title}</h1>' in response.content.decode()
        assert words in text(response), url
        assert "Content-Security-Policy" in response.headers


@pytest.mark.django_db
def test_every_page_gives_the_return_window_the_store_keeps(client, content_pages, settings):
    """RETURN_DAYS is the return guard's own figure; the pages that promise returns, and the
    diamond's page, say that figure and no other."""
    settings.RETURN_DAYS = 14
    for url, words in {
        "/pages/returns/": [
            "within 14 days of delivery",
            "Our 14-day promise",
            "for 14 days after",
        ],
        "/pages/faq/": ["Within 14 days of delivery"],
        "/pages/terms/": ["you have 14 days to change your mind"],
    }.items():
        page = text(client.get(url))
        assert all(said in page for said in words), (url, page)
        assert "30 days" not in page and "30-day" not in page and "{{" not in page, url
    diamond = DiamondFactory()
    assert "14-day returns" in text(client.get(f"/diamonds/{diamond.pk}/"))


@pytest.mark.django_db
def test_a_page_staff_edit_is_served_as_edited(client):
    page = FlatPage.objects.create(url="/pages/care/", title="Caring for a diamond")
    page.sites.add(1)
    page.content = "<p>Clean it with warm water and a soft brush.</p>"
    page.save()

    response = client.get("/pages/care/")

    assert response.status_code == 200
    assert "Clean it with warm water" in text(response)


@pytest.mark.django_db
def test_an_unknown_page_is_404(client):
    assert client.get("/pages/nothing-here/").status_code == 404


@pytest.mark.django_db
def test_seeding_again_keeps_what_staff_edited(content_pages):
    FlatPage.objects.filter(url="/pages/returns/").update(content="<p>Our own words.</p>")

    seed_content_pages()

    assert FlatPage.objects.get(url="/pages/returns/").content == "<p>Our own words.</p>"
    assert FlatPage.objects.filter(url__startswith="/pages/").count() == len(PAGES)


@pytest.mark.django_db
def test_the_footer_links_every_content_page_and_the_guide(client):
    html = client.get("/").content.decode()
    footer = html.split('<footer class="site-footer">', 1)[1]
    for url in [*PAGES, "/guide/"]:
        assert f'href="{url}"' in footer, url


@pytest.mark.django_db
def test_the_grading_guide_explains_each_grade(client):
    response = client.get("/guide/")
    page = text(response)

    assert response.status_code == 200
    for heading in ("Natural or lab-grown", "Carat", "Colour", "Clarity", "Cut", "Certificates"):
        assert heading in page
    assert "G\N{EN DASH}H Near colourless" in page
    assert "VS1, VS2 Very slightly included" in page


@pytest.mark.django_db
def test_every_page_gives_the_one_contact_address_from_the_setting(client, content_pages, settings):
    settings.STORE_CONTACT_EMAIL = "care@store.example"
    page = client.get("/pages/contact/").content.decode()
    assert 'href="mailto:care@store.example"' in page and ">care@store.example</a>" in page
    assert "diamondstore.example" not in page and "store_contact_email" not in page

    settings.STORE_CONTACT_EMAIL = "orders@other.example"
    assert "orders@other.example" in client.get("/pages/contact/").content.decode()


@pytest.mark.django_db
def test_the_terms_promise_what_really_happens_to_the_money(client, content_pages):
    terms = text(client.get("/pages/terms/"))
    assert "the hold is released and you are never charged" in terms
    assert "refund you in full;" not in terms
