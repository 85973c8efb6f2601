"""The one rate parser every limit setting is read with (log-ins, checkouts, account mail)."""

import pytest

from core.rates import rate_parse


@pytest.mark.parametrize(
    ("rate", "count", "seconds"),
    [
        ("5/15m", 5, 900),
        ("10/h", 10, 3600),
        ("3 / 30s", 3, 30),
        (" 100/1d ", 100, 86400),
        ("3/1h", 3, 3600),
    ],
)
def test_rates_parse(rate, count, seconds):
    parsed = rate_parse(rate)
    assert (parsed.count, parsed.seconds, parsed.window.total_seconds()) == (
        count,
        seconds,
        seconds,
    )


@pytest.mark.parametrize(
    ("rate", "minutes"), [("5/15m", 15), ("2/1s", 1), ("1/90s", 2), ("3/1h", 60)]
)
def test_the_window_in_minutes_for_people_is_at_least_one(rate, minutes):
    assert rate_parse(rate).minutes == minutes


@pytest.mark.parametrize("rate", ["five a minute", "", "5/15", "5/15y", "-1/1m", "5/1.5m", None])
def test_anything_else_is_refused(rate):
    with pytest.raises(ValueError, match="Invalid rate"):
        rate_parse(rate)
