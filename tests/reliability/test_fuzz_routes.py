"""Every route, any input, any user: no answer is a server error.

The routes are read from Django's URL resolver (the admin's included), so a page added later is
fuzzed too. Each route's parameters are filled with real objects' ids (orders in every legal
state, their diamonds, sessions, webhook events, alerts, users, a password-reset link) or with
junk. Each example is one request — a method, a query string, a body and a content type drawn
by hypothesis — sent as an anonymous visitor, a shopper and a member of the Ops group, each
with a CSRF cookie and its token (as a browser sends them), on PostgreSQL. No answer may be
5xx; a streamed answer (the CSV export) is read to its end.

Field names and plausible values come from the pages themselves: the inputs, selects and
links each route's page shows (or, for one that is not HTML, the page above it). A form is
sent filled in with plausible values, with some of them replaced by hostile ones: NUL, bytes
that are not UTF-8, lone surrogates, words where a URL, a number or a date is expected,
overlong text. JSON bodies carry deep nesting, NUL, lone surrogates, numbers that overflow to
infinity and values of the wrong type; the Stripe webhook's are signed with its secret (an
unsigned body is refused before it is read).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import parse_qsl, quote, unquote_to_bytes

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from orders.models import Order
from payments.webhooks import HANDLERS
from tests.doubles.stripe import WEBHOOK_PATH, sign, stripe_event
from tests.factories import PASSWORD
from tests.routes import ROUTES, Route, Store, populated_store

pytestmark = pytest.mark.django_db


def fuzz_settings(fields) -> hypothesis_settings:
    """More examples for a page with more fields (each example is 2 requests x 3 users)."""
    return hypothesis_settings(
        max_examples=min(20 + 2 * len(fields), 50),
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )


# ---------------------------------------------------------------- the world


ROLES = ("anonymous", "shopper", "ops")
CSRF_TOKEN = "fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzz"  # 32 characters, as Django's own secrets


@dataclass
class World:
    store: Store
    clients: dict[str, Client]


def _client(user=None) -> Client:
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.cookies[settings.CSRF_COOKIE_NAME] = CSRF_TOKEN
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def world(ops_group, stripe_api) -> World:
    store = populated_store(ops_group=ops_group)
    clients = {"anonymous": _client(), "shopper": _client(store.shopper), "ops": _client(store.ops)}
    return World(store, clients)


# ---------------------------------------------------------------- what the pages offer


class _Fields(HTMLParser):
    """Field names and plausible values: a query string's (links, forms sent by GET) and a
    posted form's."""

    # A plausible value for an input of each type (beyond the value the page gives it).
    BY_TYPE = {
        "email": "fuzz-new@example.com",
        "password": PASSWORD + "-new",
        "number": "1",
        "date": "2026-01-31",
        "checkbox": "on",
        "text": "fuzzer",
        "search": "DO-20260101-0001",
    }

    def __init__(self):
        super().__init__()
        self.query: dict[str, set[str]] = {}
        self.form: dict[str, set[str]] = {}
        self._fields, self._select = self.query, None

    def _add(self, name, *values, to=None):
        if name:
            to = self._fields if to is None else to
            to.setdefault(name, set()).update(v for v in values if v is not None)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._fields = self.form if a.get("method", "get").lower() == "post" else self.query
        elif tag in ("input", "button", "textarea"):
            self._add(a.get("name"), a.get("value"), self.BY_TYPE.get(a.get("type", "text")))
        elif tag == "select":
            self._select = a.get("name")
            self._add(self._select)
        elif tag == "option" and self._select:
            self._add(self._select, a.get("value"))
        elif tag == "a" and a.get("href", "").startswith("?"):
            for key, value in parse_qsl(a["href"][1:], keep_blank_values=True):
                self._add(key, value, to=self.query)

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "form":
            self._fields = self.query


@dataclass
class Fields:
    query: dict[str, list[str]]  # name -> plausible values
    form: dict[str, list[str]]

    def __len__(self):
        return len(self.query) + len(self.form)


