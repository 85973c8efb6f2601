from __future__ import annotations

from datetime import datetime

from orders.models import Order, Status


def order_open_checkout(*, diamond_id) -> Order | None:
    """The diamond's open (`pending_payment`) checkout, if any: at most one exists."""
    return Order.objects.filter(diamond_id=diamond_id, status=Status.PENDING_PAYMENT).first()


def order_for_shopper(*, user, order_number: str) -> Order | None:
    """The shopper's own order by number; None for anyone else's (no enumeration)."""
    if not order_number:
        return None
    return (
        Order.objects.select_related("diamond").filter(user=user, order_number=order_number).first()
    )


def order_by_checkout_session(*, session_id: str) -> Order | None:
    if not session_id:
        return None
    return (
        Order.objects.select_related("diamond", "user")
        .filter(stripe_checkout_session_id=session_id)
        .first()
    )


def checkouts_started_count(*, user, since: datetime) -> int:
    """How many checkouts the shopper started since `since` (the rate limit's count)."""
    return Order.objects.filter(user=user, created_at__gte=since).count()
