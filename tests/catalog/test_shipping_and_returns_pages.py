"""The Shipping and Returns pages promise what the store does (catalog.0006): the tracking
link, the order page's progress line, a return asked for from the order page."""

from importlib import import_module

import pytest
from django.apps import apps
from django.contrib.flatpages.models import FlatPage

from tests.catalog.test_views import text

UPDATE = import_module("catalog.migrations.0007_shipping_and_returns_pages")


@pytest.mark.django_db
def test_the_pages_describe_the_order_page_the_tracking_link_and_the_return_button(
    client, content_pages
):
    returns = text(client.get("/pages/returns/"))
    assert "Request a return" in returns and "My orders" in returns
    assert "prepaid" not in returns and "no cost to you" not in returns
    shipping = text(client.get("/pages/shipping/"))
    assert "tracking number, with a link to follow the parcel" in shipping
    assert "ordered, confirmed, with us, shipped, delivered" in shipping


@pytest.mark.django_db
def test_the_update_rewrites_the_seeded_pages_and_keeps_what_staff_edited(content_pages):
    FlatPage.objects.filter(url="/pages/shipping/").update(
        content=UPDATE.BEFORE["/pages/shipping/"].strip()
    )
    FlatPage.objects.filter(url="/pages/returns/").update(content="<p>Our own words.</p>")

    UPDATE.update_pages(apps, None)

    shipping = FlatPage.objects.get(url="/pages/shipping/").content
    assert shipping == UPDATE.SEEDED["/pages/shipping/"][1].strip()
    assert FlatPage.objects.get(url="/pages/returns/").content == "<p>Our own words.</p>"
