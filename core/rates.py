"""Rates written as settings: `"5/15m"` is five per fifteen minutes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RATE = re.compile(r"\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*")


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @property
    def window(self) -> timedelta:
        return timedelta(seconds=self.seconds)

    @property
    def minutes(self) -> int:
        """The window in whole minutes, at least one (for messages to people)."""
        return max(1, round(self.seconds / 60))


def rate_parse(rate: str) -> Rate:
    """`"5/15m"` → 5 per 900 seconds. Units: s, m, h, d; the number before the unit is
    optional (`"10/h"`). Raises ValueError for anything else."""
    match = RATE.fullmatch(rate or "")
    if not match:
        raise ValueError(f"Invalid rate {rate!r}; expected e.g. '5/15m'.")
    count, size, unit = int(match.group(1)), int(match.group(2) or 1), match.group(3)
    return Rate(count, size * UNITS[unit])
