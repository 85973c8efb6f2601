"""A diamond's availability: its own small state table — every move a stone makes, who makes
it, from which states, to which. `catalog.services.diamond_move` is the one writer: a guarded
conditional UPDATE built from this table, so a move that no longer applies (another checkout
reserved the stone first) changes nothing. The database allows only the values below
(`diamond_availability_valid`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models


class Availability(models.TextChoices):
    AVAILABLE = "available", "Available"
    RESERVED = "reserved", "Reserved"
    ON_HOLD = "on_hold", "On hold"
    SOLD = "sold", "Sold"
    UNAVAILABLE = "unavailable", "Unavailable"


A = Availability
# The supplier's word on a stone the store does not own: the states a feed may report.
FEED_STATES = frozenset({A.AVAILABLE, A.ON_HOLD, A.UNAVAILABLE})


@dataclass(frozen=True)
class Move:
    name: str
    source: frozenset[str]
    targets: frozenset[str]
    who: str
    description: str

    def target(self, to: str | None) -> str:
        """The state this move goes to: its only one, or `to`, which it must allow."""
        if to is None and len(self.targets) == 1:
            return next(iter(self.targets))
        if to not in self.targets:
            raise ValueError(f"{self.name} goes to {sorted(self.targets)}, not {to!r}")
        return to


def _m(name, source, targets, who, description) -> Move:
    return Move(name, frozenset(source), frozenset(targets), who, description)


# fmt: off
MOVES: dict[str, Move] = {m.name: m for m in [
    _m("reserve", {A.AVAILABLE}, {A.RESERVED}, "checkout",
       "a checkout holds the stone while the shopper pays"),
    _m("release", {A.RESERVED}, {A.AVAILABLE}, "the order",
       "the checkout closed unpaid, or the order ended before the supplier had it"),
    _m("sell", {A.RESERVED}, {A.SOLD}, "the order", "the supplier confirmed the order"),
    _m("refused", {A.RESERVED}, {A.UNAVAILABLE}, "the order",
       "the order ended after the supplier refused it: off sale until an import lists it"),
    _m("feed_check", {A.AVAILABLE}, {A.ON_HOLD, A.UNAVAILABLE}, "checkout",
       "the supplier's live answer at checkout: on hold elsewhere, or gone"),
    _m("restock", {A.SOLD}, {A.AVAILABLE}, "ops",
       "a returned stone goes back on sale (ops chose so when receiving the return)"),
    _m("withdraw", {A.AVAILABLE, A.ON_HOLD}, {A.UNAVAILABLE}, "ops",
       "ops take the stone off sale"),
    _m("import", FEED_STATES, FEED_STATES, "the feed import",
       "the supplier's listing; a stone the store owns (reserved, sold) is never touched"),
    _m("delist", {A.AVAILABLE, A.ON_HOLD}, {A.UNAVAILABLE}, "the feed import",
       "a complete import no longer lists the stone"),
]}
# fmt: on

# States the store owns: an order holds or bought the stone; no feed changes them.
STORE_OWNED = frozenset(A.values) - MOVES["import"].source


def table_markdown() -> str:
    """The moves as Markdown (docs/ARCHITECTURE.md)."""
    lines = ["| move | from | to | who | what happened |", "|---|---|---|---|---|"]
    for m in MOVES.values():
        lines.append(
            f"| `{m.name}` | {', '.join(sorted(m.source))} | {', '.join(sorted(m.targets))} "
            f"| {m.who} | {m.description} |"
        )
    return "\n".join(lines) + "\n"
