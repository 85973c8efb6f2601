from __future__ import annotations

from datetime import datetime

from orders.models import Order, Status
from payments.event_parsing import text_is_storable


def _lookup_key_ok(value, max_length: int) -> bool:
    """A key from a URL that can name a row: text, not too long, no NUL or lone surrogate
    (PostgreSQL refuses those in a query, which would be a 500 instead of a 404)."""
    return isinstance(value, str) and 0 < len(value) <= max_length and text_is_storable(value)


def order_open_checkout(*, diamond_id) -> Order | None:
    """The diamond's open (`pending_payment`) checkout, if any: at most one exists."""
    return Order.objects.filter(diamond_id=diamond_id, status=Status.PENDING_PAYMENT).first()


def order_by_checkout_session(*, session_id: str) -> Order | None:
    if not _lookup_key_ok(
        session_id, Order._meta.get_field("stripe_checkout_session_id").max_length
    ):
        return None
    return (
        Order.objects.select_related("diamond", "user")
        .filter(stripe_checkout_session_id=session_id)
        .first()
    )


def checkouts_started_count(*, user, since: datetime) -> int:
    """How many checkouts the shopper started since `since` (the rate limit's count)."""
    return Order.objects.filter(user=user, created_at__gte=since).count()
