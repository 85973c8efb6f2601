"""The content pages give the store's one contact address (`STORE_CONTACT_EMAIL`, filled in
when a page is shown) instead of an address written into the page, and the terms say what
really happens to the money when the supplier cannot provide the stone. Only the seeded text
is changed: a page staff edited keeps their words."""

from django.db import migrations

TOKEN = "{{ store_contact_email }}"
EDITS = {
    "/pages/contact/": [
        (
            '<a href="mailto:hello@diamondstore.example">hello@diamondstore.example</a>',
            f'<a href="mailto:{TOKEN}">{TOKEN}</a>',
        )
    ],
    "/pages/terms/": [
        (
            "we tell you straight away and refund you in full;",
            "we tell you straight away and give your money back in full: if your card was "
            "only authorised, the hold is released and you are never charged; if the payment "
            "was taken, it is refunded;",
        )
    ],
}


def apply(apps, schema_editor, *, forward=True):
    edit_pages(apps, EDITS, forward=forward)


def edit_pages(apps, pages: dict, *, forward=True):
    """Replace each (old, new) phrase of each page (or back, not `forward`)."""
    FlatPage = apps.get_model("flatpages", "FlatPage")
    for url, edits in pages.items():
        for page in FlatPage.objects.filter(url=url):
            content = page.content
            for old, new in edits:
                content = content.replace(*((old, new) if forward else (new, old)))
            if content != page.content:
                page.content = content
                page.save(update_fields=["content"])


def backwards(apps, schema_editor):
    apply(apps, schema_editor, forward=False)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0005_diamond_indexes_carry_filters"),
        ("flatpages", "0001_initial"),
    ]

    operations = [migrations.RunPython(apply, backwards)]