def page_fields(world: World, path: str) -> Fields:
    """What the route's page offers each of the three users (the page above it when the route
    itself shows no HTML, e.g. the CSV export under the orders list). Every page may be given
    a `next` (the redirect target Django's views take)."""
    parser = _Fields()
    while path != "/" and not (parser.query or parser.form):
        for client in world.clients.values():
            response = client.get(path)
            if "html" in response.get("Content-Type", ""):
                parser.feed(response.content.decode(errors="replace"))
        path = path.rstrip("/").rsplit("/", 1)[0] + "/"
    found = Fields(*({"next": {"/"}, **fields} for fields in (parser.query, parser.form)))
    found.form.pop("csrfmiddlewaretoken", None)
    return Fields(
        *(
            {name: sorted(values) for name, values in sorted(f.items())}
            for f in (found.query, found.form)
        )
    )


# ---------------------------------------------------------------- hostile values

# Words where a URL, an id, a number or a date is expected; text PostgreSQL cannot hold.
HOSTILE_WORDS = [
    "",
    "abc",
    "compare",
    "None",
    "null",
    "true",
    "-1",
    "0",
    "1e999",
    "NaN",
    "yesterday",
    "2026-13-45",
    "9" * 30,
    "../../etc/passwd",
    "//evil.example/",
    "https://evil.example/",
    "javascript:alert(1)",
    "' OR 1=1 --",
    "<script>x</script>",
    "\u202eevil",
    "a\x00b",
    "\x00",
    "x" * 300,
]
# Raw bytes for a query string or a form: NUL, lone surrogates as UTF-8 would write them,
# an overlong NUL, bytes that are not UTF-8 at all.
HOSTILE_BYTES = [b"%00", b"a%00b", b"%00%00", b"%ED%A0%80", b"%ED%BF%BF", b"%C0%80", b"%FF", b"%"]

hostile_text = st.sampled_from(HOSTILE_WORDS) | st.text(max_size=30)
hostile_encoded = st.sampled_from(HOSTILE_BYTES) | hostile_text.map(
    lambda s: quote(s, safe="").encode()
)


@st.composite
def form_fields(draw, fields: dict[str, list[str]]) -> list[tuple[bytes, bytes]]:
    """The page's fields: all filled in plausibly but one, which is hostile; or a few of them,
    each plausible or hostile; or all of them hostile. Now and then a made-up field too."""
    names = list(fields)
    mode = draw(st.sampled_from(["one bad", "one bad", "some", "all bad"])) if names else "some"
    if mode == "one bad":
        chosen, bad = names, {draw(st.sampled_from(names))}
    elif mode == "all bad":
        chosen, bad = names, set(names)
    else:
        chosen = draw(st.lists(st.sampled_from(names), unique=True)) if names else []
        bad = {name for name in chosen if draw(st.booleans())}
    pairs = [
        (
            quote(name, safe="").encode(),
            draw(hostile_encoded)
            if name in bad
            else quote(draw(st.sampled_from(fields[name] or [""])), safe="").encode(),
        )
        for name in chosen
    ]
    if draw(st.integers(0, 4)) == 0:
        pairs.append((draw(hostile_encoded), draw(hostile_encoded)))
    return pairs


def urlencode_bytes(pairs) -> bytes:
    return b"&".join(name + b"=" + value for name, value in pairs)


BOUNDARY = "fuzzboundary"


def multipart(pairs) -> bytes:
    parts = [
        b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
        % (BOUNDARY.encode(), unquote_to_bytes(name), unquote_to_bytes(value))
        for name, value in pairs
    ]
    return b"".join(parts) + b"--%s--\r\n" % BOUNDARY.encode()


# JSON: numbers Python reads as infinity, lone surrogates, NUL, deep nesting, wrong types.
@dataclass(frozen=True)
class Raw:
    """JSON text written as is (a number literal `json.dumps` cannot produce)."""

    text: str


def to_json(value) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(to_json(v) for v in value) + "]"
    return json.dumps(value)  # ensure_ascii: NUL and lone surrogates travel as \u escapes


json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([Raw("1e999"), Raw("-1e999"), Raw("1E400"), Raw("1e-999")])
    | hostile_text
    | st.sampled_from(["\ud800", "a\udfffb", "\x00"])
)
json_values = st.recursive(
    json_leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text, inner, max_size=3),
    max_leaves=8,
)
deep_json = st.integers(min_value=65, max_value=5000).flatmap(
    lambda depth: st.sampled_from(
        [Raw("[" * depth + "]" * depth), Raw('{"a":' * depth + "1" + "}" * depth)]
    )
)


