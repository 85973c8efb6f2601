"""The content pages give the return window the store keeps (`RETURN_DAYS`, filled in when a
page is shown) instead of "30 days" written into the page. Only the seeded text is changed: a
page staff edited keeps their words."""

from importlib import import_module

from django.db import migrations

edit_pages = import_module("catalog.migrations.0006_content_pages_one_contact_address").edit_pages

TOKEN = "{{ return_days }}"
EDITS = {
    "/pages/returns/": [
        ("within 30 days of delivery and we refund", f"within {TOKEN} days of delivery and we refund"),
        ("<h2>Our 30-day promise</h2>", f"<h2>Our {TOKEN}-day promise</h2>"),
        ("<strong>30 days of delivery</strong>", f"<strong>{TOKEN} days of delivery</strong>"),
        ("The button is there for 30 days after delivery", f"The button is there for {TOKEN} days after delivery"),
    ],
    "/pages/faq/": [
        ("<p>Within 30 days of delivery, for a full refund", f"<p>Within {TOKEN} days of delivery, for a full refund"),
    ],
    "/pages/terms/": [
        ("you have 30 days to change your mind", f"you have {TOKEN} days to change your mind"),
    ],
}


def apply(apps, schema_editor, *, forward=True):
    edit_pages(apps, EDITS, forward=forward)


def backwards(apps, schema_editor):
    apply(apps, schema_editor, forward=False)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0008_diamond_indexes_end_with_id"),
        ("flatpages", "0001_initial"),
    ]

    operations = [migrations.RunPython(apply, backwards)]
