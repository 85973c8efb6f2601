"""One throttle for every log-in form (the shop's and the admin's), in Django's cache.

The counters live in `django.core.cache.cache`, so every process shares them when the cache
is Redis (`CACHE_URL`); with the default local-memory cache each process counts on its own.
Three counters, each a fixed window that starts at its first failure:

- one account from one address (`LOGIN_FAILURE_LIMIT`, 5 per 15 minutes),
- one account from anywhere (`LOGIN_FAILURE_LIMIT_PER_ACCOUNT`, 20 per 15 minutes: many
  machines guessing one password),
- one address, any account (`LOGIN_FAILURE_LIMIT_PER_IP`, 50 per 15 minutes: one machine
  trying many accounts).

An account is counted as itself whichever name it is typed as (its email in any case or its
username); a name no account has is counted as typed, case-folded. Once a limit is used up,
attempts are refused without checking the password until its window ends. A successful
log-in clears the account's count from that address.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache

from accounts.selectors import user_for_login
from core.rates import Rate, rate_parse


def client_ip(request) -> str:
    """The connecting address. Behind the store's own proxy (a request from an address in
    TRUSTED_PROXIES, e.g. deploy/'s nginx on the same host) it is the proxy's `X-Real-IP`,
    which nginx sets itself; from anywhere else a header is the client's to invent, so only
    REMOTE_ADDR counts."""
    remote = request.META.get("REMOTE_ADDR", "")
    if remote in settings.TRUSTED_PROXIES:
        forwarded = request.META.get("HTTP_X_REAL_IP", "").strip()
        if forwarded and len(forwarded) <= 45:
            return forwarded
    return remote or "unknown"


def login_account(identifier: str) -> str:
    """What the counters count an identifier typed at a log-in form as: its account (by id)
    when one has that email or username, else the identifier itself, case-folded."""
    user = user_for_login(identifier)
    return f"user:{user.pk}" if user is not None else f"name:{identifier.strip().casefold()}"


def _key(kind: str, *parts: str) -> str:
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8", "replace")).hexdigest()
    return f"login-failures:{kind}:{digest}"


def _counters(*, account: str, ip: str) -> list[tuple[str, Rate]]:
    """(cache key, limit) of each counter an attempt adds to; the account-from-address one
    first (the one a success clears)."""
    return [
        (_key("account-ip", account, ip), rate_parse(settings.LOGIN_FAILURE_LIMIT)),
        (_key("account", account), rate_parse(settings.LOGIN_FAILURE_LIMIT_PER_ACCOUNT)),
        (_key("ip", ip), rate_parse(settings.LOGIN_FAILURE_LIMIT_PER_IP)),
    ]


def login_throttled(*, account: str, ip: str) -> Rate | None:
    """The limit that is used up for this account (`login_account`) and address, or None."""
    for key, rate in _counters(account=account, ip=ip):
        if (cache.get(key) or 0) >= rate.count:
            return rate
    return None


def login_failure_record(*, account: str, ip: str) -> None:
    for key, rate in _counters(account=account, ip=ip):
        cache.add(key, 0, timeout=rate.seconds)  # starts the window; no-op when it is running
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=rate.seconds)


def login_failures_clear(*, account: str, ip: str) -> None:
    key, _ = _counters(account=account, ip=ip)[0]
    cache.delete(key)
