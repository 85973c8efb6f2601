"""Request checking for the Stripe double, derived from the `stripe` package's own typed params.

Each API method's parameters are the TypedDicts the SDK generates from Stripe's OpenAPI
description (`stripe.params.checkout.SessionCreateParams`, …). They are read here by
introspection, recursively: the names a method takes, which are required, nested objects,
lists, and the enum values (`Literal[...]`). The SDK widens every enum with `|str` so that a
value Stripe adds later still type-checks in old code; Stripe's API itself refuses a value not
in the enum, and so does this check.

A request Stripe would refuse raises `Refusal` with Stripe's answer (status, type, code,
param and message, worded as Stripe words them).
"""

from __future__ import annotations

import functools
import itertools
import re
import types
import typing
from decimal import Decimal, InvalidOperation
from typing import Literal
from urllib.parse import parse_qsl

import stripe._request_options as request_options
from stripe._stripe_object import UntypedStripeObject
from typing_extensions import is_typeddict

# What the SDK's request options (api_key, idempotency_key, …) are: headers, never params.
REQUEST_OPTIONS = frozenset(request_options.RequestOptions.__annotations__)
# Stripe's metadata limits (docs.stripe.com/api/metadata).
METADATA_MAX_KEYS = 50
METADATA_KEY_MAX = 40
METADATA_VALUE_MAX = 500


class Refusal(Exception):
    def __init__(self, message, *, param=None, code=None, status=400, kind="invalid_request_error"):
        super().__init__(message)
        self.message, self.param, self.code = message, param, code
        self.status, self.kind = status, kind


def parse_form(body: str) -> dict:
    """Stripe's form encoding (`a[b][0][c]=v`, `a[]=v`) back into nested dicts and lists."""
    root: dict = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = [key.split("[", 1)[0], *re.findall(r"\[([^\]]*)\]", key)]
        node = root
        for part, following in itertools.pairwise(parts):
            child: list | dict = [] if following == "" or following.isdigit() else {}
            if isinstance(node, list):
                index = len(node) if part == "" else int(part)
                while len(node) <= index:
                    node.append(type(child)())
                node = node[index]
            else:
                node = node.setdefault(part, child)
        if isinstance(node, list):
            node.append(value)
        else:
            node[parts[-1]] = value
    return root


@functools.cache
def fields(typed: type) -> tuple[dict[str, object], frozenset[str]]:
    """A TypedDict's params (name → type) and the required ones, request options left out."""
    namespace = {**vars(request_options), "StripeContext": object}
    hints = typing.get_type_hints(typed, localns=namespace)
    params = {name: hint for name, hint in hints.items() if name not in REQUEST_OPTIONS}
    return params, frozenset(typed.__required_keys__) - REQUEST_OPTIONS


def check(params: dict, typed: type) -> None:
    """Refuse `params` (a decoded form) as Stripe would for the method typed by `typed`."""
    _check_object(params, typed, "")


def _name(path: str, key) -> str:
    return f"{path}[{key}]" if path else str(key)


def _check_object(value, typed: type, path: str) -> None:
    if not isinstance(value, dict):
        raise Refusal(f"Invalid object: {path} must be an object.", param=path)
    known, required = fields(typed)
    for key in value:
        if key not in known:
            name = _name(path, key)
            raise Refusal(
                f"Received unknown parameter: {name}", param=name, code="parameter_unknown"
            )
    for key in sorted(required - set(value)):
        name = _name(path, key)
        raise Refusal(f"Missing required param: {name}.", param=name, code="parameter_missing")
    for key, item in value.items():
        _check_value(item, known[key], _name(path, key))


def _literals(hint) -> list[str]:
    return list(typing.get_args(hint)) if typing.get_origin(hint) is Literal else []


