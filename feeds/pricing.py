"""The pricing model: supplier prices in US cents → the store's NZD cost and retail price.

    price_nzd       = usd_cents / 100 * FEED_USD_TO_NZD_RATE
    price_model_nzd = price_nzd * (1 + FEED_MARKUP_PERCENT / 100)

Both are Decimals rounded to whole cents, half up (0.005 → 0.01). The retail price is worked
out from the already-rounded cost, so it is exactly "the cost shown in the admin plus the
markup", rounded once more. Settings are read at call time.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

CENT = Decimal("0.01")


def _to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def cost_nzd_from_usd_cents(usd_cents: int | str | Decimal) -> Decimal:
    rate = Decimal(str(settings.FEED_USD_TO_NZD_RATE))
    return _to_cents(Decimal(str(usd_cents)) / 100 * rate)


def retail_nzd_from_cost(cost_nzd: Decimal) -> Decimal:
    markup = Decimal(str(settings.FEED_MARKUP_PERCENT))
    return _to_cents(cost_nzd * (1 + markup / 100))


def prices_from_usd_cents(usd_cents: int | str | Decimal) -> tuple[Decimal, Decimal]:
    """(price_nzd, price_model_nzd) for a supplier price in US cents."""
    cost = cost_nzd_from_usd_cents(usd_cents)
    return cost, retail_nzd_from_cost(cost)
