"""The account limits are checked when the store starts (`manage.py check`), not at the first
log-in: a malformed rate is a system-check error naming the setting."""

import pytest

from accounts.checks import RATE_SETTINGS, check_account_limits


def test_the_defaults_pass(settings):
    assert check_account_limits(None) == []


@pytest.mark.parametrize("name", RATE_SETTINGS)
def test_a_malformed_rate_names_its_setting(settings, name):
    setattr(settings, name, "five a minute")

    (error,) = check_account_limits(None)

    assert error.id == "accounts.E001"
    assert error.msg.startswith(f"{name}: Invalid rate")
