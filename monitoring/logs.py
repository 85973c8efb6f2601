"""Structured logs: LOG_FORMAT=json writes one JSON object per line, with the request id, the
order number and the Stripe event id as fields wherever they are known.

Where they come from, in order:
1. `log_context(order_number=…, stripe_event_id=…)` — set by code that knows (a context
   variable, so it follows the request or task and never leaks into another);
2. `RequestIdMiddleware` — the request id (the proxy's `X-Request-ID` when it is a sane token,
   else a new one, echoed in the response), the `order` query parameter, and for Stripe's
   webhook the event id and order number named in the body (as the sender claims them: the
   signature is checked later, by the view);
3. the message itself: an order number (`DO-YYYYMMDD-NNNN`) or event id (`evt_…`) it names.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import json
import logging
import re
import uuid
from datetime import UTC, datetime

FIELDS = ("request_id", "order_number", "stripe_event_id")
_context: dict[str, contextvars.ContextVar] = {
    name: contextvars.ContextVar(name, default="") for name in FIELDS
}

ORDER_NUMBER_RE = re.compile(r"\bDO-\d{8}-\d{4,}\b")
EVENT_ID_RE = re.compile(r"\bevt_[A-Za-z0-9_]+\b")
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
BODY_EVENT_ID_RE = re.compile(rb'"id"\s*:\s*"(evt_[A-Za-z0-9_]+)"')
BODY_ORDER_NUMBER_RE = re.compile(
    rb'"(?:order_number|client_reference_id)"\s*:\s*"(DO-\d{8}-\d{4,})"'
)
WEBHOOK_PATH_SUFFIX = "/webhooks/stripe"


def log_context_get() -> dict[str, str]:
    return {name: var.get() for name, var in _context.items()}


@contextlib.contextmanager
def log_context(**fields: str):
    """Name the order / event / request the enclosed code works on, in its log lines."""
    tokens = []
    for name, value in fields.items():
        if value:
            tokens.append((_context[name], _context[name].set(str(value))))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


class ContextFilter(logging.Filter):
    """Puts `request_id`, `order_number` and `stripe_event_id` on every record ("" if unknown)."""

    def filter(self, record: logging.LogRecord) -> bool:
        known = log_context_get()
        message = None
        for name, pattern in (("order_number", ORDER_NUMBER_RE), ("stripe_event_id", EVENT_ID_RE)):
            if not known[name] and not getattr(record, name, ""):
                if message is None:
                    try:
                        message = record.getMessage()
                    except Exception:  # a broken format string is the formatter's to report
                        message = str(record.msg)
                match = pattern.search(message)
                known[name] = match.group(0) if match else ""
        for name, value in known.items():
            if not getattr(record, name, ""):
                setattr(record, name, value)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        for name in FIELDS:
            value = getattr(record, name, "")
            if value:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def logging_config(base: dict, *, log_format: str) -> dict:
    """The project's LOGGING with the context filter on every handler and, for `json`, the
    JSON formatter on them."""
    config = copy.deepcopy(base)
    config.setdefault("filters", {})["context"] = {"()": "monitoring.logs.ContextFilter"}
    config.setdefault("formatters", {})["json"] = {"()": "monitoring.logs.JsonFormatter"}
    if log_format not in ("text", "json"):
        raise ValueError(f"LOG_FORMAT must be 'text' or 'json', not {log_format!r}")
    for handler in config.get("handlers", {}).values():
        handler.setdefault("filters", []).append("context")
        if log_format == "json":
            handler["formatter"] = "json"
    return config


def _request_claims(request) -> dict[str, str]:
    claims = {}
    order = request.GET.get("order", "")
    if ORDER_NUMBER_RE.fullmatch(order):
        claims["order_number"] = order
    if request.method == "POST" and request.path.endswith(WEBHOOK_PATH_SUFFIX):
        try:
            body = request.body[:65536]
        except Exception:  # too big or unreadable: the view answers that, not the logs
            return claims
        if match := BODY_EVENT_ID_RE.search(body):
            claims["stripe_event_id"] = match.group(1).decode()
        if match := BODY_ORDER_NUMBER_RE.search(body):
            claims["order_number"] = match.group(1).decode()
    return claims


class RequestIdMiddleware:
    """A request id for every request (the proxy's `X-Request-ID` when sane), in every log line
    of that request and in the response's `X-Request-ID` header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if REQUEST_ID_RE.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        with log_context(request_id=request_id, **_request_claims(request)):
            response = self.get_response(request)
        response.headers["X-Request-ID"] = request_id
        return response
