import pytest


@pytest.mark.django_db
def test_storefront_pages_forbid_inline_code_and_foreign_form_targets(client, settings):
    settings.STOREFRONT_URL = "https://shop.example.com"
    policy = client.get("/").headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["form-action"].split() == [
        "'self'",
        "https://shop.example.com",
        "https://checkout.stripe.com",
    ]
    assert directives["frame-ancestors"] == "'none'"


@pytest.mark.django_db
def test_the_admin_keeps_djangos_own_headers(admin_client):
    assert "Content-Security-Policy" not in admin_client.get("/admin/").headers
