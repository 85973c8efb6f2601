"""Catalog operations the storefront performs: the shopper's compare list."""

from __future__ import annotations

from catalog.models import Diamond
from catalog.selectors import COMPARE_LIMIT, COMPARE_SESSION_KEY, compare_ids

# ---------------------------------------------------------------- compare


class CompareFull(Exception):
    """The compare list already holds `COMPARE_LIMIT` stones."""


def compare_add(*, session, diamond: Diamond) -> list[str]:
    """Add the stone to the session's compare list (at most `COMPARE_LIMIT`; adding one
    already there changes nothing). Raises CompareFull."""
    ids = compare_ids(session=session)
    if str(diamond.pk) in ids:
        return ids
    if len(ids) >= COMPARE_LIMIT:
        raise CompareFull(f"You can compare up to {COMPARE_LIMIT} diamonds.")
    ids.append(str(diamond.pk))
    session[COMPARE_SESSION_KEY] = ids
    return ids


def compare_remove(*, session, diamond_id: str) -> list[str]:
    ids = [pk for pk in compare_ids(session=session) if pk != str(diamond_id)]
    session[COMPARE_SESSION_KEY] = ids
    return ids


def compare_clear(*, session) -> None:
    session.pop(COMPARE_SESSION_KEY, None)
