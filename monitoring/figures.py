"""The domain's figures, as the domain apps provide them.

Monitoring sits below the domain apps and imports none of them. So each app that has figures
worth watching registers them here, in its `AppConfig.ready` (`figure_register(...)`), with a
function that reads them from its own tables at scrape time; `/metrics` asks every registered
figure. An app's tables, event kinds and states stay its own business.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

COUNTER, GAUGE, HISTOGRAM = "counter", "gauge", "histogram"


@dataclass(frozen=True)
class Figure:
    """One metric. `read(now)` gives `(label values, value)` pairs; for a histogram, one pair
    whose value is the list of observed values (seconds)."""

    name: str
    help: str
    kind: str
    read: Callable[[datetime], Iterable[tuple[tuple[str, ...], object]]]
    labels: tuple[str, ...] = ()


_FIGURES: dict[str, Figure] = {}


def figure_register(figure: Figure) -> None:
    """Register (or replace, when an app is loaded again) a figure by its name."""
    _FIGURES[figure.name] = figure


def figures_registered() -> list[Figure]:
    return [_FIGURES[name] for name in sorted(_FIGURES)]
