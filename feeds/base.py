"""The interface every supplier ("feed") adapter implements, and the registry by feed name."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from catalog.models import Diamond


class FeedError(Exception):
    """Anything a supplier call can go wrong with, worded so ops can act on it.

    `outcome_unknown` is set when the call may have reached the supplier (a timeout on an
    order): retrying blindly could buy the stone twice.
    """

    def __init__(self, message: str, *, outcome_unknown: bool = False):
        super().__init__(message)
        self.outcome_unknown = outcome_unknown


@dataclass(frozen=True)
class Stone:
    """One stone as the feed offers it, already mapped to the catalog's vocabulary."""

    supplier_stone_id: str
    offer_id: str
    shape: str
    carats: Decimal
    color: str
    clarity: str
    cut: str
    polish: str
    symmetry: str
    lab: str
    certificate_number: str
    image_url: str
    price_nzd: Decimal
    price_model_nzd: Decimal
    availability: str
    lab_grown: bool = False
    video_url: str = ""
    certificate_url: str = ""
    fluorescence: str = ""
    length_mm: Decimal | None = None
    width_mm: Decimal | None = None
    depth_mm: Decimal | None = None
    depth_percent: Decimal | None = None
    table_percent: Decimal | None = None


@dataclass(frozen=True)
class Page:
    stones: list[Stone]
    total_count: int
    skipped: int = 0
    skipped_reasons: dict[str, int] = field(default_factory=dict)
    """Why records were skipped (e.g. "no certificate": 3); the counts add up to `skipped`."""


class FeedAdapter:
    name: str = ""
    supports_holds: bool = False
    max_page_size: int = 1000
    """The largest `limit` one `search` call accepts."""

    def search(self, *, offset: int, limit: int) -> Page:
        raise NotImplementedError

    def iter_pages(self, *, page_size: int, limit: int | None = None) -> Iterator[Page]:
        offset = 0
        while limit is None or offset < limit:
            size = page_size if limit is None else min(page_size, limit - offset)
            page = self.search(offset=offset, limit=size)
            if not page.stones and not page.skipped:
                return
            yield page
            offset += len(page.stones) + page.skipped
            if offset >= page.total_count:
                return

    def check_availability(self, diamond: Diamond) -> str:
        """The stone's live availability, as a `catalog.models.Availability` value."""
        raise NotImplementedError

    def create_order(self, diamond: Diamond, *, reference: str, comments: str = "") -> str:
        """Place the supplier order; returns the supplier's order id. Raises FeedError."""
        raise NotImplementedError

    def create_hold(self, diamond: Diamond) -> str:
        raise FeedError(f"The {self.name} feed does not support holds.")

    def cancel_hold(self, hold_id: str) -> None:
        raise FeedError(f"The {self.name} feed does not support holds.")


# Adapters register themselves on import; `feeds.registry` imports them all.
_registry: dict[str, type[FeedAdapter]] = {}


def register(adapter_class: type[FeedAdapter]) -> type[FeedAdapter]:
    _registry[adapter_class.name] = adapter_class
    return adapter_class
