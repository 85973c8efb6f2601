"""A local stand-in for Nivoda's GraphQL API: a threaded HTTP server on 127.0.0.1.

It answers the operations the `nivoda` adapter sends (recognised by the field in the query:
authenticate, diamonds_by_query, get_diamond_by_id, create_hold, cancel_hold, create_order)
in Nivoda's shape, and records every request in `requests` (operation, variables, token).

Knobs for tests:
- `stones`: the items `diamonds_by_query` pages over (`add_stone(**changes)` builds one);
- `fail(mode, operation=None, times=1, after=0)`: matching requests (after the first `after`)
  get `"graphql_error"`, `"expired_token"`, `"http_500"`, `"garbage"` or `"hang"` (no answer
  until the test ends);
- `expire_tokens()`: every token issued so far is rejected as expired from now on;
- `deny_holds`, `username` / `password`, `orders` (the OrderItemInputs received).

The `nivoda_api` fixture starts one, points the settings at it and empties the adapter's token
cache before and after the test.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

OPERATIONS = (
    "authenticate",
    "diamonds_by_query",
    "get_diamond_by_id",
    "create_hold",
    "cancel_hold",
    "create_order",
)
MODES = ("graphql_error", "expired_token", "http_500", "garbage", "hang")


@dataclass
class Recorded:
    operation: str
    variables: dict
    token: str | None


@dataclass
class _Failure:
    mode: str
    operation: str | None
    times: int
    message: str
    after: int


@dataclass
class NivodaDouble:
    username: str = "store-api"
    password: str = "store-api-password"
    stones: list[dict] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    orders: list[dict] = field(default_factory=list)
    holds: dict[str, dict] = field(default_factory=dict)
    deny_holds: bool = False
    url: str = ""

    def __post_init__(self):
        self._lock = threading.Lock()
        self._failures: deque[_Failure] = deque()
        self._valid_tokens: set[str] = set()
        self._issued = 0
        self._release = threading.Event()

    # ------------------------------------------------------------ knobs

    def add_stone(self, **changes) -> dict:
        n = len(self.stones) + 1
        certificate = {
            "id": f"cert-{n}",
            "lab": "GIA",
            "certNumber": f"{2200000000 + n}",
            "shape": "ROUND",
            "carats": 1.01,
            "color": "G",
            "clarity": "VS1",
            "cut": "EX",
            "polish": "EX",
            "symmetry": "VG",
            "floInt": "None",
            "floCol": "",
            "length": 6.4,
            "width": 6.42,
            "depth": 3.95,
            "depthPercentage": 61.6,
            "table": 57,
            "labgrown": False,
        }
        certificate.update(changes.pop("certificate", {}))
        diamond = {
            "id": f"nivoda-stone-{n}",
            "availability": "AVAILABLE",
            "HoldId": None,
            "image": f"https://images.nivoda.example/{n}.jpg",
            "video": "",
            "supplier": {"id": "sup-1", "name": "Supplier", "legal_name": "Supplier Ltd"},
            "certificate": certificate,
        }
        diamond.update(changes.pop("diamond", {}))
        item = {"id": f"offer-{n}", "price": 650_000, "diamond_price": 600_000, "diamond": diamond}
        item.update(changes)
        self.stones.append(item)
        return item

    def fail(
        self, mode: str, *, operation: str | None = None, times=1, after=0, message=""
    ) -> None:
        """The next `times` matching requests fail, once `after` of them have been answered."""
        assert mode in MODES, mode
        assert operation is None or operation in OPERATIONS, operation
        with self._lock:
            self._failures.append(_Failure(mode, operation, times, message, after))

    def expire_tokens(self):
        with self._lock:
            self._valid_tokens.clear()

    def calls(self, operation: str) -> list[Recorded]:
        return [r for r in self.requests if r.operation == operation]

    # ------------------------------------------------------------ server side

    def _take_failure(self, operation: str) -> _Failure | None:
        with self._lock:
            for failure in self._failures:
                if failure.operation in (None, operation):
                    if failure.after > 0:
                        failure.after -= 1
                        continue
                    failure.times -= 1
                    if failure.times <= 0:
                        self._failures.remove(failure)
                    return failure
        return None

    def _issue_token(self) -> str:
        with self._lock:
            self._issued += 1
            token = f"token-{self._issued}"
            self._valid_tokens.add(token)
        return token

    def handle(self, body: bytes) -> tuple[int, bytes]:
        try:
            payload = json.loads(body)
            query, variables = payload["query"], payload.get("variables") or {}
        except (ValueError, KeyError, TypeError):
            return 400, b'{"errors": [{"message": "Must provide query string."}]}'
        operation = next((op for op in OPERATIONS if op in query), "unknown")
        token = variables.get("token")
        self.requests.append(Recorded(operation, variables, token))

        failure = self._take_failure(operation)
        if failure and failure.mode == "hang":
            self._release.wait(timeout=30)
            return 504, b""
        if failure and failure.mode == "http_500":
            return 500, b"<html><body>Internal Server Error</body></html>"
        if failure and failure.mode == "garbage":
            return 200, b"<html>upstream proxy says hello</html>"
        if failure and failure.mode == "graphql_error":
            return _errors(failure.message or "Something went wrong on Nivoda's side")
        if (failure and failure.mode == "expired_token") or (
            operation != "authenticate" and token not in self._valid_tokens
        ):
            return _errors("Token expired, please log in again", code="UNAUTHENTICATED")

        if operation == "authenticate":
            if (variables.get("username"), variables.get("password")) != (
                self.username,
                self.password,
            ):
                return _errors("Invalid username or password")
            token = self._issue_token()
            return _data({"authenticate": {"username_and_password": {"token": token}}})
        return _data({"as": {operation: getattr(self, f"_{operation}")(variables)}})

    def _diamonds_by_query(self, variables):
        offset, limit = variables.get("offset") or 0, variables.get("limit") or 50
        if limit > 50:
            raise _GraphQLError("limit must be 50 or less")
        return {"total_count": len(self.stones), "items": self.stones[offset : offset + limit]}

    def _get_diamond_by_id(self, variables):
        return next((s for s in self.stones if s["diamond"]["id"] == variables["id"]), None)

    def _create_hold(self, variables):
        hold_id = f"hold-{len(self.holds) + 1}"
        hold = {"id": hold_id, "denied": self.deny_holds, "until": "2026-11-25T00:00:00Z"}
        self.holds[hold_id] = {**hold, "product": variables["productId"]}
        return hold

    def _cancel_hold(self, variables):
        if variables["holdId"] not in self.holds:
            raise _GraphQLError(f"Hold {variables['holdId']} not found")
        self.holds.pop(variables["holdId"])
        return {"id": variables["holdId"], "denied": False, "until": None}

    def _create_order(self, variables):
        for item in variables["items"]:
            if not any(s["id"] == item["offerId"] for s in self.stones):
                raise _GraphQLError(f"Offer {item['offerId']} is no longer available")
        self.orders.extend(variables["items"])
        return f"NIV-ORDER-{len(self.orders)}"


class _GraphQLError(Exception):
    pass


def _data(data) -> tuple[int, bytes]:
    return 200, json.dumps({"data": data}).encode()


def _errors(message: str, *, code: str = "INTERNAL_SERVER_ERROR") -> tuple[int, bytes]:
    body = {"errors": [{"message": message, "extensions": {"code": code}}], "data": None}
    return 200, json.dumps(body).encode()


def _handler_for(double: NivodaDouble):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                status, answer = double.handle(body)
            except _GraphQLError as exc:
                status, answer = _errors(str(exc))
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except OSError:
                pass  # the client gave up (a timeout test)

        def log_message(self, *args):
            pass

    return Handler


def start(double: NivodaDouble) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(double))
    server.daemon_threads = True
    double.url = f"http://127.0.0.1:{server.server_address[1]}/api/diamonds"
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    return server


@pytest.fixture
def nivoda_api(settings):
    from feeds.nivoda import token_cache_clear

    double = NivodaDouble()
    server = start(double)
    settings.NIVODA_ENDPOINT = double.url
    settings.NIVODA_USERNAME = double.username
    settings.NIVODA_PASSWORD = double.password
    settings.NIVODA_DESTINATION_ID = "destination-auckland"
    settings.NIVODA_TIMEOUT_SECONDS = 5
    token_cache_clear()
    try:
        yield double
    finally:
        double._release.set()
        server.shutdown()
        server.server_close()
        token_cache_clear()
