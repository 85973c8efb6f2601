import subprocess
import sys

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured

from config.checks import raise_on_errors


def ids(messages):
    return {message.id for message in messages}


def test_a_missing_secret_key_is_a_check_error_not_a_stack_trace(settings):
    settings.SECRET_KEY_MISSING = True
    assert "config.E001" in ids(run_checks())


def test_the_wsgi_entry_point_refuses_to_serve_a_misconfigured_store(settings):
    settings.SECRET_KEY_MISSING = True
    with pytest.raises(ImproperlyConfigured, match=r"config\.E001"):
        raise_on_errors()


def test_the_immediate_task_backend_is_a_warning_in_production(settings):
    settings.DEBUG = False
    settings.TASKS_BACKEND = "immediate"
    assert "config.W001" in ids(run_checks())
    settings.TASKS_BACKEND = "database"
    assert "config.W001" not in ids(run_checks())


def test_manage_check_reports_missing_production_settings():
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "False",
        "SECRET_KEY": "",
        "STRIPE_SECRET_KEY": "",
        "DATABASE_URL": "sqlite:///:memory:",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "config.E001" in result.stderr
    assert "payments.E002" in result.stderr
    assert "orders.E001" in result.stderr  # no GST number for the tax invoices
    assert "Traceback" not in result.stderr


def test_list_settings_are_trimmed_and_country_codes_checked():
    """`"NZ, au"` reaches Stripe as `["NZ", "AU"]`; a code that is no country stops the store."""
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "True",
        "DATABASE_URL": "sqlite:///:memory:",
        "SHIPPING_COUNTRIES": " NZ, au ,",
        "ALLOWED_HOSTS": "shop.example.com, www.shop.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://shop.example.com, https://www.shop.example.com",
        "MEDIA_HOSTS": "https://images.example.com , https://video.example.com",
        "TRUSTED_PROXIES": "127.0.0.1, 10.0.0.2",
    }
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print([s.SHIPPING_COUNTRIES, s.ALLOWED_HOSTS, s.CSRF_TRUSTED_ORIGINS, s.MEDIA_HOSTS, "
        "s.TRUSTED_PROXIES])"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == str(
        [
            ["NZ", "AU"],
            ["shop.example.com", "www.shop.example.com"],
            ["https://shop.example.com", "https://www.shop.example.com"],
            ["https://images.example.com", "https://video.example.com"],
            ["127.0.0.1", "10.0.0.2"],
        ]
    )

    env["SHIPPING_COUNTRIES"] = "NZ, New Zealand"
    check = subprocess.run(
        [sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True
    )
    assert check.returncode != 0
    assert "payments.E007" in check.stderr and "'NEW ZEALAND'" in check.stderr


# ---------------------------------------------------------------- SECRET_KEY_FALLBACKS


def test_secret_key_fallbacks_are_read_from_the_environment_trimmed():
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "True",
        "SECRET_KEY": "the-new-key",
        "SECRET_KEY_FALLBACKS": " the-old-key , an-older-key",
        "DATABASE_URL": "sqlite:///:memory:",
    }
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "--verbosity=0",
            "-c",
            "from django.conf import settings; print(settings.SECRET_KEY_FALLBACKS)",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['the-old-key', 'an-older-key']"


def test_a_blank_fallback_is_a_check_error(settings):
    settings.SECRET_KEY_FALLBACKS = ["the-old-key", ""]
    assert "config.E002" in ids(run_checks())
    settings.SECRET_KEY_FALLBACKS = ["the-old-key"]
    assert "config.E002" not in ids(run_checks())


def test_a_fallback_equal_to_the_key_is_a_warning(settings):
    settings.SECRET_KEY_FALLBACKS = ["the-old-key", settings.SECRET_KEY]
    assert "config.W002" in ids(run_checks())
    settings.SECRET_KEY_FALLBACKS = ["the-old-key"]
    assert "config.W002" not in ids(run_checks())
