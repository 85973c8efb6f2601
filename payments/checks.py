from django.conf import settings
from django.core.checks import Error, Tags, register

from core.rates import rate_parse
from gateway.signing import secrets_listed
from gateway.simulator import SIMULATOR_WEBHOOK_SECRET
from payments.countries import CHECKOUT_COUNTRIES, ISO_3166_ALPHA_2


@register(Tags.security)
def check_stripe_settings(app_configs, **kwargs):
    errors = []
    if settings.STRIPE_SECRET_KEY and not secrets_listed(settings.STRIPE_WEBHOOK_SECRET):
        errors.append(
            Error(
                "STRIPE_SECRET_KEY is set but STRIPE_WEBHOOK_SECRET is empty: "
                "webhooks could not be verified.",
                hint="Set STRIPE_WEBHOOK_SECRET to the endpoint's signing secret (whsec_…).",
                id="payments.E001",
            )
        )
    if not settings.STRIPE_SECRET_KEY and not settings.DEBUG:
        errors.append(
            Error(
                "STRIPE_SECRET_KEY is empty while DEBUG is off: the payment simulator "
                "only runs in development.",
                hint="Set STRIPE_SECRET_KEY (and STRIPE_WEBHOOK_SECRET) for a real store.",
                id="payments.E002",
            )
        )
    if not 30 <= settings.CHECKOUT_EXPIRY_MINUTES <= 24 * 60:
        errors.append(
            Error(
                f"CHECKOUT_EXPIRY_MINUTES is {settings.CHECKOUT_EXPIRY_MINUTES}; Stripe accepts "
                "30 minutes to 24 hours.",
                id="payments.E003",
            )
        )
    return errors


@register(Tags.security)
def check_simulator_settings(app_configs, **kwargs):
    real_store = settings.STRIPE_SECRET_KEY or not settings.DEBUG
    if SIMULATOR_WEBHOOK_SECRET in secrets_listed(settings.STRIPE_WEBHOOK_SECRET) and real_store:
        return [
            Error(
                "STRIPE_WEBHOOK_SECRET holds the payment simulator's public secret outside the "
                "simulator: anyone could sign webhook events.",
                hint="Use the signing secret (whsec_…) of your Stripe webhook endpoint.",
                id="payments.E004",
            )
        ]
    return []


@register(Tags.compatibility)
def check_checkout_rate_limit(app_configs, **kwargs):
    try:
        rate_parse(settings.CHECKOUT_RATE_LIMIT)
    except ValueError as exc:
        return [
            Error(
                str(exc),
                hint="CHECKOUT_RATE_LIMIT is checkouts per window, e.g. '10/10m' (s, m, h, d).",
                id="payments.E005",
            )
        ]
    return []


@register(Tags.compatibility)
def check_checkout_capture(app_configs, **kwargs):
    if settings.CHECKOUT_CAPTURE not in ("manual", "automatic"):
        return [
            Error(
                f"CHECKOUT_CAPTURE is {settings.CHECKOUT_CAPTURE!r}.",
                hint="Use 'manual' (authorise, capture when the supplier confirms) or "
                "'automatic' (charge at Checkout).",
                id="payments.E006",
            )
        ]
    return []


@register(Tags.compatibility)
def check_shipping_countries(app_configs, **kwargs):
    """Stripe Checkout refuses every session whose `allowed_countries` holds a code it does not
    know: a typo here would stop all checkouts."""
    codes = list(settings.SHIPPING_COUNTRIES)
    errors = []
    unknown = [code for code in codes if code not in ISO_3166_ALPHA_2]
    if unknown or not codes:
        errors.append(
            Error(
                f"SHIPPING_COUNTRIES has {', '.join(map(repr, unknown)) or 'no code'}: "
                "not an ISO 3166-1 alpha-2 country code.",
                hint="List two-letter country codes separated by commas, e.g. 'NZ,AU'.",
                id="payments.E007",
            )
        )
    unshipped = [code for code in codes if code in ISO_3166_ALPHA_2 - CHECKOUT_COUNTRIES]
    if unshipped:
        errors.append(
            Error(
                f"SHIPPING_COUNTRIES has {', '.join(unshipped)}: Stripe Checkout does not "
                "collect shipping addresses there, and would refuse every checkout.",
                hint="Remove those codes from SHIPPING_COUNTRIES.",
                id="payments.E008",
            )
        )
    return errors


@register(Tags.security)
def check_webhook_secrets(app_configs, **kwargs):
    """`STRIPE_WEBHOOK_SECRET` is one signing secret or several separated by commas (while one
    is rolled); an entry that is empty or not a signing secret is a mistake made in a hurry."""
    if not settings.STRIPE_WEBHOOK_SECRET:
        return []
    entries = [entry.strip() for entry in settings.STRIPE_WEBHOOK_SECRET.split(",")]
    errors = []
    if "" in entries:
        errors.append(
            Error(
                "STRIPE_WEBHOOK_SECRET has an empty entry (two commas in a row, or one at "
                "either end).",
                hint="List the signing secrets separated by single commas: whsec_new,whsec_old.",
                id="payments.E009",
            )
        )
    wrong = [
        str(number)
        for number, entry in enumerate(entries, start=1)
        if entry and not entry.startswith("whsec_")
    ]
    if wrong:
        errors.append(
            Error(
                f"STRIPE_WEBHOOK_SECRET: entry {', '.join(wrong)} of {len(entries)} is not a "
                "webhook signing secret (those start with whsec_); the events it was meant "
                "for would be refused.",
                hint="Copy the endpoint's signing secret from the Stripe Dashboard (Developers → "
                "Webhooks → the endpoint → Signing secret), not an API key or the endpoint's id.",
                id="payments.E010",
            )
        )
    return errors
