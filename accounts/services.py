"""Throttling failed log-ins, in Django's cache.

The counters live in `django.core.cache.cache`, so every process shares them when the cache
is Redis (`CACHE_URL`); with the default local-memory cache each process counts on its own.
A window starts at the first failure and is fixed (not sliding): after LOGIN_FAILURE_LIMIT
failures for one username from one address, further attempts are refused without checking
the password until the window ends. A successful log-in clears the count. A second, wider
limit per address slows one machine trying many usernames.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @property
    def minutes(self) -> int:
        return max(1, round(self.seconds / 60))


def rate_parse(rate: str) -> Rate:
    """`"5/15m"` → 5 per 900 seconds. Units: s, m, h, d."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*", rate or "")
    if not match:
        raise ValueError(f"Invalid rate {rate!r}; expected e.g. '5/15m'.")
    return Rate(int(match.group(1)), int(match.group(2) or 1) * UNITS[match.group(3)])


def _key(kind: str, *parts: str) -> str:
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8", "replace")).hexdigest()
    return f"login-failures:{kind}:{digest}"


def _keys(*, username: str, ip: str) -> list[tuple[str, Rate]]:
    return [
        (_key("user-ip", username.casefold(), ip), rate_parse(settings.LOGIN_FAILURE_LIMIT)),
        (_key("ip", ip), rate_parse(settings.LOGIN_FAILURE_LIMIT_PER_IP)),
    ]


def login_throttled(*, username: str, ip: str) -> Rate | None:
    """The limit that is used up for this username and address, or None."""
    for key, rate in _keys(username=username, ip=ip):
        if (cache.get(key) or 0) >= rate.count:
            return rate
    return None


def login_failure_record(*, username: str, ip: str) -> None:
    for key, rate in _keys(username=username, ip=ip):
        cache.add(key, 0, timeout=rate.seconds)  # starts the window; no-op when it is running
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=rate.seconds)


def login_failures_clear(*, username: str, ip: str) -> None:
    key, _ = _keys(username=username, ip=ip)[0]
    cache.delete(key)


def client_ip(request) -> str:
    """The connecting address. REMOTE_ADDR only: a forwarded-for header is the client's to
    invent unless a proxy rewrites it, and this store does not assume one does."""
    return request.META.get("REMOTE_ADDR", "") or "unknown"
