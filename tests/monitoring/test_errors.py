"""Error reports: with SENTRY_DSN the SDK sends real envelopes — here to a local HTTP endpoint
standing in for Sentry — and no secret is in them."""

import gzip
import json
import os
import subprocess
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import brotli
import pytest

try:
    import brotli
except ImportError:  # then sentry-sdk does not compress with it either
    brotli = None

from monitoring.errors import FILTERED, scrub

ROOT = Path(__file__).resolve().parents[2]

SECRETS = {
    "stripe_key": "sk_live_51SuperSecretKeyValue",
    "webhook_secret": "whsec_TopSecretSigningValue",
    "signature": "t=1700000000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd",
    "session_cookie": "sessioncookievalue0123456789",
    "csrf_cookie": "csrfcookievalue0123456789",
    "bearer": "Bearer metrics-token-value-9876",
    "slack": "xoxb-1234-5678-slacksecret",
}


class SentryDouble:
    """Accepts what the SDK sends to `/api/<project>/envelope/` and keeps every item."""

    def __init__(self):
        self.items: list[dict] = []
        self.raw: list[bytes] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.dsn = f"http://publickey@127.0.0.1:{self.server.server_address[1]}/42"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handler(self):
        double = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                elif encoding == "br":  # sentry-sdk's choice when brotli is installed
                    body = brotli.decompress(body)
                double.raw.append(body)
                if self.path.endswith("/envelope/"):
                    lines = body.split(b"\n")
                    # envelope header, then (item header, payload) pairs
                    for header, payload in zip(lines[1::2], lines[2::2], strict=False):
                        if header.strip():
                            double.items.append(
                                {"header": json.loads(header), "payload": json.loads(payload)}
                            )
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"id":"ok"}')

            def log_message(self, *args):
                pass

        return Handler

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


# The store, started with SENTRY_DSN: a misconfigured webhook is an error logged inside a
# request that carries every kind of secret; then an exception whose frame holds a key.
SCRIPT = """
import django
django.setup()
import sentry_sdk
from django.core.wsgi import get_wsgi_application
from django.test import RequestFactory

assert sentry_sdk.get_client().is_active()
assert sentry_sdk.get_client().options["send_default_pii"] is False
s = {secrets!r}
# Through the real WSGI entry point, as gunicorn calls it.
request = RequestFactory().post(
    "/api/v2/webhooks/stripe",
    data='{{"id": "evt_1", "object": "event", "key": "' + s["stripe_key"] + '"}}',
    content_type="application/json",
    HTTP_STRIPE_SIGNATURE=s["signature"],
    HTTP_AUTHORIZATION=s["bearer"],
    HTTP_COOKIE="sessionid=" + s["session_cookie"] + "; csrftoken=" + s["csrf_cookie"],
    HTTP_X_REQUEST_ID="req-sentry-test",
)
statuses = []
app = get_wsgi_application()
body = b"".join(app(request.environ, lambda status, headers: statuses.append(status)))
assert statuses[0].startswith("500"), (statuses, body)


def charge(api_key, payload):
    raise RuntimeError("Stripe refused key " + api_key + " with " + payload)


try:
    stripe_secret = s["stripe_key"]
    charge(stripe_secret, "signature " + s["signature"] + " token " + s["slack"])
except RuntimeError:
    sentry_sdk.capture_exception()
sentry_sdk.flush(timeout=10)
print("sent")
"""


@pytest.fixture
def sentry():
    double = SentryDouble()
    yield double
    double.stop()


def test_errors_reach_sentry_with_no_secret_in_them(sentry, tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "SENTRY_DSN": sentry.dsn,
        "STRIPE_SECRET_KEY": SECRETS["stripe_key"],
        "STRIPE_WEBHOOK_SECRET": "",
        "SLACK_BOT_TOKEN": SECRETS["slack"],
        "ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(secrets=SECRETS)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "sent" in result.stdout

    events = [i["payload"] for i in sentry.items if i["header"].get("type") == "event"]
    messages = [
        (e.get("logentry") or {}).get("message", "")
        or (e.get("message") or "")
        or json.dumps(e.get("exception", {}))
        for e in events
    ]
    assert any("STRIPE_WEBHOOK_SECRET is not configured" in m for m in messages), messages
    assert any("RuntimeError" in m for m in messages), messages
    logged = next(e for e in events if "webhook" in json.dumps(e.get("logentry", {})).lower())
    assert logged["request"]["url"].endswith("/api/v2/webhooks/stripe")
    assert logged["request"]["headers"]["Stripe-Signature"] == FILTERED
    assert logged["request"]["headers"]["Authorization"] == FILTERED
    everything = b"\n".join(sentry.raw).decode()
    for name, secret in SECRETS.items():
        assert secret not in everything, f"{name} leaked to Sentry"
    assert "sessioncookie" not in everything and "csrfcookie" not in everything


def test_scrub_replaces_secret_values_and_secret_named_fields():
    event = {
        "message": f"key {SECRETS['stripe_key']} and {SECRETS['webhook_secret']}",
        "request": {
            "headers": [["Stripe-Signature", "anything"], ["Accept", "text/html"]],
            "cookies": {"sessionid": "x"},
        },
        "extra": {"password": "p", "order_number": "DO-20260101-0001"},
    }
    clean = scrub(event)
    assert SECRETS["stripe_key"] not in json.dumps(clean)
    assert SECRETS["webhook_secret"] not in json.dumps(clean)
    assert clean["request"]["headers"] == [["Stripe-Signature", FILTERED], ["Accept", "text/html"]]
    assert clean["request"]["cookies"] == FILTERED
    assert clean["extra"] == {"password": FILTERED, "order_number": "DO-20260101-0001"}
