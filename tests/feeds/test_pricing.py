from decimal import Decimal

from feeds.pricing import cost_nzd_from_usd_cents, prices_from_usd_cents, retail_nzd_from_cost


def test_usd_cents_become_nzd_cost_and_retail(settings):
    settings.FEED_USD_TO_NZD_RATE = Decimal("1.68")
    settings.FEED_MARKUP_PERCENT = Decimal("25")
    assert prices_from_usd_cents(650_000) == (Decimal("10920.00"), Decimal("13650.00"))


def test_amounts_round_half_up_to_cents(settings):
    settings.FEED_USD_TO_NZD_RATE = Decimal("1.5")
    settings.FEED_MARKUP_PERCENT = Decimal("10")
    assert cost_nzd_from_usd_cents(1) == Decimal("0.02")  # 0.015 → 0.02
    assert cost_nzd_from_usd_cents(3) == Decimal("0.05")  # 0.045 → 0.05
    assert retail_nzd_from_cost(Decimal("0.05")) == Decimal("0.06")  # 0.055 → 0.06
    assert retail_nzd_from_cost(Decimal("0.04")) == Decimal("0.04")  # 0.044 → 0.04


def test_retail_is_the_rounded_cost_plus_markup(settings):
    settings.FEED_USD_TO_NZD_RATE = Decimal("1.6789")
    settings.FEED_MARKUP_PERCENT = Decimal("12.5")
    cost, retail = prices_from_usd_cents(123_457)
    assert cost == Decimal("2072.72")  # 1234.57 x 1.6789 = 2072.719573
    assert retail == Decimal("2331.81")  # 2072.72 x 1.125 = 2331.81
    assert cost.as_tuple().exponent == retail.as_tuple().exponent == -2


def test_settings_are_read_at_call_time(settings):
    settings.FEED_USD_TO_NZD_RATE = Decimal("2")
    settings.FEED_MARKUP_PERCENT = Decimal("0")
    assert prices_from_usd_cents(100) == (Decimal("2.00"), Decimal("2.00"))
