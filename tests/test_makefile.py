"""`make run` hands the storefront's own address to Stripe and Slack: it must carry the port."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")


def dry_run(**env) -> str:
    environment = {k: v for k, v in os.environ.items() if k not in ("PORT", "EMAIL_URL")} | env
    result = subprocess.run(
        ["make", "-n", "run"], cwd=ROOT, env=environment, capture_output=True, text=True, check=True
    )
    return result.stdout


def test_make_run_without_port_uses_8000_in_the_storefront_url():
    commands = dry_run()
    assert "STOREFRONT_URL=http://localhost:8000 " in commands
    assert "STOREFRONT_URL=http://localhost: " not in commands
    assert "runserver localhost:8000" in commands


def test_make_run_with_a_port_uses_it_everywhere():
    commands = dry_run(PORT="9123")
    assert "STOREFRONT_URL=http://localhost:9123 " in commands
    assert "runserver localhost:9123" in commands


def test_make_run_reconciles_on_a_schedule_and_prints_the_address_last():
    commands = dry_run()
    assert "manage.py reconcile_payments --every 60 &" in commands
    assert "EMAIL_URL=memorymail://" in commands  # no email bodies in the terminal
    assert commands.index("The store: http://localhost:8000/") > commands.index("Ops: http://")
