"""The dashboard's two charts as plain geometry for server-rendered SVG (no chart library, no
JavaScript): bars with their positions, axis ticks and labels. The templates draw them."""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.money import money_display


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # what a tooltip and the text table say
    value: float


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Panel:
    title: str  # the y axis' label
    top: float
    height: float
    bars: list[Bar]
    ticks: list[Tick]


@dataclass(frozen=True)
class DailyChart:
    width: int
    height: int
    left: int
    right: float
    panels: list[Panel]
    x_ticks: list[Tick]
    x_title: str
    empty: bool

    @property
    def center(self) -> float:
        return (self.left + self.right) / 2


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above `value` (an axis' top)."""
    if value <= 0:
        return 1
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value:
            return candidate
    return 10 ** (exponent + 1)


def _short_money(cents: float) -> str:
    dollars = cents / 100
    if dollars >= 1_000_000:
        return f"${dollars / 1_000_000:g}M"
    if dollars >= 1000:
        return f"${dollars / 1000:g}k"
    return f"${dollars:g}"


def daily_chart(days, *, timezone_name: str) -> DailyChart:
    """Two panels over the same days: paid orders per day, then revenue per day."""
    width, left, right_pad = 720, 64, 12
    panel_height, gap, top = 110, 40, 24
    plot_width = width - left - right_pad
    slot = plot_width / max(len(days), 1)
    bar_width = max(slot * 0.7, 1)

    def panel(title, values, labels, top_y, fmt, *, whole=False):
        ceiling = nice_ceiling(max(values, default=0))
        # A count's axis is labelled in whole numbers only.
        fractions = (0, 0.5, 1) if not whole or ceiling % 2 == 0 else (0, 1)
        bars = []
        for i, (value, label) in enumerate(zip(values, labels, strict=True)):
            h = 0 if not value else max(value / ceiling * panel_height, 1.5)
            x = left + i * slot + (slot - bar_width) / 2
            bars.append(
                Bar(
                    round(x, 1),
                    round(top_y + panel_height - h, 1),
                    round(bar_width, 1),
                    round(h, 1),
                    label,
                    value,
                )
            )
        ticks = [
            Tick(round(top_y + panel_height - fraction * panel_height, 1), fmt(fraction * ceiling))
            for fraction in fractions
        ]
        return Panel(title, top_y, panel_height, bars, ticks)

    orders = [d.orders for d in days]
    revenue = [d.revenue_cents for d in days]
    names = [f"{d.day:%a} {d.day.day} {d.day:%b}" for d in days]
    panels = [
        panel(
            "Paid orders",
            orders,
            [
                f"{name}: {n} paid order{'s' if n != 1 else ''}"
                for name, n in zip(names, orders, strict=True)
            ],
            top,
            lambda v: f"{v:g}",
            whole=True,
        ),
        panel(
            "Revenue (NZD)",
            revenue,
            [f"{name}: {money_display(c)}" for name, c in zip(names, revenue, strict=True)],
            top + panel_height + gap,
            _short_money,
        ),
    ]
    x_ticks = [
        Tick(round(left + i * slot + slot / 2, 1), f"{d.day.day} {d.day:%b}")
        for i, d in enumerate(days)
        if (i % 7 == 0 and len(days) - 1 - i >= 4) or i == len(days) - 1
    ]
    height = top + 2 * panel_height + gap + 44
    return DailyChart(
        width=width,
        height=height,
        left=left,
        right=width - right_pad,
        panels=panels,
        x_ticks=x_ticks,
        x_title=f"Day ({timezone_name})",
        empty=not any(orders),
    )


@dataclass(frozen=True)
class FunnelStep:
    label: str
    count: int
    share: str  # of the first step
    y: float
    width: float
    url: str


@dataclass(frozen=True)
class FunnelChart:
    width: int
    height: int
    left: int
    bar_height: int
    steps: list[FunnelStep]
    max_width: int


def funnel_chart(steps) -> FunnelChart:
    """Horizontal bars, one per step, as a share of the first (checkouts started)."""
    width, left, bar_height, gap, max_width = 720, 190, 30, 14, 420
    first = steps[0][1] if steps else 0
    out = []
    for i, (label, count, url) in enumerate(steps):
        fraction = count / first if first else 0
        out.append(
            FunnelStep(
                label=label,
                count=count,
                share=f"{fraction:.0%}" if first else "—",
                y=12 + i * (bar_height + gap),
                width=round(max(fraction * max_width, 2 if count else 0), 1),
                url=url,
            )
        )
    height = 12 + len(steps) * (bar_height + gap) + 10
    return FunnelChart(width, height, left, bar_height, out, max_width)