def json_document(fields: dict[str, list[str]]):
    """A JSON object with the route's fields (plausible or hostile) and others."""
    plausible = {name: st.sampled_from(values or [""]) for name, values in fields.items()}
    return (
        st.fixed_dictionaries(
            {},
            optional={
                name: strategy | json_values | deep_json for name, strategy in plausible.items()
            },
        )
        | json_values
        | deep_json
    )


# The Stripe objects' fields the webhook handlers read, for signed events that reach them.
STRIPE_FIELDS = [
    "id",
    "object",
    "payment_intent",
    "payment_status",
    "status",
    "amount",
    "amount_total",
    "amount_received",
    "amount_capturable",
    "amount_refunded",
    "currency",
    "client_reference_id",
    "metadata",
    "created",
    "latest_charge",
    "receipt_url",
    "evidence_details",
    "charge",
    "captured",
    "refunded",
]


# Mostly values of the wrong type that the database can hold (unstorable text is refused with
# a 400 before anything else, and has its own tests in test_fuzz.py).
storable_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([Raw("1e999"), Raw("-1e999"), Raw("1E400"), Raw("1e-999")])
    | st.sampled_from([w for w in HOSTILE_WORDS if "\x00" not in w])
)
stripe_values = (
    st.recursive(
        storable_leaves,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.sampled_from(STRIPE_FIELDS), inner, max_size=3)
        ),
        max_leaves=6,
    )
    | json_values
)


def stripe_object(world: World):
    """A Stripe object naming a real order (its session, payment intent or id) or not, with
    fields of any type."""
    payment_intents = list(
        Order.objects.exclude(stripe_payment_intent_id="").values_list(
            "stripe_payment_intent_id", flat=True
        )
    )
    order_ids = [str(pk) for pk in Order.objects.values_list("pk", flat=True)]
    refers_to = st.fixed_dictionaries(
        {},
        optional={
            "object": st.sampled_from(["checkout.session", "payment_intent", "charge", "dispute"]),
            "id": st.sampled_from(world.store.real["session_id"] + payment_intents),
            "payment_intent": st.sampled_from(payment_intents),
            "metadata": st.sampled_from(order_ids).map(lambda pk: {"order_id": pk}),
        },
    )
    return st.builds(
        lambda real, anything: {**anything, **real},
        refers_to,
        st.dictionaries(st.sampled_from(STRIPE_FIELDS), stripe_values, min_size=1, max_size=6),
    )


# ---------------------------------------------------------------- one request


FORM = "application/x-www-form-urlencoded"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
JSON = "application/json"
ODD_CONTENT_TYPES = [
    "application/json; charset=latin-1",
    "text/plain",
    "multipart/form-data",  # no boundary
    "",
    "x/;;;",
]


@dataclass
class Request:
    method: str
    path: str
    query: bytes
    body: bytes
    content_type: str
    headers: dict

    def __str__(self):
        return (
            f"{self.method} {self.path}?{self.query.decode('latin-1')} "
            f"[{self.content_type}] {self.body[:300]!r}"
        )


def _path(draw, route: Route, world: World) -> str:
    values = {}
    for name in route.parameters:
        real = world.store.values(route, name)
        safe = "/" if f"path:{name}" in route.pattern or f"?P<{name}>" in route.pattern else ""
        values[name] = quote(draw(st.sampled_from(real) | hostile_text), safe=safe)
    return route.fill(values)


