"""The `nivoda` feed: Nivoda's GraphQL trade API (`POST {"query", "variables"}` to one endpoint).

- Every HTTP call has a timeout (`NIVODA_TIMEOUT_SECONDS`).
- The login token is cached per process (per endpoint and user) until `TOKEN_REFRESH_AFTER`,
  a few minutes before Nivoda's ~6 hour expiry; one thread logs in while the others wait.
  A call Nivoda rejects for an expired token logs in again and is retried once.
- Everything that goes wrong becomes one `FeedError` worded for ops. An order call whose
  outcome cannot be known (timeout, dropped connection, gateway error, unreadable answer) is
  never retried and raises `FeedError(outcome_unknown=True)`.

Availability mapping (Nivoda → catalog): `AVAILABLE` → available, or on_hold when a `HoldId`
is set; `ON HOLD` / `HOLD` → on_hold; `SOLD` and `MEMO` → unavailable (the catalog's `sold`
means sold by this store); anything else → unavailable. A record without a certificate (or a
certificate number), an image, an offer id, a price or carats cannot be sold: it is skipped and
counted by reason (`Page.skipped_reasons`).

Mapping of the rest: `certificate.labgrown` → `lab_grown` (priced with the lab-grown markup),
`diamond.video` → `video_url`, `floInt` → `fluorescence`, `length`/`width`/`depth` → the
measurements in mm, `depthPercentage` / `table` → `depth_percent` / `table_percent`. The
certificate link is the record's PDF (`certificate.pdfUrl`, when Nivoda sends one) or the lab's
own report check built from lab and number (`catalog.models.certificate_check_url`).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from decimal import Decimal
from time import monotonic

import requests
from django.conf import settings
from urllib3.exceptions import NewConnectionError

from catalog.models import Availability, certificate_check_url
from feeds.base import FeedAdapter, FeedError, Page, Stone, register
from feeds.pricing import prices_from_usd_cents

logger = logging.getLogger(__name__)

PAGE_SIZE_LIMIT = 50
TOKEN_REFRESH_AFTER = 6 * 3600 - 10 * 60  # seconds; Nivoda tokens last about 6 hours

AUTHENTICATE = """
query Authenticate($username: String!, $password: String!) {
  authenticate { username_and_password(username: $username, password: $password) { token } }
}"""

SEARCH = """
query ($token: String!, $query: DiamondQuery!, $offset: Int, $limit: Int, $order: DiamondOrder) {
  as(token: $token) {
    diamonds_by_query(query: $query, offset: $offset, limit: $limit, order: $order) {
      total_count
      items { id price diamond_price
        diamond { id availability HoldId image video
          supplier { id name legal_name }
          certificate { id lab certNumber shape carats color clarity cut polish symmetry
                        floInt floCol length width depth depthPercentage table labgrown } } }
    }
  }
}"""

GET_DIAMOND = """
query ($token: String!, $id: ID!) {
  as(token: $token) {
    get_diamond_by_id(diamond_id: $id) { id price diamond { id availability HoldId } }
  }
}"""

CREATE_HOLD = """
mutation ($token: String!, $productId: ID!) {
  as(token: $token) { create_hold(ProductId: $productId, ProductType: Diamond) { id denied until } }
}"""

CANCEL_HOLD = """
mutation ($token: String!, $holdId: ID!) {
  as(token: $token) { cancel_hold(hold_id: $holdId) { id denied until } }
}"""

CREATE_ORDER = """
mutation ($token: String!, $items: [OrderItemInput!]!) {
  as(token: $token) { create_order(items: $items) }
}"""

_AVAILABILITY = {
    "AVAILABLE": Availability.AVAILABLE,
    "ON HOLD": Availability.ON_HOLD,
    "ON_HOLD": Availability.ON_HOLD,
    "HOLD": Availability.ON_HOLD,
    "SOLD": Availability.UNAVAILABLE,
    "MEMO": Availability.UNAVAILABLE,
}
_TOKEN_REJECTED_HINTS = ("expired", "unauthenticated", "unauthorized", "not authenticated")
_UNKNOWN_OUTCOME_STATUSES = {500, 502, 504}


def availability_from_nivoda(value: str | None, hold_id: str | None = None) -> str:
    mapped = _AVAILABILITY.get((value or "").strip().upper().replace("-", " "))
    if mapped is None:
        logger.warning("Unknown Nivoda availability %r: treated as unavailable", value)
        return Availability.UNAVAILABLE
    if mapped == Availability.AVAILABLE and hold_id:
        return Availability.ON_HOLD
    return mapped


# ---------------------------------------------------------------- token cache


@dataclass
class _Token:
    value: str
    fresh_until: float


_token_lock = threading.Lock()
_tokens: dict[tuple[str, str], _Token] = {}


def token_cache_clear() -> None:
    with _token_lock:
        _tokens.clear()


# ---------------------------------------------------------------- transport


class _TokenRejected(Exception):
    pass


def _excerpt(text: str, size: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[:size] + "…"


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the request certainly did not reach Nivoda (no connection was made)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.ConnectionError) and isinstance(reason, NewConnectionError)


def _graphql_messages(errors) -> str:
    if not isinstance(errors, list):
        return _excerpt(repr(errors))
    return "; ".join(
        str(error.get("message", error)) if isinstance(error, dict) else str(error)
        for error in errors
    )


def _token_rejected(errors) -> bool:
    for error in errors if isinstance(errors, list) else []:
        if not isinstance(error, dict):
            continue
        code = str((error.get("extensions") or {}).get("code", "")).upper()
        message = str(error.get("message", "")).lower()
        if code == "UNAUTHENTICATED" or (
            "token" in message and any(hint in message for hint in _TOKEN_REJECTED_HINTS)
        ):
            return True
    return False


@register
class NivodaFeed(FeedAdapter):
    name = "nivoda"
    supports_holds = True
    max_page_size = PAGE_SIZE_LIMIT

    def __init__(self, *, query: dict | None = None):
        self.query = query or {}
        self.session = requests.Session()

    # ------------------------------------------------------------ configuration

    @property
    def endpoint(self) -> str:
        return settings.NIVODA_ENDPOINT

    @property
    def timeout(self) -> float:
        return float(settings.NIVODA_TIMEOUT_SECONDS)

    def _check_configured(self) -> None:
        missing = [
            name
            for name in ("NIVODA_ENDPOINT", "NIVODA_USERNAME", "NIVODA_PASSWORD")
            if not getattr(settings, name, "")
        ]
        if missing:
            raise FeedError(
                f"The Nivoda feed is not configured: set {', '.join(missing)} in the "
                "environment (see .env.example)."
            )

    # ------------------------------------------------------------ HTTP and GraphQL

    def _post(self, query: str, variables: dict, *, action: str, order: bool = False) -> dict:
        """One GraphQL call; returns `data`. Raises FeedError or _TokenRejected."""
        try:
            response = self.session.post(
                self.endpoint,
                json={"query": query, "variables": variables},
                timeout=self.timeout,
            )
        except requests.Timeout as exc:
            unknown = order and not _never_sent(exc)
            raise FeedError(
                f"Nivoda did not answer {action} within {self.timeout:g} s. "
                + (
                    _UNKNOWN_OUTCOME_ADVICE
                    if unknown
                    else "Try again later; if it keeps happening, check Nivoda's status "
                    "and NIVODA_TIMEOUT_SECONDS."
                ),
                outcome_unknown=unknown,
            ) from exc
        except requests.RequestException as exc:
            unknown = order and not _never_sent(exc)
            raise FeedError(
                f"Could not reach Nivoda at {self.endpoint} for {action}: "
                f"{exc.__class__.__name__}. "
                + (
                    _UNKNOWN_OUTCOME_ADVICE
                    if unknown
                    else "Check NIVODA_ENDPOINT and the network, then try again."
                ),
                outcome_unknown=unknown,
            ) from exc
        if response.status_code == 401:
            raise _TokenRejected(f"HTTP 401: {_excerpt(response.text)}")
        if not 200 <= response.status_code < 300:
            unknown = order and response.status_code in _UNKNOWN_OUTCOME_STATUSES
            raise FeedError(
                f"Nivoda answered HTTP {response.status_code} to {action}: "
                f"{_excerpt(response.text) or '(empty body)'}. "
                + (_UNKNOWN_OUTCOME_ADVICE if unknown else "Nivoda may be down; try again later."),
                outcome_unknown=unknown,
            )
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise FeedError(
                f"Nivoda's answer to {action} was not a GraphQL response (HTTP "
                f"{response.status_code}: {_excerpt(response.text) or '(empty body)'}). "
                + (_UNKNOWN_OUTCOME_ADVICE if order else "Try again later."),
                outcome_unknown=order,
            )
        if body.get("errors"):
            if _token_rejected(body["errors"]):
                raise _TokenRejected(_graphql_messages(body["errors"]))
            raise FeedError(f"Nivoda refused {action}: {_graphql_messages(body['errors'])}.")
        data = body.get("data")
        if not isinstance(data, dict):
            raise FeedError(
                f"Nivoda's answer to {action} had no data: {_excerpt(response.text)}. "
                + (_UNKNOWN_OUTCOME_ADVICE if order else "Try again later."),
                outcome_unknown=order,
            )
        return data

    def _token(self, *, rejected: str | None = None) -> str:
        key = (self.endpoint, settings.NIVODA_USERNAME)
        with _token_lock:
            cached = _tokens.get(key)
            if cached and cached.value != rejected and monotonic() < cached.fresh_until:
                return cached.value
            _tokens.pop(key, None)
            token = self._authenticate()
            _tokens[key] = _Token(token, monotonic() + TOKEN_REFRESH_AFTER)
            return token

    def _authenticate(self) -> str:
        action = f"the login of user {settings.NIVODA_USERNAME!r}"
        try:
            data = self._post(
                AUTHENTICATE,
                {"username": settings.NIVODA_USERNAME, "password": settings.NIVODA_PASSWORD},
                action=action,
            )
        except (FeedError, _TokenRejected) as exc:
            raise FeedError(
                f"{exc} Check NIVODA_USERNAME and NIVODA_PASSWORD if this persists."
            ) from exc
        token = ((data.get("authenticate") or {}).get("username_and_password") or {}).get("token")
        if not token:
            raise FeedError(
                f"Nivoda returned no token for {action}. Check NIVODA_USERNAME and NIVODA_PASSWORD."
            )
        return token

    def _call(self, query: str, variables: dict, *, action: str, order: bool = False):
        """An authenticated call; returns what the `as(token: …)` wrapper holds."""
        self._check_configured()
        token = self._token()
        try:
            data = self._post(query, {**variables, "token": token}, action=action, order=order)
        except _TokenRejected:
            # Rejected before anything happened: log in again and retry once.
            token = self._token(rejected=token)
            try:
                data = self._post(query, {**variables, "token": token}, action=action, order=order)
            except _TokenRejected as exc:
                raise FeedError(
                    f"Nivoda rejected a fresh login token for {action}: {exc}. Check the API "
                    "user's access with Nivoda."
                ) from exc
        wrapped = data.get("as")
        if not isinstance(wrapped, dict):
            raise FeedError(
                f"Nivoda's answer to {action} was not in the expected shape (no 'as' object). "
                + (_UNKNOWN_OUTCOME_ADVICE if order else "Try again later."),
                outcome_unknown=order,
            )
        return wrapped

    # ------------------------------------------------------------ the adapter

    def search(self, *, offset: int, limit: int) -> Page:
        limit = max(1, min(limit, PAGE_SIZE_LIMIT))
        action = f"the diamond search (offset {offset}, limit {limit})"
        found = self._call(
            SEARCH,
            {"query": self.query, "offset": offset, "limit": limit},
            action=action,
        ).get("diamonds_by_query")
        if not isinstance(found, dict) or not isinstance(found.get("items"), list):
            raise FeedError(f"Nivoda's answer to {action} had no items list. Try again later.")
        stones, reasons = [], {}
        for item in found["items"]:
            stone, reason = _map_item(item)
            if stone is None:
                reasons[reason] = reasons.get(reason, 0) + 1
            else:
                stones.append(stone)
        try:
            total_count = int(found.get("total_count") or 0)
        except (TypeError, ValueError):
            total_count = 0
        return Page(
            stones=stones,
            total_count=total_count,
            skipped=sum(reasons.values()),
            skipped_reasons=reasons,
        )

    def check_availability(self, diamond) -> str:
        found = self._call(
            GET_DIAMOND,
            {"id": diamond.supplier_stone_id},
            action=f"the availability check of stone {diamond.supplier_stone_id}",
        ).get("get_diamond_by_id")
        if not found:
            return Availability.UNAVAILABLE
        detail = found.get("diamond") or {}
        return availability_from_nivoda(detail.get("availability"), detail.get("HoldId"))

    def create_hold(self, diamond) -> str:
        action = f"a hold on stone {diamond.supplier_stone_id}"
        hold = self._call(CREATE_HOLD, {"productId": diamond.supplier_stone_id}, action=action).get(
            "create_hold"
        )
        if not isinstance(hold, dict) or not hold.get("id"):
            raise FeedError(f"Nivoda returned no hold id for {action}. Try again later.")
        if hold.get("denied"):
            raise FeedError(
                f"Nivoda denied {action} (hold {hold['id']}): the stone is probably held or "
                "sold elsewhere."
            )
        return str(hold["id"])

    def cancel_hold(self, hold_id: str) -> None:
        action = f"the cancellation of hold {hold_id}"
        hold = self._call(CANCEL_HOLD, {"holdId": hold_id}, action=action).get("cancel_hold")
        if not isinstance(hold, dict):
            raise FeedError(f"Nivoda did not confirm {action}. Check the hold in Nivoda.")

    def create_order(self, diamond, *, reference: str, comments: str = "") -> str:
        action = (
            f"order {reference} for offer {diamond.offer_id or '(none)'} "
            f"(stone {diamond.supplier_stone_id})"
        )
        if not settings.NIVODA_DESTINATION_ID:
            raise FeedError(
                f"Could not place {action}: NIVODA_DESTINATION_ID is not set. Set it to the "
                "delivery destination id Nivoda gave the store, then retry the feed order."
            )
        if not diamond.offer_id:
            raise FeedError(
                f"Could not place {action}: the diamond has no Nivoda offer id. Re-import the "
                "feed, then retry the feed order."
            )
        item = {
            "offerId": diamond.offer_id,
            "destinationId": settings.NIVODA_DESTINATION_ID,
            "customer_comment": comments,
            "customer_order_number": reference,
            "return_option": False,
        }
        order_id = self._call(CREATE_ORDER, {"items": [item]}, action=action, order=True).get(
            "create_order"
        )
        if not order_id:
            raise FeedError(
                f"Nivoda answered {action} without an order id. " + _UNKNOWN_OUTCOME_ADVICE,
                outcome_unknown=True,
            )
        return str(order_id)


_UNKNOWN_OUTCOME_ADVICE = (
    "The outcome is UNKNOWN: the order may have been placed. Look it up in Nivoda by our order "
    "number before retrying; a blind retry could buy the stone twice."
)


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _measure(value) -> Decimal | None:
    """A measurement or percentage as a Decimal; None when missing, zero or unreadable."""
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).strip())
    except ArithmeticError:
        return None
    return number if number.is_finite() and 0 < number < 1000 else None


def _flag(value) -> bool:
    """Nivoda's `labgrown`: a boolean, sometimes sent as a string."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1", "y")
    return bool(value)


