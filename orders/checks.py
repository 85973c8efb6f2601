"""System checks for the tax invoice: the seller's details it must print, and the library that
makes its PDF."""

from django.conf import settings
from django.core.checks import Error, Tags, register

from orders.invoices import gst_number_format


@register(Tags.compatibility)
def check_tax_invoice_settings(app_configs, **kwargs):
    """With DEBUG off every paid order's tax invoice must name the seller and its GST number."""
    if settings.DEBUG:
        return []
    errors = []
    gst_number = settings.GST_NUMBER.strip()
    if not gst_number:
        errors.append(
            Error(
                "GST_NUMBER is empty while DEBUG is off: tax invoices must show the store's "
                "GST number.",
                hint="Set GST_NUMBER to the store's GST (IRD) number: 8 or 9 digits, dashes "
                "optional.",
                id="orders.E001",
            )
        )
    elif gst_number_format(gst_number) is None:
        errors.append(
            Error(
                f"GST_NUMBER {gst_number!r} is not a valid GST (IRD) number: 8 or 9 digits "
                "whose last is the IRD's check digit.",
                hint="Copy the number from the store's GST registration (dashes are optional).",
                id="orders.E002",
            )
        )
    for name, what in (("STORE_NAME", "name"), ("STORE_ADDRESS", "address")):
        if not getattr(settings, name).strip():
            errors.append(
                Error(
                    f"{name} is empty while DEBUG is off: tax invoices must show the store's "
                    f"{what}.",
                    hint=f"Set {name} (see .env.example).",
                    id="orders.E003",
                )
            )
    return errors


@register(Tags.compatibility)
def check_pdf_library(app_configs, **kwargs):
    """WeasyPrint loads Debian's Pango when imported; without it no invoice PDF can be made."""
    try:
        import weasyprint  # noqa: F401  (imported here only to see that it loads)
    except OSError as exc:
        return [
            Error(
                f"The tax invoice's PDF cannot be made: WeasyPrint could not load a system "
                f"library ({exc}).",
                hint="Install Pango, HarfBuzz and a font: `make install` does "
                "(apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 "
                "fonts-dejavu-core).",
                id="orders.E004",
            )
        ]
    return []


@register(Tags.compatibility)
def check_carriers(app_configs, **kwargs):
    """Ops ship with a carrier of `CARRIERS`: each needs a name and a tracking URL template."""
    carriers = settings.CARRIERS
    hint = (
        'CARRIERS is JSON: {"code": {"name": "NZ Post", "tracking_url": '
        '"https://www.nzpost.co.nz/tools/tracking/item/{number}"}}.'
    )
    if not isinstance(carriers, dict) or not carriers:
        return [Error("CARRIERS names no carrier to ship with.", hint=hint, id="orders.E010")]
    errors = []
    for code, carrier in carriers.items():
        name = carrier.get("name") if isinstance(carrier, dict) else None
        url = carrier.get("tracking_url") if isinstance(carrier, dict) else None
        if not isinstance(name, str) or not name.strip():
            errors.append(Error(f"CARRIERS[{code!r}] has no name.", hint=hint, id="orders.E011"))
        if not (isinstance(url, str) and url.startswith("https://") and "{number}" in url):
            errors.append(
                Error(
                    f"CARRIERS[{code!r}]'s tracking_url must be an https:// address holding "
                    "{number}.",
                    hint=hint,
                    id="orders.E012",
                )
            )
    return errors