def _check_value(value, hint, path: str) -> None:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if is_typeddict(hint):
        _check_object(value, hint, path)
    elif origin in (typing.Union, types.UnionType) or origin is Literal:
        _check_choice(value, [hint] if origin is Literal else list(args), path)
    elif origin is list:
        if not isinstance(value, list):
            raise Refusal(f"Invalid array: {path} must be an array.", param=path)
        for index, item in enumerate(value):
            _check_value(item, args[0], f"{path}[{index}]")
    elif origin is dict or origin is UntypedStripeObject:
        _check_hash(value, args[-1], path)
    else:
        _check_scalar(value, hint, path)


def _check_choice(value, options: list, path: str) -> None:
    """A union: an enum (its `Literal`s; the SDK's `|str` beside them is its own forward
    compatibility, not Stripe's), `""` to unset, free text, or one of the structured shapes,
    chosen by what the form carried."""
    literals = [v for option in options for v in _literals(option)]
    if value == "" and "" in literals:
        return
    enum = [v for v in literals if v != ""]
    shapes = [o for o in options if not _literals(o) and o not in (str, type(None))]
    if isinstance(value, str):
        if enum:
            if value in enum:
                return
            raise Refusal(f"Invalid {path}: must be one of {_one_of(enum)}", param=path)
        if str in options:
            return
        scalars = [o for o in shapes if not _is_container(o)]
        if scalars:
            _check_scalar(value, scalars[0], path)
            return
    else:
        for option in shapes:
            if _fits(value, option):
                _check_value(value, option, path)
                return
    raise Refusal(f"Invalid {path}", param=path)


def _is_container(hint) -> bool:
    origin = typing.get_origin(hint)
    return is_typeddict(hint) or origin in (list, dict, UntypedStripeObject)


def _fits(value, hint) -> bool:
    origin = typing.get_origin(hint)
    if is_typeddict(hint) or origin in (dict, UntypedStripeObject):
        return isinstance(value, dict)
    if origin is list:
        return isinstance(value, list)
    return isinstance(value, str)


def _one_of(values: list[str]) -> str:
    if len(values) == 1:
        return values[0]
    if len(values) == 2:
        return f"{values[0]} or {values[1]}"
    return f"{', '.join(values[:-1])}, or {values[-1]}"


def _check_hash(value, item_hint, path: str) -> None:
    if not isinstance(value, dict):
        raise Refusal(f"Invalid hash: {path} must be a hash.", param=path)
    if path.rsplit("[", 1)[-1].rstrip("]") == "metadata":
        _check_metadata(value, path)
    for key, item in value.items():
        _check_value(item, item_hint, _name(path, key))


def _check_metadata(metadata: dict, path: str) -> None:
    """Stripe's limits, in Stripe's words."""
    if len(metadata) > METADATA_MAX_KEYS:
        raise Refusal(
            f"Metadata can have up to {METADATA_MAX_KEYS} keys, but you've set "
            f"{len(metadata)}. Email us at support+metadata@stripe.com for more information.",
            param=path,
        )
    for key, item in metadata.items():
        if len(key) > METADATA_KEY_MAX:
            raise Refusal(
                f"Invalid key: {key} must be a string under {METADATA_KEY_MAX} characters",
                param=path,
            )
        if isinstance(item, str) and len(item) > METADATA_VALUE_MAX:
            raise Refusal(
                f"Invalid val: {item} must be a string under {METADATA_VALUE_MAX} characters",
                param=path,
            )


def _check_scalar(value, hint, path: str) -> None:
    if not isinstance(value, str):
        raise Refusal(f"Invalid {path}: expected a single value, not a hash or array.", param=path)
    if hint is int and not re.fullmatch(r"-?\d+", value):
        raise Refusal(f"Invalid integer: {value}", param=path, code="parameter_invalid_integer")
    if hint is bool and value not in ("true", "false"):
        raise Refusal(f"Invalid boolean: {value}", param=path)
    if hint in (float, Decimal):
        try:
            Decimal(value)
        except InvalidOperation:
            raise Refusal(f"Invalid decimal: {value}", param=path) from None