def _fluorescence(value) -> str:
    """`floInt` as the catalog shows it: `NONE` → `None`, `MEDIUM` → `Medium`."""
    return _text(value).replace("_", " ").title()


SKIP_NO_CERTIFICATE = "without a certificate"
SKIP_NO_IMAGE = "without an image"
SKIP_NO_OFFER = "without an offer or stone id"
SKIP_BAD_PRICE_OR_CARATS = "without a usable price or carat weight"


def skip_reason(item) -> str | None:
    """Why a Nivoda search item cannot be sold, or None when it can be mapped."""
    if not isinstance(item, dict):
        return SKIP_NO_OFFER
    diamond = item.get("diamond") or {}
    certificate = diamond.get("certificate") or {}
    if not (item.get("id") and diamond.get("id")):
        return SKIP_NO_OFFER
    if not certificate or not _text(certificate.get("certNumber")):
        return SKIP_NO_CERTIFICATE
    if not _text(diamond.get("image")):
        return SKIP_NO_IMAGE
    return None


def _map_item(item) -> tuple[Stone | None, str | None]:
    reason = skip_reason(item)
    if reason:
        return None, reason
    diamond = item["diamond"]
    certificate = diamond["certificate"]
    lab_grown = _flag(certificate.get("labgrown"))
    try:
        carats = Decimal(str(certificate.get("carats")))
        price_nzd, price_model_nzd = prices_from_usd_cents(item["price"], lab_grown=lab_grown)
        if not (carats.is_finite() and carats > 0 and price_nzd.is_finite() and price_nzd >= 0):
            return None, SKIP_BAD_PRICE_OR_CARATS
    except (ArithmeticError, KeyError, TypeError, ValueError):
        return None, SKIP_BAD_PRICE_OR_CARATS
    lab = _text(certificate.get("lab")).upper()
    number = _text(certificate.get("certNumber"))
    stone = Stone(
        supplier_stone_id=_text(diamond["id"]),
        offer_id=_text(item["id"]),
        shape=_text(certificate.get("shape")).upper(),
        carats=carats,
        color=_text(certificate.get("color")),
        clarity=_text(certificate.get("clarity")),
        cut=_text(certificate.get("cut")),
        polish=_text(certificate.get("polish")),
        symmetry=_text(certificate.get("symmetry")),
        lab=lab,
        certificate_number=number,
        image_url=_text(diamond.get("image")),
        price_nzd=price_nzd,
        price_model_nzd=price_model_nzd,
        availability=availability_from_nivoda(diamond.get("availability"), diamond.get("HoldId")),
        lab_grown=lab_grown,
        video_url=_text(diamond.get("video")),
        certificate_url=_text(certificate.get("pdfUrl"))
        or certificate_check_url(lab=lab, number=number),
        fluorescence=_fluorescence(certificate.get("floInt")),
        length_mm=_measure(certificate.get("length")),
        width_mm=_measure(certificate.get("width")),
        depth_mm=_measure(certificate.get("depth")),
        depth_percent=_measure(certificate.get("depthPercentage")),
        table_percent=_measure(certificate.get("table")),
    )
    return stone, None
