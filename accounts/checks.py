from django.conf import settings
from django.core.checks import Error, Tags, register

from core.rates import rate_parse

RATE_SETTINGS = (
    "LOGIN_FAILURE_LIMIT",
    "LOGIN_FAILURE_LIMIT_PER_ACCOUNT",
    "LOGIN_FAILURE_LIMIT_PER_IP",
    "ACCOUNT_EMAIL_LIMIT",
)


@register(Tags.security)
def check_account_limits(app_configs, **kwargs):
    """The log-in throttle's and the account mails' limits read as rates."""
    errors = []
    for name in RATE_SETTINGS:
        try:
            rate_parse(getattr(settings, name))
        except ValueError as exc:
            errors.append(
                Error(
                    f"{name}: {exc}",
                    hint=f"{name} is a count per window, e.g. '5/15m' (s, m, h, d).",
                    id="accounts.E001",
                )
            )
    return errors
