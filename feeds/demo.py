"""The `demo` feed: a fixed, deterministic set of stones, no network.

Prices are computed by the pricing model (`feeds/pricing.py`) from a supplier price in US
cents, like a real feed. Demo stones have no image: the storefront draws the shape.

Orders can be made to fail, to show the failure path:
- every order fails while `settings.DEMO_FEED_FAIL_ORDERS` is true (read at call time);
- stones whose `supplier_stone_id` starts with `DEMO-FAIL-` ALWAYS fail an order. They are
  otherwise normal, available stones (see `FAILING_STONE_IDS`).
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache

from django.conf import settings

from catalog.models import CLARITY_SCALE, COLOR_SCALE, SHAPE_ORDER, Availability
from feeds.base import FeedAdapter, FeedError, Page, Stone, register
from feeds.pricing import prices_from_usd_cents

STONE_COUNT = 36
FAIL_PREFIX = "DEMO-FAIL-"
_FAILING_INDEXES = frozenset({4, 13, 27})

SHAPES = SHAPE_ORDER
COLORS = COLOR_SCALE[:8]  # D to K
CLARITIES = CLARITY_SCALE[:8]  # FL to SI2
GRADES = ("EX", "VG", "GD")
CARATS = (
    "0.30", "0.41", "0.50", "0.57", "0.70", "0.75", "0.90", "1.00", "1.01", "1.05", "1.20",
    "1.26", "1.50", "1.51", "1.72", "2.00", "2.01", "2.31", "2.50", "3.00", "3.02", "4.00",
    "4.50", "5.00",
)  # fmt: skip

# US dollars per carat by size band, then multipliers: a rough trade price list.
_PER_CARAT_USD = ((Decimal("0.50"), 2200), (Decimal("1.00"), 3800), (Decimal("1.50"), 6500),
                  (Decimal("2.00"), 9000), (Decimal("3.00"), 13000), (Decimal("4.00"), 17000),
                  (Decimal("99"), 22000))  # fmt: skip
_COLOR_FACTOR = {"D": "1.45", "E": "1.35", "F": "1.25", "G": "1.15",
                 "H": "1.00", "I": "0.88", "J": "0.78", "K": "0.68"}  # fmt: skip
_CLARITY_FACTOR = {"FL": "1.60", "IF": "1.45", "VVS1": "1.30", "VVS2": "1.20",
                   "VS1": "1.10", "VS2": "1.00", "SI1": "0.88", "SI2": "0.78"}  # fmt: skip
_GRADE_FACTOR = {"EX": "1.00", "VG": "0.93", "GD": "0.85"}


def _stone_id(index: int) -> str:
    prefix = FAIL_PREFIX if index in _FAILING_INDEXES else "DEMO-"
    return f"{prefix}{index + 1:04d}"


FAILING_STONE_IDS = tuple(_stone_id(i) for i in sorted(_FAILING_INDEXES))


def _usd_cents(*, carats: Decimal, shape: str, color: str, clarity: str, cut: str) -> int:
    per_carat = next(price for limit, price in _PER_CARAT_USD if carats < limit)
    usd = (
        carats
        * per_carat
        * Decimal(_COLOR_FACTOR[color])
        * Decimal(_CLARITY_FACTOR[clarity])
        * Decimal(_GRADE_FACTOR[cut])
        * (Decimal("1.00") if shape == "ROUND" else Decimal("0.80"))
    )
    return int(usd.quantize(Decimal("1"))) * 100


@cache
def _specs() -> tuple[dict, ...]:
    specs = []
    for i in range(STONE_COUNT):
        shape = SHAPES[i % len(SHAPES)]
        carats = Decimal(CARATS[(i * 7) % len(CARATS)])
        color = COLORS[(i * 3) % len(COLORS)]
        clarity = CLARITIES[(i * 5 + i // 8) % len(CLARITIES)]
        cut = GRADES[(i // 2) % len(GRADES)] if shape != "ROUND" else GRADES[(i // 10) % 2]
        lab = "IGI" if i % 3 == 2 else "GIA"
        certificate = f"{2_141_300_000 + i * 7919}" if lab == "GIA" else f"{612_400_000 + i * 613}"
        specs.append(
            {
                "supplier_stone_id": _stone_id(i),
                "offer_id": f"DEMO-OFFER-{i + 1:04d}",
                "shape": shape,
                "carats": carats,
                "color": color,
                "clarity": clarity,
                "cut": cut,
                "polish": GRADES[(i // 4) % 2],
                "symmetry": GRADES[(i // 5) % 2],
                "lab": lab,
                "certificate_number": certificate,
                "usd_cents": _usd_cents(
                    carats=carats, shape=shape, color=color, clarity=clarity, cut=cut
                ),
            }
        )
    return tuple(specs)


def demo_stones() -> list[Stone]:
    """All demo stones, priced with the current pricing settings."""
    stones = []
    for spec in _specs():
        fields = dict(spec)
        price_nzd, price_model_nzd = prices_from_usd_cents(fields.pop("usd_cents"))
        stones.append(
            Stone(
                **fields,
                image_url="",
                price_nzd=price_nzd,
                price_model_nzd=price_model_nzd,
                availability=Availability.AVAILABLE,
            )
        )
    return stones


@register
class DemoFeed(FeedAdapter):
    name = "demo"

    def search(self, *, offset: int, limit: int) -> Page:
        stones = demo_stones()
        return Page(stones=stones[offset : offset + limit], total_count=len(stones))

    def check_availability(self, diamond) -> str:
        known = any(s["supplier_stone_id"] == diamond.supplier_stone_id for s in _specs())
        return Availability.AVAILABLE if known else Availability.UNAVAILABLE

    def create_order(self, diamond, *, reference: str, comments: str = "") -> str:
        stone = f"stone {diamond.supplier_stone_id} (offer {diamond.offer_id or 'none'})"
        if settings.DEMO_FEED_FAIL_ORDERS:
            raise FeedError(
                f"Demo feed refused the order {reference} for {stone}: DEMO_FEED_FAIL_ORDERS "
                "is on, so every demo order fails. Turn the setting off and retry the feed "
                "order from the admin, or refund the payment."
            )
        if diamond.supplier_stone_id.startswith(FAIL_PREFIX):
            raise FeedError(
                f"Demo feed refused the order {reference} for {stone}: stones whose id "
                f"starts with {FAIL_PREFIX} always fail, to show the failure path. Retrying "
                "will fail again; refund the payment or mark the order resolved."
            )
        if self.check_availability(diamond) != Availability.AVAILABLE:
            raise FeedError(
                f"Demo feed has no {stone}, so order {reference} was not placed. "
                "Refund the payment or mark the order resolved."
            )
        return f"DEMO-{reference}"
