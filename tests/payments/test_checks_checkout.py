import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from core.rates import rate_parse
from gateway.simulator import SIMULATOR_WEBHOOK_SECRET
from payments.checks import (
    check_checkout_rate_limit,
    check_shipping_countries,
    check_simulator_settings,
)
from payments.countries import ISO_3166_ALPHA_2


def ids(settings_errors):
    return [error.id for error in settings_errors]


@pytest.mark.parametrize(
    ("debug", "secret_key"), [(False, "sk_live_x"), (False, ""), (True, "sk_test_x")]
)
def test_the_simulators_public_secret_is_refused_outside_the_simulator(settings, debug, secret_key):
    settings.DEBUG = debug
    settings.STRIPE_SECRET_KEY = secret_key
    settings.STRIPE_WEBHOOK_SECRET = SIMULATOR_WEBHOOK_SECRET

    assert ids(check_simulator_settings(None)) == ["payments.E004"]


def test_the_simulator_itself_passes(settings):
    settings.DEBUG = True
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""

    assert check_simulator_settings(None) == []


def test_manage_py_check_reports_it(settings):
    settings.DEBUG = False
    settings.STRIPE_SECRET_KEY = "sk_live_x"
    settings.STRIPE_WEBHOOK_SECRET = SIMULATOR_WEBHOOK_SECRET

    with pytest.raises(SystemCheckError, match=r"payments\.E004"):
        call_command("check")


@pytest.mark.parametrize("rate", ["10", "ten/10m", "10/10w", ""])
def test_an_unreadable_checkout_rate_limit_is_reported(settings, rate):
    settings.CHECKOUT_RATE_LIMIT = rate

    assert ids(check_checkout_rate_limit(None)) == ["payments.E005"]


@pytest.mark.parametrize(
    ("rate", "expected"),
    [("10/10m", (10, 600)), ("3/h", (3, 3600)), (" 5 / 30s ", (5, 30)), ("100/1d", (100, 86400))],
)
def test_rate_limits_read_as_count_per_window(settings, rate, expected):
    settings.CHECKOUT_RATE_LIMIT = rate

    parsed = rate_parse(rate)

    assert (parsed.count, int(parsed.window.total_seconds())) == expected
    assert check_checkout_rate_limit(None) == []


def test_an_unknown_capture_mode_is_a_check_error(settings):
    from payments.checks import check_checkout_capture

    settings.CHECKOUT_CAPTURE = "later"
    assert [error.id for error in check_checkout_capture(None)] == ["payments.E006"]
    settings.CHECKOUT_CAPTURE = "manual"
    assert check_checkout_capture(None) == []


@pytest.mark.parametrize(
    ("countries", "expected"),
    [
        (["NZ", "AU"], []),
        (["XK", "NZ"], ["payments.E007"]),  # Kosovo: Stripe knows it, ISO 3166-1 does not
        (["NZ", "AUS"], ["payments.E007"]),
        (["NZ", "UK"], ["payments.E007"]),  # the United Kingdom is GB
        ([], ["payments.E007"]),
        (["NZ", "CU"], ["payments.E008"]),  # ISO, but not a country Stripe Checkout ships to
    ],
)
def test_shipping_countries_are_iso_codes_stripe_ships_to(settings, countries, expected):
    settings.SHIPPING_COUNTRIES = countries

    errors = check_shipping_countries(None)

    assert ids(errors) == expected
    assert all(code in errors[0].msg for code in ("AUS", "UK", "XK", "CU") if code in countries)


def test_the_official_iso_list_is_complete():
    assert len(ISO_3166_ALPHA_2) == 249
    assert {"NZ", "AU", "GB", "US", "AX", "SS", "BQ"} <= ISO_3166_ALPHA_2
    assert not {"UK", "EU", "XK", "AC"} & ISO_3166_ALPHA_2
