"""A local Slack Web API double for `slack_sdk.WebClient` (`SLACK_API_BASE_URL`)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest


class SlackDouble:
    def __init__(self):
        self.messages: list[dict] = []
        self.attempts = 0
        self.down = False
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        double = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                double.attempts += 1
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    body = json.loads(raw or "{}")
                else:
                    body = dict(parse_qsl(raw))
                if double.down:
                    status, answer = 503, {"ok": False, "error": "service_unavailable"}
                elif self.headers.get("Authorization") != "Bearer xoxb-test-token":
                    status, answer = 200, {"ok": False, "error": "invalid_auth"}
                elif self.path.endswith("/chat.postMessage"):
                    double.messages.append(body)
                    status, answer = 200, {"ok": True, "channel": body.get("channel"), "ts": "1.1"}
                else:
                    status, answer = 200, {"ok": False, "error": "unknown_method"}
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler


@pytest.fixture
def slack_api(settings):
    double = SlackDouble()
    settings.SLACK_BOT_TOKEN = "xoxb-test-token"
    settings.SLACK_API_BASE_URL = double.url
    yield double
    double.stop()
