"""Where to send a visitor next: the one place a user-given `next` becomes a redirect."""

from __future__ import annotations

import unicodedata

from django.utils.http import url_has_allowed_host_and_scheme

NEXT_MAX_LENGTH = 2000


def safe_next_url(request, *, default: str) -> str:
    """The request's `next` (POST first, then the query string) when it is a path on this
    site, else `default` (a URL the caller built, never user input).

    Only same-host relative URLs pass: one leading slash (not `//` or `/\\`, which browsers
    read as another host), no scheme or host, no control characters, at most
    NEXT_MAX_LENGTH characters. Nothing the visitor sends is resolved as a view name.
    """
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    return candidate if is_safe_next(request, candidate) else default


def is_safe_next(request, candidate: str) -> bool:
    return (
        isinstance(candidate, str)
        and 0 < len(candidate) <= NEXT_MAX_LENGTH
        and candidate.startswith("/")
        and not candidate.startswith(("//", "/\\"))
        and "\\" not in candidate
        and not any(unicodedata.category(char).startswith("C") for char in candidate)
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    )
