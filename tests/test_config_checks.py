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
