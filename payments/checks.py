from django.conf import settings
from django.core.checks import Error, Tags, register

from core.rates import rate_parse
from payments.gateway import SIMULATOR_WEBHOOK_SECRET


@register(Tags.security)
def check_stripe_settings(app_configs, **kwargs):
    errors = []
    if settings.STRIPE_SECRET_KEY and not settings.STRIPE_WEBHOOK_SECRET:
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
    if settings.STRIPE_WEBHOOK_SECRET == SIMULATOR_WEBHOOK_SECRET and real_store:
        return [
            Error(
                "STRIPE_WEBHOOK_SECRET is the payment simulator's public secret outside the "
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
