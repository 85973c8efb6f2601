"""A local Stripe API double and real webhook signing, for the `stripe` SDK to talk to.

The SDK builds, sends and parses real requests against it (`STRIPE_API_BASE`): Checkout
Sessions (create, retrieve, expire) and Refunds, each honouring `Idempotency-Key`. Tests drive
the session's life (`complete`, `expire`) and sign events exactly as Stripe does
(`Stripe-Signature: t=…,v1=HMAC-SHA256(secret, "t.payload")`).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest

_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}_test_{next(_ids):06d}{int(time.time() * 1000) % 100000:05d}"


def parse_form(body: str) -> dict:
    """Stripe's form encoding (`a[b][0][c]=v`) back into nested dicts and lists."""
    root: dict = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part, following in itertools.pairwise(parts):
            default = [] if following.isdigit() else {}
            if isinstance(node, list):
                index = int(part)
                while len(node) <= index:
                    node.append(default.copy())
                node = node[index]
            else:
                node = node.setdefault(part, default)
        last = parts[-1]
        if isinstance(node, list):
            node.append(value)
        else:
            node[last] = value
    return root


class StripeDouble:
    def __init__(self):
        self.sessions: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.intents: dict[str, dict] = {}
        # Answer the next Checkout Session without a `url` (an answer Stripe should not give).
        self.omit_next_session_url = False
        self._delays: list[dict] = []
        self.requests: list[dict] = []
        self._idempotent: dict[str, tuple[int, dict]] = {}
        self._failures: list[dict] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # ------------------------------------------------------------------ test controls

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def fail(self, method: str, path_prefix: str, *, status=500, times=1, message=None):
        """Answer the next `times` matching requests with a Stripe error."""
        self._failures.append(
            {
                "method": method,
                "prefix": path_prefix,
                "status": status,
                "times": times,
                "message": message or "The Stripe test double was told to fail.",
            }
        )

    def hang(self, method: str, path_prefix: str, *, seconds: float, times=1):
        """Answer the next `times` matching requests only after `seconds` (a timeout for a
        client that waits less), having done the work: the outcome the client never saw."""
        self._delays.append(
            {"method": method, "prefix": path_prefix, "seconds": seconds, "times": times}
        )

    def calls(self, method: str, path_prefix: str) -> list[dict]:
        return [
            r for r in self.requests if r["method"] == method and r["path"].startswith(path_prefix)
        ]

    def complete(
        self,
        session_id: str,
        *,
        payment_status="paid",
        amount_total=None,
        currency=None,
        shipping=None,
        phone=None,
        shipping_shape="collected_information",
    ):
        """The shopper finished Checkout: returns the session as a webhook would carry it.

        `shipping` (`{"name", "address": {...}}`) is placed where the API version puts it:
        `collected_information.shipping_details` (current) or `shipping_details` (older
        versions, `shipping_shape="legacy"`); `phone` goes to `customer_details.phone`.
        """
        session = self.sessions[session_id]
        session["status"] = "complete"
        manual = session.get("capture_method") == "manual"
        if manual and payment_status == "paid":
            payment_status = "unpaid"  # an authorised card: Checkout reports it unpaid
        if shipping is not None:
            if shipping_shape == "legacy":
                session["shipping_details"] = shipping
            else:
                session["collected_information"] = {"shipping_details": shipping}
        if phone is not None or shipping is not None:
            session["customer_details"] = {
                "email": session.get("customer_email"),
                "name": (shipping or {}).get("name"),
                "phone": phone,
            }
        session["payment_status"] = payment_status
        session["payment_intent"] = session["payment_intent"] or new_id("pi")
        if amount_total is not None:
            session["amount_total"] = amount_total
        if currency is not None:
            session["currency"] = currency
        status = "requires_capture" if manual else "succeeded"
        if payment_status == "unpaid" and not manual:
            status = "processing"
        self.intents[session["payment_intent"]] = {
            "id": session["payment_intent"],
            "object": "payment_intent",
            "status": status,
            "amount": session["amount_total"],
            "amount_capturable": session["amount_total"] if status == "requires_capture" else 0,
            "amount_received": session["amount_total"] if status == "succeeded" else 0,
            "currency": session["currency"],
            "capture_method": "manual" if manual else "automatic",
            "metadata": session["payment_intent_metadata"],
            "latest_charge": new_id("ch"),
        }
        return dict(session)

    def intent_for(self, session_id: str) -> dict:
        return dict(self.intents[self.sessions[session_id]["payment_intent"]])

    def settle(self, session_id: str, *, succeeded=True):
        session = self.sessions[session_id]
        session["payment_status"] = "paid" if succeeded else "unpaid"
        return dict(session)

    def expire(self, session_id: str):
        session = self.sessions[session_id]
        session["status"] = "expired"
        return dict(session)

    def charge_for(self, session_id: str, *, amount_refunded=None):
        session = self.sessions[session_id]
        amount = session["amount_total"]
        refunded = amount if amount_refunded is None else amount_refunded
        return {
            "id": new_id("ch"),
            "object": "charge",
            "amount": amount,
            "amount_refunded": refunded,
            "refunded": refunded >= amount,
            "currency": session["currency"],
            "payment_intent": session["payment_intent"],
        }

    # ------------------------------------------------------------------ the API

    def _create_session(self, params: dict) -> tuple[int, dict]:
        items = params.get("line_items", [])
        amount = sum(
            int(item["price_data"]["unit_amount"]) * int(item.get("quantity", 1)) for item in items
        )
        currency = items[0]["price_data"]["currency"] if items else params.get("currency")
        session_id = new_id("cs")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": params.get("mode"),
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": amount,
            "currency": currency,
            "client_reference_id": params.get("client_reference_id"),
            "customer_email": params.get("customer_email"),
            "metadata": params.get("metadata", {}),
            "expires_at": int(params["expires_at"]) if params.get("expires_at") else None,
            "success_url": params.get("success_url", "").replace(
                "{CHECKOUT_SESSION_ID}", session_id
            ),
            "cancel_url": params.get("cancel_url"),
            "payment_intent": None,
            "capture_method": params.get("payment_intent_data", {}).get("capture_method"),
            "payment_intent_metadata": params.get("payment_intent_data", {}).get("metadata", {}),
            "line_items_requested": items,
            "shipping_address_collection": params.get("shipping_address_collection"),
            "phone_number_collection": params.get("phone_number_collection"),
            "livemode": False,
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
        }
        if self.omit_next_session_url:
            self.omit_next_session_url = False
            session["url"] = None
        self.sessions[session_id] = session
        return 200, session

    def _route(self, method: str, path: str, params: dict) -> tuple[int, dict]:
        if method == "POST" and path == "/v1/checkout/sessions":
            return self._create_session(params)
        match = re.fullmatch(r"/v1/checkout/sessions/([^/]+)(/expire)?", path)
        if match and match.group(1) in self.sessions:
            session = self.sessions[match.group(1)]
            if method == "POST" and match.group(2):
                if session["status"] != "open":
                    return _error(400, "Only open Checkout Sessions can be expired.")
                session["status"] = "expired"
            if "payment_intent" in params.get("expand", []) and session["payment_intent"]:
                intent = self.intents.get(session["payment_intent"])
                return 200, {**session, "payment_intent": intent or session["payment_intent"]}
            return 200, session
        match = re.fullmatch(r"/v1/payment_intents/([^/]+)(/capture|/cancel)?", path)
        if match:
            return self._intent_action(match.group(1), method, match.group(2))
        if method == "POST" and path == "/v1/refunds":
            intent = params.get("payment_intent")
            session = next(
                (s for s in self.sessions.values() if s["payment_intent"] == intent), None
            )
            if session is None:
                return _error(404, f"No such payment_intent: '{intent}'", code="resource_missing")
            record = self.intents.get(intent)
            if record is not None and record["status"] != "succeeded":
                return _error(400, f"This PaymentIntent ({intent}) is {record['status']}.")
            refunds = self.refunds.values()
            already = sum(r["amount"] for r in refunds if r["payment_intent"] == intent)
            amount = int(params.get("amount", session["amount_total"] - already))
            if amount <= 0 or already + amount > session["amount_total"]:
                return _error(400, "Refund amount is greater than the unrefunded amount.")
            refund = {
                "id": new_id("re"),
                "object": "refund",
                "amount": amount,
                "currency": session["currency"],
                "payment_intent": intent,
                "status": "succeeded",
                "metadata": params.get("metadata", {}),
            }
            self.refunds[refund["id"]] = refund
            return 200, refund
        return _error(404, f"Unrecognized request URL ({method}: {path}).", code="resource_missing")

    def _intent_action(self, intent_id: str, method: str, action: str | None):
        intent = self.intents.get(intent_id)
        if intent is None:
            return _error(404, f"No such payment_intent: '{intent_id}'", code="resource_missing")
        if method == "POST" and action:
            if intent["status"] != "requires_capture":
                return _error(
                    400,
                    f"This PaymentIntent could not be {action[1:]}d: it is {intent['status']}.",
                    code="payment_intent_unexpected_state",
                )
            if action == "/capture":
                intent.update(
                    status="succeeded", amount_received=intent["amount"], amount_capturable=0
                )
            else:
                intent.update(status="canceled", amount_capturable=0)
        return 200, dict(intent)

    def _handle(self, method, path, headers, body) -> tuple[int, dict]:
        params = parse_form(body)
        with self._lock:
            self.requests.append(
                {"method": method, "path": path, "params": params, "headers": headers}
            )
            for failure in self._failures:
                matches = method == failure["method"] and path.startswith(failure["prefix"])
                if failure["times"] and matches:
                    failure["times"] -= 1
                    return _error(failure["status"], failure["message"], kind="api_error")
            key = headers.get("idempotency-key")
            if key and (method, key) in self._idempotent:
                return self._idempotent[(method, key)]
            answer = self._route(method, path, params)
            if key:
                self._idempotent[(method, key)] = answer
            delay = next(
                (
                    d
                    for d in self._delays
                    if d["times"] and d["method"] == method and path.startswith(d["prefix"])
                ),
                None,
            )
            if delay is not None:
                delay["times"] -= 1
        if delay is not None:
            time.sleep(delay["seconds"])
        return answer

    def _handler(self):
        double = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                url = urlsplit(self.path)
                if method == "GET" and url.query:
                    body = url.query
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, payload = double._handle(method, url.path, headers, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", new_id("req"))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._answer("GET")

            def do_POST(self):
                self._answer("POST")

            def log_message(self, *args):
                pass

        return Handler


def _error(status, message, *, code=None, kind="invalid_request_error"):
    return status, {"error": {"type": kind, "message": message, "code": code}}


# ---------------------------------------------------------------------- events and signing


def stripe_event(event_type: str, obj: dict, *, event_id: str | None = None) -> dict:
    return {
        "id": event_id or new_id("evt"),
        "object": "event",
        "api_version": "2025-09-30.clover",
        "created": int(time.time()),
        "type": event_type,
        "livemode": False,
        "pending_webhooks": 1,
        "data": {"object": obj},
        "request": {"id": None, "idempotency_key": None},
    }


def sign(payload: bytes, secret: str, *, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    signature = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={signature}"


WEBHOOK_PATH = "/api/v2/webhooks/stripe"


def post_event(client, event: dict, *, secret: str | None = None, timestamp=None):
    """POST an event to the webhook exactly as Stripe does: raw JSON, signed header."""
    from django.conf import settings

    payload = json.dumps(event).encode()
    header = sign(payload, secret or settings.STRIPE_WEBHOOK_SECRET, timestamp=timestamp)
    return client.post(
        WEBHOOK_PATH, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )


@pytest.fixture
def stripe_api(settings):
    """A running Stripe double; the SDK is pointed at it through STRIPE_API_BASE."""
    double = StripeDouble().start()
    settings.STRIPE_API_BASE = double.url
    settings.STRIPE_SECRET_KEY = "sk_test_suite"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_suite"
    yield double
    double.stop()
