"""The pricing model: supplier prices in US cents → the store's NZD cost and retail price.

    price_nzd       = usd_cents / 100 * FEED_USD_TO_NZD_RATE                  (whole cents)
    price_model_nzd = price_nzd * (1 + markup / 100), to a multiple of PRICE_ROUNDING_NZD

The markup is FEED_MARKUP_PERCENT for natural stones and FEED_MARKUP_PERCENT_LAB_GROWN for
lab-grown ones. The cost is rounded to whole cents, half up (0.005 → 0.01); the retail price is
worked out from the already-rounded cost and rounded half up to a whole multiple of
PRICE_ROUNDING_NZD (default 1: whole dollars), so the price shown is exactly the price Stripe
charges (checkout charges `price_model_nzd` in cents). Settings are read at call time.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

CENT = Decimal("0.01")


def _to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _rounding_step() -> Decimal:
    step = Decimal(str(getattr(settings, "PRICE_ROUNDING_NZD", 1)))
    return step if step > 0 else CENT


def round_retail(amount: Decimal) -> Decimal:
    """`amount` rounded half up to a multiple of PRICE_ROUNDING_NZD, as whole cents."""
    step = _rounding_step()
    return _to_cents((amount / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step)


def markup_percent(*, lab_grown: bool = False) -> Decimal:
    name = "FEED_MARKUP_PERCENT_LAB_GROWN" if lab_grown else "FEED_MARKUP_PERCENT"
    return Decimal(str(getattr(settings, name)))


def cost_nzd_from_usd_cents(usd_cents: int | str | Decimal) -> Decimal:
    rate = Decimal(str(settings.FEED_USD_TO_NZD_RATE))
    return _to_cents(Decimal(str(usd_cents)) / 100 * rate)


def retail_nzd_from_cost(cost_nzd: Decimal, *, lab_grown: bool = False) -> Decimal:
    markup = markup_percent(lab_grown=lab_grown)
    return round_retail(cost_nzd * (1 + markup / 100))


def prices_from_usd_cents(
    usd_cents: int | str | Decimal, *, lab_grown: bool = False
) -> tuple[Decimal, Decimal]:
    """(price_nzd, price_model_nzd) for a supplier price in US cents."""
    cost = cost_nzd_from_usd_cents(usd_cents)
    return cost, retail_nzd_from_cost(cost, lab_grown=lab_grown)
