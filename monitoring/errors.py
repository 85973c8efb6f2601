"""Error reports: `SENTRY_DSN` turns on sentry-sdk with the Django integration.

Personal data stays off (`send_default_pii=False`) and `before_send` scrubs what could still
carry a secret: Stripe keys (`sk_…`, `rk_…`, `whsec_…`), the `Stripe-Signature`, cookies,
`Authorization`, CSRF tokens, and any variable, header or field whose name says secret,
password, token, key, signature, cookie or session — in the request, local variables of stack
frames, breadcrumbs and extra data.
"""

from __future__ import annotations

import re

SECRET_VALUE_RE = re.compile(
    r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]+|\bwhsec_[A-Za-z0-9]+|\bxox[abpr]-[A-Za-z0-9-]+"
    r"|\bt=\d+,v1=[0-9a-f]+(?:,v0=[0-9a-f]+)?|\bBearer\s+[A-Za-z0-9._~+/=-]+"
)
SECRET_NAME_RE = re.compile(
    r"secret|passw|token|api_?key|signature|cookie|sessionid|session_key|authorization|csrf|dsn|credential",
    re.IGNORECASE,
)
FILTERED = "[Filtered]"


def scrub(value, *, depth: int = 0):
    """`value` with every secret-looking entry and substring replaced by `[Filtered]`."""
    if depth > 20:
        return value
    if isinstance(value, str):
        return SECRET_VALUE_RE.sub(FILTERED, value)
    if isinstance(value, dict):
        return {
            k: FILTERED
            if isinstance(k, str) and SECRET_NAME_RE.search(k)
            else scrub(v, depth=depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        scrubbed = [scrub(v, depth=depth + 1) for v in value]
        # Header lists come as [name, value] pairs.
        if (
            len(scrubbed) == 2
            and isinstance(scrubbed[0], str)
            and SECRET_NAME_RE.search(scrubbed[0])
        ):
            scrubbed[1] = FILTERED
        return type(value)(scrubbed) if isinstance(value, tuple) else scrubbed
    return value


def before_send(event, hint):
    return scrub(event)


def before_breadcrumb(crumb, hint):
    return scrub(crumb)


def sentry_init(*, dsn: str, environment: str, traces_sample_rate: float = 0.0) -> bool:
    """Start sentry-sdk when a DSN is set; returns whether it did."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration()],
        send_default_pii=False,
        traces_sample_rate=traces_sample_rate,
        before_send=before_send,
        before_breadcrumb=before_breadcrumb,
        max_request_body_size="never",
    )
    return True
