"""A local Stripe API that refuses what Stripe refuses, and real webhook signing.

The `stripe` SDK builds, sends and parses real requests against it (`STRIPE_API_BASE`):
Checkout Sessions (create, retrieve with `expand`, expire, list by PaymentIntent),
PaymentIntents (retrieve, capture, cancel), Refunds (create, by PaymentIntent or charge) and
Charges (retrieve). Every request is checked against the SDK's own typed params for that
method (`stripe_params`), Stripe's limits (`expires_at`, metadata) and its idempotency rules;
every answer is built by `gateway.stripe_objects`, Stripe's objects for the SDK's pinned API
version. Tests drive what the shopper, the bank and the card issuer do (`complete`, `settle`,
`expire`, `refund_from_dashboard`, `dispute`, `early_fraud_warning`) and sign events exactly as
Stripe does (`Stripe-Signature: t=…,v1=HMAC-SHA256(secret, "t.payload")`).

Where Stripe would accept a request the double cannot answer faithfully, it answers 501: a
test never passes on a guess.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
import typing
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
import stripe
from stripe.params import (
    ChargeRetrieveParams,
    PaymentIntentCancelParams,
    PaymentIntentCaptureParams,
    PaymentIntentRetrieveParams,
    RefundCreateParams,
    RefundListParams,
    RefundRetrieveParams,
)
from stripe.params.checkout import (
    SessionCreateParams,
    SessionExpireParams,
    SessionListParams,
    SessionRetrieveParams,
)

from gateway import stripe_objects as so
from tests.doubles.stripe_params import Refusal, check, parse_form
from tests.doubles.stripe_shapes import CLASSES

_ids = itertools.count(1)

# Stripe Checkout's limits on `expires_at`, from the Checkout Session's creation.
EXPIRES_AT_MIN = 30 * 60
EXPIRES_AT_MAX = 24 * 60 * 60
# What Checkout collects when the session asked for it and the test names nothing.
TEST_SHIPPING = {
    "name": "Aroha Smith",
    "address": {
        "line1": "12 Queen Street",
        "line2": None,
        "city": "Auckland",
        "state": None,
        "postal_code": "1010",
        "country": "NZ",
    },
}
TEST_PHONE = "+64215550100"
TEST_EMAIL = "shopper@example.com"


def new_id(prefix: str) -> str:
    return f"{prefix}_test_{next(_ids):06d}{int(time.time() * 1000) % 100000:05d}"


def now() -> int:
    return int(time.time())


@dataclass
class _Checkout:
    """What the create call said about the PaymentIntent Checkout will make."""

    capture_method: str
    metadata: dict
    email: str | None


@dataclass
class _Answer:
    status: int
    body: dict
    headers: dict = field(default_factory=dict)


class StripeDouble:
    def __init__(self):
        self.sessions: dict[str, dict] = {}
        self.intents: dict[str, dict] = {}
        self.charges: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.disputes: dict[str, dict] = {}
        self._checkouts: dict[str, _Checkout] = {}
        # Answer the next Checkout Session without a `url` (an answer Stripe should not give).
        self.omit_next_session_url = False
        self.requests: list[dict] = []
        self._delays: list[dict] = []
        self._failures: list[dict] = []
        self._idempotent: dict[str, tuple[str, str, dict, _Answer]] = {}
        self._lock = threading.RLock()
        # Seconds Stripe's clock is ahead of this machine's (`fail(..., elapsed=…)`).
        self.clock = 0.0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # ------------------------------------------------------------------ running it

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def now(self) -> int:
        """Stripe's clock."""
        return int(time.time() + self.clock)

    def fail(
        self, method: str, path_prefix: str, *, status=500, times=1, message=None, elapsed=0.0
    ):
        """Answer the next `times` matching requests with a Stripe error before Stripe's
        idempotency layer sees them (as a request lost on the way): a retry with the same
        key is a new request. `elapsed`: the seconds each such attempt took (Stripe's clock
        moves on by them), as when a client waited out its whole timeout."""
        self._failures.append(
            {
                "method": method,
                "prefix": path_prefix,
                "status": status,
                "times": times,
                "message": message or "The Stripe test double was told to fail.",
                "elapsed": elapsed,
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

    # ------------------------------------------------------------------ what the shopper does

    def open_session(
        self,
        *,
        session_id: str,
        amount_total: int,
        currency: str = "nzd",
        metadata: dict | None = None,
        client_reference_id: str | None = None,
        customer_email: str | None = None,
        capture_method: str = "automatic",
    ) -> dict:
        """A Checkout Session Stripe holds for an order a test made without a create call."""
        with self._lock:
            created = self.now()
            self.sessions[session_id] = so.checkout_session(
                id=session_id,
                created=created,
                expires_at=created + EXPIRES_AT_MAX,
                amount_total=amount_total,
                currency=currency,
                success_url="https://shop.example.com/checkout/success/",
                url=f"https://checkout.stripe.com/c/pay/{session_id}",
                metadata=metadata,
                client_reference_id=client_reference_id,
                customer_email=customer_email,
            )
            self._checkouts[session_id] = _Checkout(
                capture_method, dict(metadata or {}), customer_email
            )
            return dict(self.sessions[session_id])

    def complete(
        self,
        session_id: str,
        *,
        payment_status="paid",
        amount_total=None,
        currency=None,
        shipping=None,
        phone=None,
    ) -> dict:
        """The shopper pays at Checkout; returns the session as the webhook carries it.

        By card (`payment_status="paid"`): with manual capture the card is authorised (the
        session stays `unpaid`, its PaymentIntent `requires_capture`), otherwise charged
        (`paid`, `succeeded`). A delayed method (`payment_status="unpaid"`, automatic
        capture): New Zealand direct debit, `processing` until `settle`. `shipping`
        (`{"name", "address"}`) and `phone` default to a test address and number when the
        session asked for them; `amount_total`/`currency` make Stripe report other figures
        than the order's (a mismatch test).
        """
        with self._lock:
            session = self.sessions[session_id]
            if session["status"] != "open":
                raise ValueError(f"{session_id} is {session['status']}, not open")
            checkout = self._checkouts[session_id]
            if amount_total is not None or currency is not None:
                total = session["amount_total"] if amount_total is None else amount_total
                session = {
                    **session,
                    "amount_subtotal": total,
                    "amount_total": total,
                    "currency": currency or session["currency"],
                }
            manual = checkout.capture_method == "manual"
            delayed = payment_status == "unpaid" and not manual
            if shipping is None and session["shipping_address_collection"]:
                shipping = TEST_SHIPPING
            if phone is None and session["phone_number_collection"]["enabled"]:
                phone = TEST_PHONE
            details = shipping and so.shipping_details(
                name=shipping["name"], address=so.address(**shipping["address"])
            )
            copied = details and so.shipping(name=details["name"], address=details["address"])
            created = self.now()
            method = "nz_bank_account" if delayed else "card"
            intent = so.payment_intent(
                id=new_id("pi"),
                amount=session["amount_total"],
                currency=session["currency"],
                created=created,
                capture_method=checkout.capture_method,
                metadata=checkout.metadata,
                shipping=copied,
                payment_method_types=(method,),
            )
            charge = so.charge(
                id=new_id("ch"),
                amount=intent["amount"],
                currency=intent["currency"],
                created=created,
                payment_intent=intent["id"],
                captured=not manual,
                status="pending" if delayed else "succeeded",
                payment_method_type=method,
                billing_name=details and details["name"],
                billing_email=checkout.email or TEST_EMAIL,
                billing_address=details and details["address"],
                shipping=copied,
            )
            self.charges[charge["id"]] = charge
            self.intents[intent["id"]] = so.payment_intent_paid(intent, charge=charge)
            self.sessions[session_id] = so.checkout_session_completed(
                session,
                payment_intent=intent["id"],
                payment_status="paid" if not (manual or delayed) else "unpaid",
                email=checkout.email or TEST_EMAIL,
                phone=phone,
                shipping_details=details,
            )
            return dict(self.sessions[session_id])

    def settle(self, session_id: str, *, succeeded=True) -> dict:
        """A delayed payment settles (or fails); returns the session."""
        with self._lock:
            intent = self._intent_of(session_id)
            charge = self.charges[intent["latest_charge"]]
            if charge["status"] != "pending":
                raise ValueError(f"{session_id}: no delayed payment to settle")
            charge = self.charges[charge["id"]] = so.charge_settled(charge, succeeded=succeeded)
            self.intents[intent["id"]] = (
                so.payment_intent_paid(intent, charge=charge)
                if succeeded
                else so.payment_intent_failed(intent, charge=charge)
            )
            self.sessions[session_id] = so.checkout_session_settled(
                self.sessions[session_id], succeeded=succeeded
            )
            return dict(self.sessions[session_id])

    def expire(self, session_id: str) -> dict:
        """The session lapsed unpaid (or `expire` was called at Stripe)."""
        with self._lock:
            session = self.sessions[session_id]
            if session["status"] != "open":
                raise ValueError(f"{session_id} is {session['status']}, not open")
            self.sessions[session_id] = so.checkout_session_expired(session)
            return dict(self.sessions[session_id])

    def intent_for(self, session_id: str) -> dict:
        return dict(self._intent_of(session_id))

    def charge_for(self, session_id: str) -> dict:
        return dict(self.charges[self._intent_of(session_id)["latest_charge"]])

    def _intent_of(self, session_id: str) -> dict:
        return self.intents[self.sessions[session_id]["payment_intent"]]

    # ------------------------------------------------------------------ Dashboard, bank, issuer

    def refund_from_dashboard(self, session_id: str, *, amount: int | None = None) -> dict:
        """Someone refunds in the Stripe Dashboard (`amount`, or all that is left): returns
        the charge as `charge.refunded` carries it."""
        with self._lock:
            charge = self.charge_for(session_id)
            self._refund(charge, amount=amount, reason="requested_by_customer", metadata={})
            return dict(self.charges[charge["id"]])

    def refunds_of(self, session_id: str) -> list[dict]:
        """The session's refunds, newest first (as `refund.created` and `GET /v1/refunds`
        carry them)."""
        charge_id = self.charge_for(session_id)["id"]
        return [dict(r) for r in reversed(self.refunds.values()) if r["charge"] == charge_id]

    def refund_fails(self, refund_id: str, *, reason: str = "expired_or_canceled_card") -> dict:
        """The bank cannot return a refund's money: the refund as `refund.failed` carries it."""
        with self._lock:
            refund = so.refund_failed(self.refunds[refund_id], failure_reason=reason)
            self.refunds[refund_id] = refund
            charge = self.charges[refund["charge"]]
            self.charges[charge["id"]] = so.charge_refund_failed(charge, refund=refund)
            return dict(refund)

    def dispute(
        self,
        session_id: str,
        *,
        with_payment_intent: bool = True,
        status: str = "needs_response",
        reason: str = "fraudulent",
    ) -> dict:
        """The cardholder disputes the charge. `with_payment_intent=False`: the dispute as
        Stripe publishes it for a charge without one (`payment_intent` null)."""
        with self._lock:
            charge = self.charges[self._intent_of(session_id)["latest_charge"]] = (
                so.charge_disputed(self.charge_for(session_id))
            )
            created = self.now()
            dispute = so.dispute(
                id=new_id("dp"),
                charge=charge["id"],
                payment_intent=charge["payment_intent"] if with_payment_intent else None,
                amount=charge["amount"],
                currency=charge["currency"],
                created=created,
                evidence_due_by=created + 7 * 86400,
                status=status,
                reason=reason,
            )
            self.disputes[dispute["id"]] = dispute
            return dict(dispute)

    def dispute_update(self, dispute_id: str, *, status: str) -> tuple[dict, dict]:
        """The dispute moves on: returns it and its `previous_attributes`."""
        with self._lock:
            dispute, previous = so.dispute_updated(self.disputes[dispute_id], status=status)
            self.disputes[dispute_id] = dispute
            return dict(dispute), previous

    def early_fraud_warning(
        self,
        session_id: str,
        *,
        with_payment_intent: bool = True,
        fraud_type: str = "made_with_stolen_card",
    ) -> dict:
        """The card issuer reports the charge as possibly fraudulent."""
        charge = self.charge_for(session_id)
        return so.early_fraud_warning(
            id=new_id("issfr"),
            charge=charge["id"],
            payment_intent=charge["payment_intent"] if with_payment_intent else None,
            created=self.now(),
            fraud_type=fraud_type,
        )

    # ------------------------------------------------------------------ the API

    def _create_session(self, params: dict, request: dict) -> _Answer:
        if params.get("mode") != "payment":
            raise _NotImplementedError(f"Checkout Sessions in mode {params.get('mode')!r}")
        items = params.get("line_items") or []
        if not items or any("price_data" not in item for item in items):
            raise _NotImplementedError("Checkout Sessions without line_items[][price_data]")
        created = self.now()
        expires_at = int(params.get("expires_at", created + EXPIRES_AT_MAX))
        if expires_at - created < EXPIRES_AT_MIN:
            raise Refusal(
                "The `expires_at` timestamp must be at least 30 minutes from Checkout "
                "Session creation.",
                param="expires_at",
            )
        if expires_at - created > EXPIRES_AT_MAX:
            raise Refusal(
                "The `expires_at` timestamp must be less than 24 hours from Checkout "
                "Session creation.",
                param="expires_at",
            )
        session_id = new_id("cs")
        intent_data = params.get("payment_intent_data", {})
        collection = params.get("shipping_address_collection") or {}
        session = so.checkout_session(
            id=session_id,
            created=created,
            expires_at=expires_at,
            amount_total=sum(
                int(item["price_data"]["unit_amount"]) * int(item.get("quantity", 1))
                for item in items
            ),
            currency=items[0]["price_data"]["currency"],
            success_url=params.get("success_url"),
            cancel_url=params.get("cancel_url"),
            url=f"https://checkout.stripe.com/c/pay/{session_id}",
            metadata=params.get("metadata"),
            client_reference_id=params.get("client_reference_id"),
            customer_email=params.get("customer_email"),
            allowed_countries=collection.get("allowed_countries"),
            phone_number_collection=params.get("phone_number_collection", {}).get("enabled")
            == "true",
        )
        if self.omit_next_session_url:
            self.omit_next_session_url = False
            session["url"] = None
        self.sessions[session_id] = session
        self._checkouts[session_id] = _Checkout(
            intent_data.get("capture_method", "automatic"),
            dict(intent_data.get("metadata", {})),
            params.get("customer_email"),
        )
        return _Answer(200, session)

    def _list_sessions(self, params: dict, request: dict) -> _Answer:
        sessions = sorted(self.sessions.values(), key=lambda s: s["created"], reverse=True)
        if "payment_intent" in params:
            sessions = [s for s in sessions if s["payment_intent"] == params["payment_intent"]]
        if "status" in params:
            sessions = [s for s in sessions if s["status"] == params["status"]]
        limit = int(params.get("limit", 10))
        if not 1 <= limit <= 100:
            raise Refusal("Invalid limit: must be between 1 and 100.", param="limit")
        expand = params.get("expand", [])
        for path in expand:
            if not path.startswith("data."):
                raise Refusal(f"This property cannot be expanded ({path}).", param="expand")
        below = [path.removeprefix("data.") for path in expand]
        data = [self._expanded(s, below) for s in sessions[:limit]]
        return _Answer(
            200,
            so.list_object(url="/v1/checkout/sessions", data=data, has_more=len(sessions) > limit),
        )

    def _list_refunds(self, params: dict, request: dict) -> _Answer:
        """Newest first, by `charge` or `payment_intent`, a page at a time."""
        refunds = list(reversed(self.refunds.values()))
        for param, store, kind in (
            ("charge", self.charges, "charge"),
            ("payment_intent", self.intents, "payment_intent"),
        ):
            if param in params:
                self._find(store, params[param], param, kind)
                refunds = [r for r in refunds if r[param] == params[param]]
        if "starting_after" in params:
            after = self._find(self.refunds, params["starting_after"], "starting_after", "refund")
            ids = [r["id"] for r in refunds]
            refunds = refunds[ids.index(after["id"]) + 1 :] if after["id"] in ids else []
        limit = int(params.get("limit", 10))
        if not 1 <= limit <= 100:
            raise Refusal("Invalid limit: must be between 1 and 100.", param="limit")
        data = [dict(r) for r in refunds[:limit]]
        return _Answer(
            200, so.list_object(url="/v1/refunds", data=data, has_more=len(refunds) > limit)
        )

    def _retrieve(self, store: dict, param: str, kind: str):
        def answer(params: dict, request: dict) -> _Answer:
            obj = self._find(store, request["id"], param, kind)
            return _Answer(200, self._expanded(obj, params.get("expand", [])))

        return answer

    def _expire_session(self, params: dict, request: dict) -> _Answer:
        session = self._find(self.sessions, request["id"], "session", "checkout.session")
        if session["status"] != "open":
            raise Refusal(
                'Only Checkout Sessions with a status in ["open"] can be expired. This '
                f"Checkout Session has a status of `{session['status']}`."
            )
        self.sessions[session["id"]] = so.checkout_session_expired(session)
        return _Answer(200, self._expanded(self.sessions[session["id"]], params.get("expand", [])))

    def _capture(self, params: dict, request: dict) -> _Answer:
        intent = self._find(self.intents, request["id"], "intent", "payment_intent")
        if intent["status"] != "requires_capture":
            raise Refusal(
                "This PaymentIntent could not be captured because it has a status of "
                f"{intent['status']}. Only a PaymentIntent with one of the following statuses "
                "may be captured: requires_capture.",
                code="payment_intent_unexpected_state",
            )
        amount = int(params.get("amount_to_capture", intent["amount_capturable"]))
        if amount != intent["amount_capturable"]:
            raise _NotImplementedError("partial captures")
        self.intents[intent["id"]] = so.payment_intent_captured(intent)
        charge = self.charges[intent["latest_charge"]]
        self.charges[charge["id"]] = so.charge_captured(charge)
        return _Answer(200, self._expanded(self.intents[intent["id"]], params.get("expand", [])))

    def _cancel(self, params: dict, request: dict) -> _Answer:
        """A Checkout Session's PaymentIntent can be cancelled only while it holds the money;
        the authorisation is released by refunding the uncaptured charge
        (docs.stripe.com/api/payment_intents/cancel)."""
        intent = self._find(self.intents, request["id"], "intent", "payment_intent")
        if intent["status"] != "requires_capture":
            raise Refusal(
                "You cannot cancel this PaymentIntent because it has a status of "
                f"{intent['status']}. Only a PaymentIntent with one of the following statuses "
                "may be canceled: requires_capture.",
                code="payment_intent_unexpected_state",
            )
        charge = self.charges[intent["latest_charge"]]
        self._refund(charge, amount=charge["amount"], reason=None, metadata={})
        self.intents[intent["id"]] = so.payment_intent_canceled(
            intent, canceled_at=self.now(), reason=params.get("cancellation_reason")
        )
        return _Answer(200, self._expanded(self.intents[intent["id"]], params.get("expand", [])))

    def _create_refund(self, params: dict, request: dict) -> _Answer:
        if "charge" in params:
            charge = self._find(self.charges, params["charge"], "charge", "charge")
            if params.get("payment_intent", charge["payment_intent"]) != charge["payment_intent"]:
                raise Refusal(
                    f"The charge {charge['id']} does not belong to the PaymentIntent "
                    f"{params['payment_intent']}.",
                    param="payment_intent",
                )
        elif "payment_intent" in params:
            intent = self._find(
                self.intents, params["payment_intent"], "payment_intent", "payment_intent"
            )
            charge = self.charges.get(intent["latest_charge"] or "")
            if charge is None or not charge["captured"]:
                raise Refusal(
                    f"This PaymentIntent ({intent['id']}) does not have a successful charge "
                    "to refund.",
                    param="payment_intent",
                )
        else:
            raise Refusal(
                "One of the following params should be provided for this request: "
                "payment_intent or charge.",
                code="parameter_missing",
            )
        amount = int(params["amount"]) if "amount" in params else None
        refund = self._refund(
            charge, amount=amount, reason=params.get("reason"), metadata=params.get("metadata")
        )
        return _Answer(200, self._expanded(refund, params.get("expand", [])))

    def _refund(self, charge: dict, *, amount, reason, metadata) -> dict:
        left = (charge["amount_captured"] or charge["amount"]) - charge["amount_refunded"]
        if left <= 0:
            raise Refusal(
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = left if amount is None else amount
        if amount <= 0:
            raise Refusal("Invalid positive integer", param="amount")
        if amount > left:
            raise Refusal(
                f"Refund amount (${amount / 100:,.2f}) is greater than unrefunded amount on "
                f"charge (${left / 100:,.2f})",
                param="amount",
                code="amount_too_large",
            )
        refund = so.refund(
            id=new_id("re"),
            charge=charge,
            amount=amount,
            created=self.now(),
            reason=reason,
            metadata=metadata,
        )
        self.refunds[refund["id"]] = refund
        self.charges[charge["id"]] = so.charge_refunded(charge, refund=refund)
        return refund

    def _find(self, store: dict, object_id: str, param: str, kind: str) -> dict:
        if object_id not in store:
            raise Refusal(
                f"No such {kind}: '{object_id}'",
                param=param,
                code="resource_missing",
                status=404,
            )
        return store[object_id]

    def _expanded(self, obj: dict, paths: list[str]) -> dict:
        """`expand[]`: each path's id replaced by its object, as deep as the path goes; a
        field Stripe cannot expand is refused as Stripe refuses it."""
        obj = dict(obj)
        for path in paths:
            head, _, rest = path.partition(".")
            cls = CLASSES[obj["object"]]
            if not _expandable(cls, head):
                raise Refusal(f"This property cannot be expanded ({path}).", param="expand")
            value = obj.get(head)
            if isinstance(value, str):
                stores = {"pi": self.intents, "ch": self.charges, "re": self.refunds}
                store = stores.get(value.split("_", 1)[0])
                if store is None or value not in store:
                    raise _NotImplementedError(f"expanding {head} ({value})")
                value = store[value]
            if isinstance(value, dict):
                obj[head] = self._expanded(value, [rest] if rest else [])
        return obj

    ROUTES: typing.ClassVar = [
        ("POST", r"/v1/checkout/sessions", "_create_session", SessionCreateParams),
        ("GET", r"/v1/checkout/sessions", "_list_sessions", SessionListParams),
        ("GET", r"/v1/checkout/sessions/(?P<id>[^/]+)", "session", SessionRetrieveParams),
        (
            "POST",
            r"/v1/checkout/sessions/(?P<id>[^/]+)/expire",
            "_expire_session",
            SessionExpireParams,
        ),
        ("GET", r"/v1/payment_intents/(?P<id>[^/]+)", "intent", PaymentIntentRetrieveParams),
        (
            "POST",
            r"/v1/payment_intents/(?P<id>[^/]+)/capture",
            "_capture",
            PaymentIntentCaptureParams,
        ),
        ("POST", r"/v1/payment_intents/(?P<id>[^/]+)/cancel", "_cancel", PaymentIntentCancelParams),
        ("POST", r"/v1/refunds", "_create_refund", RefundCreateParams),
        ("GET", r"/v1/refunds", "_list_refunds", RefundListParams),
        ("GET", r"/v1/refunds/(?P<id>[^/]+)", "refund", RefundRetrieveParams),
        ("GET", r"/v1/charges/(?P<id>[^/]+)", "charge", ChargeRetrieveParams),
    ]

    def _endpoint(self, name: str):
        retrieves = {
            "session": (self.sessions, "session", "checkout.session"),
            "intent": (self.intents, "intent", "payment_intent"),
            "charge": (self.charges, "charge", "charge"),
            "refund": (self.refunds, "refund", "refund"),
        }
        if name in retrieves:
            return self._retrieve(*retrieves[name])
        return getattr(self, name)

    def _handle(self, method: str, path: str, headers: dict, body: str) -> _Answer:
        request_id = new_id("req")
        params = parse_form(body)
        with self._lock:
            self.requests.append(
                {
                    "method": method,
                    "path": path,
                    "params": params,
                    "headers": headers,
                    "at": self.now(),
                }
            )
            answer = self._answer(method, path, headers, params, request_id)
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
        answer.headers.setdefault("Request-Id", request_id)
        return answer

    def _answer(self, method, path, headers, params, request_id) -> _Answer:
        for failure in self._failures:
            if (
                failure["times"]
                and method == failure["method"]
                and path.startswith(failure["prefix"])
            ):
                failure["times"] -= 1
                self.clock += failure["elapsed"]
                return _error(
                    Refusal(failure["message"], status=failure["status"], kind="api_error"),
                    request_id,
                )
        if not re.fullmatch(r"Bearer (sk|rk)_test_\w+", headers.get("authorization", "")):
            return _error(
                Refusal(
                    "You did not provide an API key. You need to provide your API key in the "
                    "Authorization header, using Bearer auth.",
                    status=401,
                ),
                request_id,
            )
        route = next(
            (
                (name, typed, match)
                for verb, pattern, name, typed in self.ROUTES
                if verb == method and (match := re.fullmatch(pattern, path))
            ),
            None,
        )
        if route is None:
            return _error(
                Refusal(
                    f"Unrecognized request URL ({method}: {path}). Please see "
                    "https://stripe.com/docs or we can help at https://support.stripe.com/.",
                    status=404,
                ),
                request_id,
            )
        name, typed, match = route
        key = headers.get("idempotency-key") if method == "POST" else None
        try:
            check(params, typed)
            if key in self._idempotent:
                return self._replay(key, method, path, params)
            answer = self._endpoint(name)(params, {"id": match.groupdict().get("id")})
        except Refusal as refusal:
            # Nothing is saved for a refused request: its retry is checked afresh.
            return _error(refusal, request_id)
        except _NotImplementedError as gap:
            return _not_implemented(str(gap))
        if key:
            answer.headers["Idempotency-Key"] = key
            self._idempotent[key] = (method, path, params, answer)
        return answer

    def _replay(self, key: str, method: str, path: str, params: dict) -> _Answer:
        """An idempotency key replays only the very request it was first used with
        (docs.stripe.com/api/idempotent_requests)."""
        first_method, first_path, first_params, answer = self._idempotent[key]
        if (first_method, first_path) != (method, path):
            raise Refusal(
                "Keys for idempotent requests can only be used for the same endpoint they were "
                f"first used for ('{first_method} {first_path}' vs '{method} {path}'). Try "
                f"using a key other than '{key}' if you meant to execute a different request.",
                kind="idempotency_error",
            )
        if first_params != params:
            raise Refusal(
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.",
                kind="idempotency_error",
            )
        return _Answer(
            answer.status, answer.body, {**answer.headers, "Idempotent-Replayed": "true"}
        )

    def _handler(self):
        double = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                url = urlsplit(self.path)
                if method == "GET":
                    body = url.query
                headers = {k.lower(): v for k, v in self.headers.items()}
                answer = double._handle(method, url.path, headers, body)
                data = json.dumps(answer.body).encode()
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Stripe-Version", stripe.api_version)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._answer("GET")

            def do_POST(self):
                self._answer("POST")

            def do_DELETE(self):
                self._answer("DELETE")

            def log_message(self, *args):
                pass

        return Handler


class _NotImplementedError(Exception):
    pass


def _expandable(cls, name: str) -> bool:
    """Whether the SDK declares the field as an id or the object it names (Stripe's
    `ExpandableField`): only those can be expanded."""
    hint = cls.__annotations__.get(name)
    args = typing.get_args(hint)
    return str in args and any(isinstance(arg, typing.ForwardRef) for arg in args)


def _error(refusal: Refusal, request_id: str) -> _Answer:
    """Stripe's error object: null fields left out, as Stripe leaves them out."""
    error = {
        "code": refusal.code,
        "doc_url": refusal.code
        and f"https://stripe.com/docs/error-codes/{refusal.code.replace('_', '-')}",
        "message": refusal.message,
        "param": refusal.param,
        "request_log_url": f"https://dashboard.stripe.com/test/logs/{request_id}",
        "type": refusal.kind,
    }
    return _Answer(refusal.status, {"error": {k: v for k, v in error.items() if v is not None}})


def _not_implemented(what: str) -> _Answer:
    return _Answer(
        501,
        {"error": {"type": "api_error", "message": f"The Stripe test double does not do {what}."}},
    )


# ---------------------------------------------------------------------- events and signing


def stripe_event(
    event_type: str,
    obj: dict,
    *,
    event_id: str | None = None,
    previous_attributes: dict | None = None,
    request_id: str | None = None,
    idempotency_key: str | None = None,
) -> dict:
    """The event Stripe sends about `obj` now (`gateway.stripe_objects.event`). An `*.updated`
    event always says what changed: nothing named, it says nothing did."""
    if event_type.endswith(".updated") and previous_attributes is None:
        previous_attributes = {}
    return so.event(
        id=event_id or new_id("evt"),
        type=event_type,
        object=obj,
        created=now(),
        previous_attributes=previous_attributes,
        request_id=request_id,
        idempotency_key=idempotency_key,
    )


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
