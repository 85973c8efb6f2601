"""Applying the state table (`orders.states.TRANSITIONS`) to an order: one guarded
conditional UPDATE per move, its effect on the diamond and its timeline entry, atomically.

A move returns whether this caller made it: False when the order was not in a state the
move starts from (another caller moved it first, or it never was), so repeated and
concurrent callers are harmless. Inside a caller's transaction (a webhook's) it joins it
without a savepoint. External calls never happen here.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from catalog.services import diamond_move
from orders.emails import order_emails_for_event
from orders.models import Order, OrderEvent
from orders.states import (
    COLUMNS,
    FEED_ORDER_STALL_AFTER,
    TRANSITIONS,
    DiamondEffect,
    FeedOrderStatus,
    return_window,
)


def _guard_q(name: str, *, attempt, now) -> Q:
    if name == "attempt":
        return Q(feed_order_attempt=attempt)
    if name == "not_started":
        return Q(feed_order_started_at__isnull=True)
    if name == "retryable":
        return ~Q(feed_order_status=FeedOrderStatus.PENDING) | Q(
            feed_order_requested_at__lt=now - FEED_ORDER_STALL_AFTER
        )
    if name == "no_fraud_hold":
        return Q(fraud_warning_at__isnull=True) | Q(fraud_cleared_at__isnull=False)
    if name == "unresolved":
        return Q(resolved_at__isnull=True)
    if name == "return_window":
        return Q(delivered_at__gte=now - return_window())
    raise ValueError(f"Unknown guard {name!r}")


def order_transition(
    order: Order,
    name: str,
    *,
    attempt: int | None = None,
    where: Q | None = None,
    diamond: DiamondEffect | None = None,
    actor=None,
    message: str = "",
    stripe_event_id: str = "",
    data: dict | None = None,
    now=None,
    **values,
) -> bool:
    """Make move `name` on `order` if the database still has it in a state the move starts
    from (and `where`, when given, holds); `values` are the other columns the move sets (never
    the state's own: the move's target says those). On success `order` carries them."""
    transition = TRANSITIONS[name]
    if overrides := set(values) & set(COLUMNS):
        raise ValueError(f"{name} sets {', '.join(sorted(overrides))} itself")
    now = now or timezone.now()
    if "attempt" in transition.guard and attempt is None:
        raise ValueError(f"{name} applies to one feed-order attempt: pass attempt=")
    condition = transition.source_q()
    for guard in transition.guard:
        condition &= _guard_q(guard, attempt=attempt, now=now)
    if where is not None:
        condition &= where
    values = {**transition.target, **values, "updated_at": now}
    with transaction.atomic(savepoint=False):
        if not Order.objects.filter(condition, pk=order.pk).update(**values):
            return False
        computed = [key for key, value in values.items() if hasattr(value, "resolve_expression")]
        for key, value in values.items():
            if key not in computed:
                setattr(order, key, value)
        if computed:
            order.refresh_from_db(fields=computed)
        effect = transition.diamond if diamond is None else diamond
        if effect is not DiamondEffect.NONE:  # the diamond's own table: "release", "sell", …
            diamond_move(diamonds=[order.diamond_id], move=effect.value, now=now)
        if transition.kind:
            order_event_record(
                order=order,
                kind=transition.kind,
                message=message,
                actor=actor,
                stripe_event_id=stripe_event_id,
                data=data,
                created_at=now,
            )
    return True


def order_event_record(
    *,
    order: Order,
    kind: str,
    message: str = "",
    actor=None,
    stripe_event_id: str = "",
    data: dict | None = None,
    created_at=None,
) -> OrderEvent:
    event = OrderEvent.objects.create(
        order=order,
        kind=kind,
        message=message,
        actor=actor,
        stripe_event_id=stripe_event_id,
        data=data or {},
        created_at=created_at or timezone.now(),
    )
    order_emails_for_event(order=order, event_kind=kind, data=data)  # the shopper's email
    return event
