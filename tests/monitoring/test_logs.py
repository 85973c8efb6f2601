"""Logs: readable text by default; LOG_FORMAT=json gives one JSON object per line carrying the
request id, order number and Stripe event id where they are known."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from monitoring.logs import ContextFilter, JsonFormatter, log_context, logging_config

ROOT = Path(__file__).resolve().parents[2]

# A webhook arriving while the secret is missing is logged as an error inside the request.
SCRIPT = """
import logging
import django
django.setup()
from django.core.wsgi import get_wsgi_application
from django.test import RequestFactory

request = RequestFactory().post(
    "/api/v2/webhooks/stripe",
    data='{"id": "evt_1JsonLogs", "object": "event", "data": {"object": '
    '{"client_reference_id": "DO-20260101-0042"}}}',
    content_type="application/json",
    HTTP_X_REQUEST_ID="req-from-the-proxy-1",
)
statuses = []
list(get_wsgi_application()(request.environ, lambda status, headers: statuses.append(status)))
logging.getLogger("orders.services").warning("Feed order for DO-20260101-0007 is slow")
logging.getLogger("x").info("a plain line")
"""


def run_store(tmp_path, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "STRIPE_WEBHOOK_SECRET": "",
            "ALLOWED_HOSTS": "testserver",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_json_logs_are_one_object_per_line_with_the_request_order_and_event(tmp_path):
    result = run_store(tmp_path, LOG_FORMAT="json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines()]  # every line is JSON

    webhook = next(e for e in lines if "STRIPE_WEBHOOK_SECRET" in e["message"])
    assert webhook["level"] == "ERROR"
    assert webhook["logger"] == "payments.webhooks"
    assert webhook["request_id"] == "req-from-the-proxy-1"
    assert webhook["stripe_event_id"] == "evt_1JsonLogs"
    assert webhook["order_number"] == "DO-20260101-0042"
    assert {"time", "process"} <= set(webhook)

    worker = next(e for e in lines if "is slow" in e["message"])
    assert worker["order_number"] == "DO-20260101-0007"  # named in the message
    assert "request_id" not in worker  # outside any request: not known, not invented
    plain = next(e for e in lines if e["message"] == "a plain line")
    assert set(plain) == {"time", "level", "logger", "message", "process"}


def test_the_default_log_format_stays_readable_text(tmp_path):
    result = run_store(tmp_path)
    assert result.returncode == 0, result.stderr
    assert (
        "ERROR payments.webhooks: Stripe webhook received but STRIPE_WEBHOOK_SECRET is not "
        "configured." in result.stderr.splitlines()
    )
    assert not any(line.startswith("{") for line in result.stderr.splitlines())


def test_an_unknown_log_format_is_refused():
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logging_config(settings.LOGGING, log_format="xml")


@pytest.mark.django_db
def test_the_request_id_is_the_proxys_when_sane_else_a_new_one(client):
    given = client.get("/healthz", HTTP_X_REQUEST_ID="abc-123.def")
    assert given["X-Request-ID"] == "abc-123.def"

    for bad in ("", "x" * 200, "inject\nheader", "spaces not allowed"):
        made = client.get("/healthz", HTTP_X_REQUEST_ID=bad)
        assert made["X-Request-ID"] != bad
        assert len(made["X-Request-ID"]) == 32


def format_record(message: str, *args) -> dict:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, message, args, None)
    ContextFilter().filter(record)
    return json.loads(JsonFormatter().format(record))


def test_log_context_names_the_order_and_event_and_is_undone_after():
    with log_context(order_number="DO-20260101-0001", stripe_event_id="evt_ctx"):
        inside = format_record("placing the feed order")
        with log_context(order_number="DO-20260101-0002"):
            nested = format_record("another")
    after = format_record("done")

    assert (inside["order_number"], inside["stripe_event_id"]) == ("DO-20260101-0001", "evt_ctx")
    assert nested["order_number"] == "DO-20260101-0002"
    assert "order_number" not in after and "stripe_event_id" not in after


def test_an_order_number_or_event_in_the_arguments_is_found():
    entry = format_record(
        "Processing Stripe event %s for %s failed", "evt_abc123", "DO-20261201-10000"
    )
    assert entry["stripe_event_id"] == "evt_abc123"
    assert entry["order_number"] == "DO-20261201-10000"
