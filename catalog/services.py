"""Catalog operations: moving a stone's availability (the one writer of it), and the
shopper's compare list."""

from __future__ import annotations

from django.utils import timezone

from catalog.availability import MOVES
from catalog.models import Diamond
from catalog.selectors import COMPARE_LIMIT, COMPARE_SESSION_KEY, compare_ids

# ---------------------------------------------------------------- availability


def diamond_move(*, diamonds, move: str, to: str | None = None, now=None) -> int:
    """Make availability move `move` (`catalog.availability.MOVES`) on the stones in
    `diamonds` (ids, or a queryset of them) that are still in one of its source states;
    returns how many moved. Joins the caller's transaction."""
    step = MOVES[move]
    return Diamond.objects.filter(pk__in=diamonds, availability__in=step.source).update(
        availability=step.target(to), updated_at=now or timezone.now()
    )


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
