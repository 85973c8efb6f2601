"""deploy/: checked with the real tools (deploy/check), and kept in step with the code."""

import configparser
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import get_commands
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(DEPLOY / "systemd" / name)
    return parser


def test_deploy_check_passes_with_nginx_and_systemd_analyze():
    missing = [tool for tool in ("nginx", "systemd-analyze", "openssl") if not shutil.which(tool)]
    if missing and os.getuid() != 0:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {missing} are missing: .ci/run installs them")
        pytest.skip(f"deploy/check needs {missing} (installed by .ci/run as root)")
    result = subprocess.run(
        [str(DEPLOY / "check")], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "nginx -t: deploy/nginx/diamonds.conf ok" in result.stdout
    assert "systemd-analyze verify:" in result.stdout


def test_the_units_run_commands_the_project_has():
    commands = get_commands()
    worker = unit("diamonds-worker@.service")["Service"]["ExecStart"]
    reconcile = unit("diamonds-reconcile.service")["Service"]["ExecStart"]
    web = unit("diamonds-web.service")["Service"]["ExecStart"]
    assert "manage.py db_worker" in worker and "db_worker" in commands
    assert "manage.py reconcile_payments" in reconcile and "reconcile_payments" in commands
    assert "--config deploy/gunicorn.conf.py config.wsgi" in web
    assert (ROOT / "config" / "wsgi.py").exists()
    assert unit("diamonds-reconcile.timer")["Timer"]["Unit"] == "diamonds-reconcile.service"


def test_the_nginx_site_knows_the_webhook_and_static_paths_django_uses(settings):
    site = (DEPLOY / "nginx" / "diamonds.conf").read_text()
    assert f"location = {reverse('payments:stripe-webhook')} {{" in site
    assert f"location /{settings.STATIC_URL.strip('/')}/ {{" in site
    assert f"alias /srv/diamonds/{settings.STATIC_ROOT.name}/;" in site
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in site
    assert settings.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")
