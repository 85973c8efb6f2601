"""The `demo` feed: a fixed, deterministic set of stones, no network.

Prices are computed by the pricing model (`feeds/pricing.py`) from a supplier price in US
cents, like a real feed. About 40% of the stones are lab-grown (priced lower by the supplier and
with the lab-grown markup). Photos are local static renders (`static/catalog/photos/`, so the
demo stays offline); one stone in nine has none, to show the shape drawing instead. Every stone
has measurements, proportions, fluorescence and a certificate link (the lab's report check).

Orders can be made to fail, to show the failure path:
- every order fails while `settings.DEMO_FEED_FAIL_ORDERS` is true (read at call time);
- stones whose `supplier_stone_id` starts with `DEMO-FAIL-` ALWAYS fail an order. They are
  otherwise normal, available stones (see `FAILING_STONE_IDS`).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from django.conf import settings

from catalog.models import (
    CLARITY_SCALE,
    COLOR_SCALE,
    SHAPE_ORDER,
    Availability,
    certificate_check_url,
)
from feeds.base import FeedAdapter, FeedError, Page, Stone, register
from feeds.pricing import prices_from_usd_cents

# 36 stones drawn from the grading scales, then a few chosen ones a shopper will look for
# (1.0-1.5 ct ovals, lab-grown and natural, near-colourless and VS) — 40 in all.
_GENERATED = 36
_CHOSEN = (
    # shape, carats, color, clarity, cut, lab-grown
    ("OVAL", "1.20", "G", "VS1", "EX", True),
    ("OVAL", "1.21", "H", "VS2", "EX", False),
    ("ROUND", "1.02", "H", "VS1", "EX", True),
    ("CUSHION", "1.50", "G", "VVS2", "VG", False),
)
STONE_COUNT = _GENERATED + len(_CHOSEN)
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
# Lab-grown stones trade at a fraction of a natural stone's price.
_LAB_GROWN_FACTOR = Decimal("0.22")
_LAB_GROWN_INDEXES = frozenset(i for i in range(_GENERATED) if i % 5 in (0, 3))
_NO_PHOTO = 8  # every ninth stone (i % 9 == 8) has no photo
# Length-to-width ratio by shape; the width follows from the carat weight.
_RATIO = {"ROUND": "1.00", "OVAL": "1.40", "PRINCESS": "1.00", "EMERALD": "1.42",
          "CUSHION": "1.05", "PEAR": "1.55", "RADIANT": "1.25", "MARQUISE": "2.00",
          "ASSCHER": "1.00", "HEART": "0.95"}  # fmt: skip
_FLUORESCENCE = ("None", "None", "Faint", "None", "Medium", "None", "Faint", "Strong")
_MM = Decimal("0.01")
_PCT = Decimal("0.1")


def _stone_id(index: int) -> str:
    prefix = FAIL_PREFIX if index in _FAILING_INDEXES else "DEMO-"
    return f"{prefix}{index + 1:04d}"


FAILING_STONE_IDS = tuple(_stone_id(i) for i in sorted(_FAILING_INDEXES))


def _photo_url(shape: str) -> str:
    return f"{settings.STATIC_URL}catalog/photos/{shape.lower()}.svg"


def _measurements(*, index: int, shape: str, carats: Decimal) -> dict:
    """Plausible measurements and proportions: a 1 ct round is about 6.4 mm across."""
    ratio = Decimal(_RATIO[shape])
    round_diameter = Decimal(str(6.42 * float(carats) ** (1 / 3)))
    width = round_diameter / ratio.sqrt() * Decimal("0.97" if shape != "ROUND" else "1")
    depth_percent = Decimal("59.8") + Decimal(index * 7 % 31) / 10
    table_percent = Decimal("54") + Decimal(index * 3 % 11) / 2
    return {
        "length_mm": (width * ratio).quantize(_MM, ROUND_HALF_UP),
        "width_mm": width.quantize(_MM, ROUND_HALF_UP),
        "depth_mm": (width * depth_percent / 100).quantize(_MM, ROUND_HALF_UP),
        "depth_percent": depth_percent.quantize(_PCT),
        "table_percent": table_percent.quantize(_PCT),
    }


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
        lab_grown = i in _LAB_GROWN_INDEXES
        if i >= _GENERATED:
            shape, chosen_carats, color, clarity, cut, lab_grown = _CHOSEN[i - _GENERATED]
            carats = Decimal(chosen_carats)
        if lab_grown:
            lab, certificate = "IGI", f"LG{612_400_000 + i * 613}"
        elif i % 7 == 6:
            lab, certificate = "HRD", f"{240_001_000 + i * 37}"
        else:
            lab, certificate = "GIA", f"{2_141_300_000 + i * 7919}"
        usd_cents = _usd_cents(carats=carats, shape=shape, color=color, clarity=clarity, cut=cut)
        if lab_grown:
            usd_cents = int(usd_cents * _LAB_GROWN_FACTOR) // 100 * 100
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
                "certificate_url": certificate_check_url(lab=lab, number=certificate),
                "lab_grown": lab_grown,
                "fluorescence": _FLUORESCENCE[i % len(_FLUORESCENCE)],
                "has_photo": i % 9 != _NO_PHOTO,
                **_measurements(index=i, shape=shape, carats=carats),
                "usd_cents": usd_cents,
            }
        )
    return tuple(specs)


def demo_stones() -> list[Stone]:
    """All demo stones, priced with the current pricing settings."""
    stones = []
    for spec in _specs():
        fields = dict(spec)
        price_nzd, price_model_nzd = prices_from_usd_cents(
            fields.pop("usd_cents"), lab_grown=spec["lab_grown"]
        )
        has_photo = fields.pop("has_photo")
        stones.append(
            Stone(
                **fields,
                image_url=_photo_url(spec["shape"]) if has_photo else "",
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
                "is on, so every demo order fails. Turn the setting off before retrying the "
                "feed order."
            )
        if diamond.supplier_stone_id.startswith(FAIL_PREFIX):
            raise FeedError(
                f"Demo feed refused the order {reference} for {stone}: stones whose id "
                f"starts with {FAIL_PREFIX} always fail, to show the failure path: a retry "
                "fails again."
            )
        if self.check_availability(diamond) != Availability.AVAILABLE:
            raise FeedError(f"Demo feed has no {stone}, so order {reference} was not placed.")
        return f"DEMO-{reference}"
