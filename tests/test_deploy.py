"""deploy/: checked with the real tools (deploy/check), and kept in step with the code."""

import configparser
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from django.core.management import get_commands
from django.urls import reverse

from tests.fleet.conftest import free_port
from tests.reliability.test_faults import worker_database_url

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
    prune = unit("diamonds-prune-tasks.service")["Service"]["ExecStart"]
    assert "manage.py prune_db_task_results" in prune and "prune_db_task_results" in commands
    assert unit("diamonds-prune-tasks.timer")["Timer"]["Unit"] == "diamonds-prune-tasks.service"
    backup = unit("diamonds-backup.service")["Service"]
    assert "manage.py backup_database" in backup["ExecStart"] and "backup_database" in commands
    assert unit("diamonds-backup.timer")["Timer"]["Unit"] == "diamonds-backup.service"


def test_the_backup_unit_may_write_where_backups_go_by_default(settings):
    """ProtectSystem=strict leaves one writable place: BACKUP_DIR's default, systemd's
    StateDirectory (under /var/lib), private to the store's user."""
    backup = unit("diamonds-backup.service")["Service"]
    assert "/var/lib/" + backup["StateDirectory"] == settings.BACKUP_DIR
    assert backup["StateDirectoryMode"] == "0700" and backup["ProtectSystem"] == "strict"


def test_the_nginx_site_knows_the_webhook_and_static_paths_django_uses(settings):
    site = (DEPLOY / "nginx" / "diamonds.conf").read_text()
    assert f"location = {reverse('payments:stripe-webhook')} {{" in site
    assert f"location /{settings.STATIC_URL.strip('/')}/ {{" in site
    assert f"alias /srv/diamonds/{settings.STATIC_ROOT.name}/;" in site
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in site
    assert settings.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")


# ---------------------------------------------------------------- the web socket unit


def test_the_socket_unit_listens_where_gunicorn_would_bind():
    listen = unit("diamonds-web.socket")["Socket"]["ListenStream"]
    assert (
        listen == "127.0.0.1:8001"
        and 'GUNICORN_BIND", "127.0.0.1:8001"' in (DEPLOY / "gunicorn.conf.py").read_text()
    )
    web = unit("diamonds-web.service")["Unit"]
    assert web["Requires"] == "diamonds-web.socket" and "diamonds-web.socket" in web["After"]


def gunicorn_on(listener: socket.socket, log: Path) -> subprocess.Popen:
    """gunicorn as systemd starts it behind diamonds-web.socket: the listening socket handed
    over as file descriptor 3 (LISTEN_FDS, LISTEN_PID), its own bind address unused."""
    return subprocess.Popen(
        [
            "bash",
            "-c",
            'exec 3<&"$SOCKET_FD"; export LISTEN_PID=$$ LISTEN_FDS=1; exec "$@"',
            "bash",
            str(Path(sys.executable).with_name("gunicorn")),
            "--config",
            "deploy/gunicorn.conf.py",
            "config.wsgi",
        ],
        cwd=ROOT,
        pass_fds=[listener.fileno()],
        env={
            **os.environ,
            "SOCKET_FD": str(listener.fileno()),
            "GUNICORN_BIND": f"127.0.0.1:{free_port()}",
            "WEB_CONCURRENCY": "1",
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": worker_database_url(),
            "ALLOWED_HOSTS": "127.0.0.1",
        },
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def test_a_restart_behind_the_socket_unit_keeps_requests_waiting_instead_of_refused(db, tmp_path):
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)  # what systemd holds
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/healthz"
    first = gunicorn_on(listener, tmp_path / "first.log")
    second = None
    try:
        deadline = time.monotonic() + 60
        while requests.get(url, timeout=60).status_code != 200:
            assert time.monotonic() < deadline, (tmp_path / "first.log").read_text()
        first.send_signal(signal.SIGTERM)  # systemctl restart: the old processes stop…
        assert first.wait(timeout=60) == 0

        with ThreadPoolExecutor(1) as pool:
            answer = pool.submit(requests.get, url, timeout=60)  # …a shopper arrives…
            time.sleep(1)
            assert not answer.done()  # waiting in the socket's queue, not refused
            second = gunicorn_on(listener, tmp_path / "second.log")  # …the new ones start
            assert answer.result().status_code == 200, (tmp_path / "second.log").read_text()
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=60)
        listener.close()


# ---------------------------------------------------------------- deploy/manage


def test_deploy_manage_runs_manage_py_as_the_units_do(tmp_path):
    """Through systemd-run (a stand-in here that records what it was asked): the store's user
    and directory, the environment file read by systemd, the arguments untouched, the exit
    status passed back."""
    bin_dir, env_file, asked = tmp_path / "bin", tmp_path / "diamonds.env", tmp_path / "asked"
    bin_dir.mkdir()
    (bin_dir / "systemd-run").write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {asked}\nexit 3\n')
    (bin_dir / "systemd-run").chmod(0o755)
    env_file.write_text("SECRET_KEY=x\n")

    result = subprocess.run(
        [str(DEPLOY / "manage"), "restore_database", "/backups/a b.dump"],
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "DIAMONDS_ENV_FILE": str(env_file)},
        capture_output=True,
        text=True,
    )

    assert result.returncode == 3, result.stderr
    service = unit("diamonds-backup.service")["Service"]
    python, script = service["ExecStart"].split()[:2]
    assert asked.read_text().splitlines() == [
        "--quiet",
        "--wait",
        "--collect",
        "--pipe",
        "--pty",
        f"--uid={service['User']}",
        f"--gid={service['Group']}",
        f"--working-directory={service['WorkingDirectory']}",
        f"--property=EnvironmentFile={env_file}",
        python,
        script,
        "restore_database",
        "/backups/a b.dump",
    ]


def test_deploy_manage_says_so_when_it_cannot_read_the_environment(tmp_path):
    result = subprocess.run(
        [str(DEPLOY / "manage"), "check"],
        env={"PATH": "/usr/bin:/bin", "DIAMONDS_ENV_FILE": str(tmp_path / "missing.env")},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "cannot read" in result.stderr and "missing.env" in result.stderr