def _body(draw, path: str, world: World, fields, pairs) -> tuple[bytes, str]:
    """The page's fields as a form, multipart or JSON (or random bytes), mostly with the
    matching content type; a signed event for the Stripe webhook."""
    if path == WEBHOOK_PATH:
        event_type = draw(st.sampled_from(sorted(HANDLERS)) | st.text(max_size=30))
        return to_json(stripe_event(event_type, draw(stripe_object(world)))).encode(), JSON
    kind = draw(st.sampled_from(["form", "form", "multipart", "json", "raw"]))
    if kind == "form":
        body, content_type = urlencode_bytes(pairs), FORM
    elif kind == "multipart":
        body, content_type = multipart(pairs), MULTIPART
    elif kind == "json":
        body, content_type = to_json(draw(json_document(fields.form))).encode(), JSON
    else:
        body, content_type = draw(st.binary(max_size=200)), draw(st.sampled_from(ODD_CONTENT_TYPES))
    if draw(st.integers(0, 4)) == 0:
        content_type = draw(st.sampled_from([FORM, MULTIPART, JSON, *ODD_CONTENT_TYPES]))
    return body, content_type


@st.composite
def requests(draw, route: Route, world: World, fields) -> list[Request]:
    """The same fields sent as a query string (GET, or now and then another method) and as a
    POST body; the Stripe webhook's bodies are signed."""
    path = _path(draw, route, world)
    query = urlencode_bytes(draw(form_fields(fields.query)))
    pairs = draw(form_fields(fields.form))
    method = draw(st.sampled_from(["GET"] * 5 + ["HEAD", "PUT", "DELETE", "OPTIONS"]))
    headers = {"X-CSRFToken": CSRF_TOKEN}
    body, content_type = _body(draw, path, world, fields, pairs)
    post_headers = dict(headers)
    if path == WEBHOOK_PATH:
        post_headers["Stripe-Signature"] = sign(body, settings.STRIPE_WEBHOOK_SECRET)
    post_query = query if draw(st.integers(0, 3)) == 0 else b""
    return [
        Request(method, path, query, b"", "", headers),
        Request("POST", path, post_query, body, content_type, post_headers),
    ]


class Rollback(Exception):
    pass


def send(client: Client, request: Request):
    """The answer, read to its end (a streamed body included); the world is left unchanged."""
    cache.clear()  # throttles and rate limits start afresh for each request
    try:
        with transaction.atomic():
            response = client.generic(
                request.method,
                request.path + ("?" + request.query.decode("latin-1") if request.query else ""),
                data=request.body,
                content_type=request.content_type,
                headers=request.headers,
            )
            if response.streaming:
                b"".join(response.streaming_content)
            raise Rollback(response)
    except Rollback as done:
        return done.args[0]


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_no_route_answers_a_server_error_whatever_it_is_sent(postgres_only, world, route):
    real_path = route.fill(
        {name: quote(world.store.values(route, name)[0], safe="/") for name in route.parameters}
    )
    fields = page_fields(world, real_path)

    @fuzz_settings(fields)
    @given(sent=requests(route, world, fields))
    def no_server_error(sent):
        for request in sent:
            for role in ROLES:
                response = send(world.clients[role], request)
                assert response.status_code < 500, f"{role}: {request} -> {response.status_code}"

    no_server_error()


def test_signed_events_with_wrong_field_types_are_handled_not_left_failing(postgres_only, world):
    wrong_types = st.dictionaries(
        st.sampled_from(STRIPE_FIELDS),
        st.integers() | st.text("abcdefghij", min_size=300, max_size=300) | st.just("yesterday"),
        min_size=1,
        max_size=4,
    )

    @hypothesis_settings(max_examples=40, deadline=None, derandomize=True)
    @given(
        event_type=st.sampled_from(sorted(HANDLERS)),
        order=st.sampled_from(world.store.orders),
        wrong=wrong_types,
    )
    def handled(event_type, order, wrong):
        about = {  # the order's own session, payment intent and id
            "object": event_type.rsplit(".", 1)[0].rsplit(".", 1)[-1],
            "id": order.stripe_checkout_session_id,
            "payment_intent": order.stripe_payment_intent_id,
            "metadata": {"order_id": str(order.pk)},
        }
        body = to_json(stripe_event(event_type, {**about, **wrong})).encode()
        headers = {"Stripe-Signature": sign(body, settings.STRIPE_WEBHOOK_SECRET)}
        request = Request("POST", WEBHOOK_PATH, b"", body, JSON, headers)
        response = send(world.clients["anonymous"], request)
        assert response.status_code in (200, 400), request
        assert "processing failed" not in response.json().get("message", ""), request

    handled()
