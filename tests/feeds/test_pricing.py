from decimal import Decimal

import pytest

from feeds.pricing import cost_nzd_from_usd_cents, prices_from_usd_cents, retail_nzd_from_cost


@pytest.fixture(autouse=True)
def _pricing(settings):
    settings.FEED_USD_TO_NZD_RATE = Decimal("1.68")
    settings.FEED_MARKUP_PERCENT = Decimal("25")
    settings.FEED_MARKUP_PERCENT_LAB_GROWN = Decimal("40")
    settings.PRICE_ROUNDING_NZD = Decimal("1")


def test_usd_cents_become_nzd_cost_and_retail():
    assert prices_from_usd_cents(650_000) == (Decimal("10920.00"), Decimal("13650.00"))


def test_the_cost_rounds_half_up_to_cents(settings):
    settings.FEED_USD_TO_NZD_RATE = Decimal("1.5")
    assert cost_nzd_from_usd_cents(1) == Decimal("0.02")  # 0.015 → 0.02
    assert cost_nzd_from_usd_cents(3) == Decimal("0.05")  # 0.045 → 0.05


def test_retail_prices_are_whole_dollars_rounded_half_up(settings):
    settings.FEED_USD_TO_NZD_RATE = Decimal("1.6789")
    settings.FEED_MARKUP_PERCENT = Decimal("12.5")
    cost, retail = prices_from_usd_cents(123_457)
    assert cost == Decimal("2072.72")  # 1234.57 x 1.6789 = 2072.719573
    assert retail == Decimal("2332.00")  # 2072.72 x 1.125 = 2331.81 → 2332
    settings.FEED_MARKUP_PERCENT = Decimal("25")
    assert retail_nzd_from_cost(Decimal("100.36")) == Decimal("125.00")  # 125.45 → 125
    assert retail_nzd_from_cost(Decimal("100.40")) == Decimal("126.00")  # 125.50 → 126
    # Stripe is charged price_model_nzd in cents: a whole number of dollars.
    assert int(retail * 100) % 100 == 0


def test_the_rounding_step_is_a_setting(settings):
    settings.PRICE_ROUNDING_NZD = Decimal("10")
    assert retail_nzd_from_cost(Decimal("100.36")) == Decimal("130.00")  # 125.45 → 130
    settings.PRICE_ROUNDING_NZD = Decimal("0.01")
    assert retail_nzd_from_cost(Decimal("100.36")) == Decimal("125.45")


def test_lab_grown_stones_take_the_lab_grown_markup():
    natural = prices_from_usd_cents(650_000)
    lab_grown = prices_from_usd_cents(650_000, lab_grown=True)
    assert natural[0] == lab_grown[0] == Decimal("10920.00")
    assert natural[1] == Decimal("13650.00")  # +25%
    assert lab_grown[1] == Decimal("15288.00")  # +40%


def test_settings_are_read_at_call_time(settings):
    settings.FEED_USD_TO_NZD_RATE = Decimal("2")
    settings.FEED_MARKUP_PERCENT = Decimal("0")
    assert prices_from_usd_cents(100) == (Decimal("2.00"), Decimal("2.00"))
