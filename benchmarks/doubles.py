"""Instant stand-ins for what the store calls out to, served from the benchmark's own process
(stdlib only, nothing from the test suite): the Stripe API, Slack's Web API and an SMTP
server. They answer at once and accept everything the benchmarks send, so only the store's own
work is measured; the strict Stripe double that refuses what Stripe refuses is the tests'
(`tests/doubles/stripe.py`). Stripe's objects come from `gateway.stripe_objects`, and the
events the benchmarks send are built and signed the way Stripe does it
(`gateway.stripe_objects.event`, `gateway.signing.signature_header`).
"""

from __future__ import annotations

import itertools
import json
import re
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from gateway import stripe_objects as so
from gateway.signing import signature_header

WEBHOOK_PATH = "/api/v2/webhooks/stripe"
_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}_bench{next(_ids):010d}"


def signed_event(event_type: str, obj: dict, *, event_id: str, secret: str) -> tuple[bytes, dict]:
    """A Stripe event about `obj`, as its body and the headers Stripe sends it with."""
    event = so.event(id=event_id, type=event_type, object=obj, created=int(time.time()))
    body = json.dumps(event).encode()
    return body, {
        "Content-Type": "application/json",
        "Stripe-Signature": signature_header(body, secret),
    }


SHIPPING = {
    "name": "Bench Shopper",
    "address": {
        "line1": "1 Queen Street",
        "city": "Auckland",
        "postal_code": "1010",
        "country": "NZ",
    },
}


def completed_session(
    *,
    session_id: str,
    order_id: str,
    order_number: str,
    diamond_id: str,
    amount: int,
    currency: str,
    intent_id: str,
    payment_status: str,
    email: str = "shopper@example.com",
) -> dict:
    """The Checkout Session of one order, completed by the shopper and shipping to New
    Zealand: `paid` (charged) or `unpaid` (with manual capture: the card only authorised)."""
    created = int(time.time())
    session = so.checkout_session(
        id=session_id,
        created=created,
        expires_at=created + 24 * 3600,
        amount_total=amount,
        currency=currency,
        success_url="https://shop.example.com/checkout/success/",
        url=f"https://checkout.stripe.com/c/pay/{session_id}",
        metadata={"order_id": order_id, "order_number": order_number, "diamond_id": diamond_id},
        client_reference_id=order_number,
        customer_email=email,
        allowed_countries=["NZ"],
    )
    details = so.shipping_details(name=SHIPPING["name"], address=so.address(**SHIPPING["address"]))
    return so.checkout_session_completed(
        session,
        payment_intent=intent_id,
        payment_status=payment_status,
        email=email,
        shipping_details=details,
    )


class _Server:
    """A ThreadingHTTPServer on a free local port, in a daemon thread."""

    def start(self):
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def answer(self, method: str, path: str, params: dict) -> tuple[int, dict]:
        raise NotImplementedError

    def _handler(self):
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs use it

            def _reply(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                url = urlsplit(self.path)
                if "json" in (self.headers.get("Content-Type") or ""):
                    params = json.loads(body or "{}")
                else:
                    params = dict(parse_qsl(url.query if method == "GET" else body))
                status, answer = double.answer(method, url.path, params)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._reply("GET")

            def do_POST(self):
                self._reply("POST")

            def log_message(self, *args):
                pass

        return Handler


class StripeStub(_Server):
    """Checkout Sessions (create), PaymentIntents (retrieve, capture, cancel). A PaymentIntent
    the benchmark `authorise`s is a card payment held by manual capture (`requires_capture`)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sessions: dict[str, dict] = {}
        self.intents: dict[str, dict] = {}
        self.calls: dict[str, int] = {}

    def authorise(self, *, intent_id: str, amount: int, currency: str, metadata: dict) -> dict:
        """A card authorised at Checkout: the PaymentIntent Stripe then holds."""
        created = int(time.time())
        intent = so.payment_intent(
            id=intent_id,
            amount=amount,
            currency=currency,
            created=created,
            capture_method="manual",
            metadata=metadata,
        )
        charge = so.charge(
            id=so._derived_id("ch", intent_id),
            amount=amount,
            currency=currency,
            created=created,
            payment_intent=intent_id,
            captured=False,
        )
        with self.lock:
            self.intents[intent_id] = so.payment_intent_paid(intent, charge=charge)
        return self.intents[intent_id]

    def answer(self, method, path, params):
        with self.lock:
            call = f"{method} {re.sub(r'/(pi|cs)_[^/]+', '/{id}', path)}"
            self.calls[call] = self.calls.get(call, 0) + 1
            if method == "POST" and path == "/v1/checkout/sessions":
                return 200, self._session_create(params)
            found = re.fullmatch(r"/v1/payment_intents/([^/]+)(/capture|/cancel)?", path)
            if not found or found[1] not in self.intents:
                return 404, {"error": {"type": "invalid_request_error", "message": "No such."}}
            intent_id, verb = found[1], found[2]
            if verb == "/capture":
                self.intents[intent_id] = so.payment_intent_captured(self.intents[intent_id])
            elif verb == "/cancel":
                self.intents[intent_id] = so.payment_intent_canceled(
                    self.intents[intent_id], canceled_at=int(time.time()), reason="abandoned"
                )
            return 200, self.intents[intent_id]

    def _session_create(self, params: dict) -> dict:
        session_id = new_id("cs")
        created = int(time.time())
        metadata = {
            key[len("metadata[") : -1]: value
            for key, value in params.items()
            if key.startswith("metadata[")
        }
        session = so.checkout_session(
            id=session_id,
            created=created,
            expires_at=int(params.get("expires_at", created + 24 * 3600)),
            amount_total=int(params.get("line_items[0][price_data][unit_amount]", 0)),
            currency=params.get("line_items[0][price_data][currency]", "nzd"),
            success_url=params.get("success_url", ""),
            cancel_url=params.get("cancel_url"),
            url=f"https://checkout.stripe.com/c/pay/{session_id}",
            metadata=metadata,
            client_reference_id=params.get("client_reference_id"),
            customer_email=params.get("customer_email"),
        )
        self.sessions[session_id] = session
        return session


class SlackStub(_Server):
    """`chat.postMessage` answers `ok`; `messages` counts what arrived."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages = 0

    def answer(self, method, path, params):
        with self.lock:
            self.messages += 1
        return 200, {"ok": True, "channel": params.get("channel", "C0"), "ts": f"{time.time()}"}


class SmtpStub:
    """Enough SMTP for Django's SMTP backend: greets, says yes to everything, takes the DATA,
    counts the messages. No TLS, no AUTH."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages = 0

    def start(self):
        stub = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                self.wfile.write(b"220 bench ESMTP\r\n")
                while line := self.rfile.readline():
                    verb = line[:4].upper()
                    if verb == b"EHLO":
                        self.wfile.write(b"250-bench\r\n250 8BITMIME\r\n")
                    elif verb == b"DATA":
                        self.wfile.write(b"354 go ahead\r\n")
                        while (data := self.rfile.readline()) and data != b".\r\n":
                            pass
                        with stub.lock:
                            stub.messages += 1
                        self.wfile.write(b"250 OK\r\n")
                    elif verb == b"QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:  # HELO, MAIL, RCPT, RSET, NOOP
                        self.wfile.write(b"250 OK\r\n")

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
