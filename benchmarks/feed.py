"""`bench`: a synthetic supplier feed of N deterministic stones (BENCH_FEED_STONES, default
1,000,000), registered only when the benchmark settings are in use (benchmarks/apps.py).
Orders always succeed instantly, like the demo feed, so only our own work is measured."""

from __future__ import annotations

import os
from decimal import Decimal

from catalog.models import Availability
from feeds.base import FeedAdapter, Page, Stone

SHAPES = ("ROUND",) * 5 + ("OVAL", "PRINCESS", "EMERALD", "CUSHION", "PEAR", "RADIANT")
COLORS = ("D", "E", "F", "G", "H", "I", "J", "K")
CLARITIES = ("FL", "IF", "VVS1", "VVS2", "VS1", "VS2", "SI1", "SI2")
GRADES = ("EX", "VG", "GD")


def stone_count() -> int:
    return int(os.environ.get("BENCH_FEED_STONES", "1000000"))


FLUORESCENCE = ("None", "None", "None", "Faint", "Medium", "Strong")


def stone_row(i: int) -> dict:
    """Stone number `i`: a fixed mix of shapes and grades, carats 0.30-5.29, ~5% not available,
    ~40% lab-grown (priced at about a quarter), with measurements, proportions and links."""
    h = (i * 2654435761) % 4294967296  # Knuth's multiplicative hash: spread, deterministic
    carats = Decimal(30 + h % 500) / 100
    color = COLORS[(h >> 9) % 8]
    clarity = CLARITIES[(h >> 12) % 8]
    lab_grown = (h >> 22) % 5 < 2
    per_carat = 2000 + int(carats * 3000) + (8 - COLORS.index(color)) * 400
    usd = int(carats * per_carat) // (4 if lab_grown else 1)
    availability = Availability.AVAILABLE if (h >> 20) % 20 else Availability.ON_HOLD
    width = Decimal(f"{6.42 * float(carats) ** (1 / 3):.2f}")
    return {
        "supplier_stone_id": f"BENCH-{i:07d}",
        "offer_id": f"BENCH-OFFER-{i:07d}",
        "shape": SHAPES[(h >> 5) % len(SHAPES)],
        "carats": carats,
        "color": color,
        "clarity": clarity,
        "cut": GRADES[(h >> 15) % 3],
        "polish": GRADES[(h >> 17) % 2],
        "symmetry": GRADES[(h >> 18) % 2],
        "lab": "GIA" if h % 3 else "IGI",
        "certificate_number": f"{2_000_000_000 + i}",
        "image_url": f"https://images.example.com/bench/{i}.jpg",
        "price_nzd": Decimal(usd * 168) / 100,
        "price_model_nzd": Decimal(usd * (235 if lab_grown else 210) // 100),  # whole dollars
        "availability": availability,
        "lab_grown": lab_grown,
        "video_url": f"https://video.example.com/bench/{i}.mp4" if h % 4 == 0 else "",
        "certificate_url": f"https://www.gia.edu/report-check?reportno={2_000_000_000 + i}",
        "fluorescence": FLUORESCENCE[(h >> 24) % len(FLUORESCENCE)],
        "length_mm": width,
        "width_mm": width,
        "depth_mm": (width * Decimal("0.615")).quantize(Decimal("0.01")),
        "depth_percent": Decimal(590 + (h >> 7) % 40) / 10,
        "table_percent": Decimal(540 + (h >> 11) % 60) / 10,
    }


class BenchFeed(FeedAdapter):
    name = "bench"
    max_page_size = 10_000

    def search(self, *, offset: int, limit: int) -> Page:
        total = stone_count()
        stones = [Stone(**stone_row(i)) for i in range(offset, min(total, offset + limit))]
        return Page(stones=stones, total_count=total)

    def check_availability(self, diamond) -> str:
        return Availability.AVAILABLE

    def create_order(self, diamond, *, reference: str, comments: str = "") -> str:
        return f"BENCH-{reference}"
