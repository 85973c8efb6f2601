"""Parsing untrusted JSON (Stripe's webhook bodies, the JSON checkout) into what we can store.

Valid JSON can still be unstorable or dangerous to handle: nesting deep enough to exhaust
Python's recursion (in parsing, and again when Django serialises a JSONField), U+0000 (which
PostgreSQL's text and jsonb cannot hold), lone UTF-16 surrogates such as `\\ud800` (which no
UTF-8 database or encoder accepts), numbers that overflow to infinity such as `1e999` (which
jsonb cannot hold either), and identifiers longer than their columns. Each of those is
refused here, before anything is stored, so the caller answers a clear 400 instead of a 500 —
or, for a webhook, a 503 that Stripe would retry for three days.
"""

from __future__ import annotations

import json
import math
import re

# Stripe's events nest about a dozen levels; nothing legitimate comes near this.
MAX_DEPTH = 64
# `WebhookEvent.stripe_event_id` is 255 characters; Stripe's ids are far shorter.
EVENT_ID_MAX_LENGTH = 255
EVENT_TYPE_MAX_LENGTH = 100

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class InvalidPayload(ValueError):
    """Not JSON we can handle or store: a short reason, safe to show to the sender."""


def _refuse_constant(name):
    raise InvalidPayload(f"{name} is not JSON.")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise InvalidPayload(f"The number {text[:20]} is too large.")
    return value


def text_is_storable(value: str) -> bool:
    """No U+0000 and no lone surrogate: text every database and encoder accepts."""
    return _UNSTORABLE.search(value) is None


def _check_tree(data) -> None:
    """Depth and text checks over the parsed value, iteratively (no recursion to exhaust)."""
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InvalidPayload(f"Nested more than {MAX_DEPTH} levels deep.")
        if isinstance(node, str):
            if not text_is_storable(node):
                raise InvalidPayload("Contains U+0000 or an unpaired surrogate.")
        elif isinstance(node, dict):
            for key, value in node.items():
                if not text_is_storable(key):
                    raise InvalidPayload("Contains U+0000 or an unpaired surrogate.")
                stack.append((value, depth + 1))
        elif isinstance(node, list):
            stack.extend((item, depth + 1) for item in node)


def parse_json(payload: bytes | str):
    """Standard JSON (no NaN/Infinity, no number that overflows to infinity), UTF-8, at most
    MAX_DEPTH deep, storable text only.

    Raises InvalidPayload.
    """
    try:
        text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
        data = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except InvalidPayload:
        raise
    except RecursionError:
        raise InvalidPayload(f"Nested more than {MAX_DEPTH} levels deep.") from None
    except (UnicodeDecodeError, ValueError):
        raise InvalidPayload("Not valid JSON.") from None
    _check_tree(data)
    return data


def is_event(event) -> bool:
    """The shape of a Stripe event, with an id and type that fit their columns."""
    return (
        isinstance(event, dict)
        and event.get("object") == "event"
        and isinstance(event.get("id"), str)
        and event["id"].startswith("evt_")
        and len(event["id"]) <= EVENT_ID_MAX_LENGTH
        and isinstance(event.get("type"), str)
        and isinstance(event.get("data"), dict)
        and isinstance(event["data"].get("object"), dict)
    )


class NotAnEvent(ValueError):
    """Verified, parseable JSON that is not a Stripe event we can store."""


def parse_event(payload: bytes):
    """A verified webhook body → the event dict. Raises InvalidPayload or NotAnEvent."""
    event = parse_json(payload)
    if not is_event(event):
        raise NotAnEvent("Not a Stripe event.")
    return event
