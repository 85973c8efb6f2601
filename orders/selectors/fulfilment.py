"""Ops' fulfilment queues: confirmed orders by where their stone is, each a filter of the
orders list (`?queue=<key>`), counted in one query for the dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from orders.models import FulfilmentStatus, Order, Status
from orders.states import supplier_overdue_after

FU = FulfilmentStatus


@dataclass(frozen=True)
class Queue:
    key: str
    label: str
    note: str
    fulfilment: tuple[str, ...]


QUEUES = (
    Queue(
        "awaiting_stone",
        "Awaiting the stone",
        "The supplier confirmed; Receive stone once it is here and checked.",
        (FU.AWAITING_STONE,),
    ),
    Queue("to_ship", "To ship", "Received and checked: ship them.", (FU.RECEIVED,)),
    Queue("in_transit", "In transit", "Shipped: mark delivered once they arrive.", (FU.SHIPPED,)),
    Queue(
        "returns",
        "Returns to handle",
        "Approve a request; receive a stone sent back (the refund follows).",
        (FU.RETURN_REQUESTED, FU.RETURN_APPROVED, FU.RETURNED),
    ),
)
QUEUES_BY_KEY = {queue.key: queue for queue in QUEUES}
OVERDUE = "overdue"


def queue_q(key: str, now: datetime) -> Q | None:
    """The orders in queue `key` (or `overdue`: awaiting a stone for more than
    `SUPPLIER_DAYS`); None for an unknown key."""
    if key == OVERDUE:
        return queue_q("awaiting_stone", now) & Q(confirmed_at__lt=now - supplier_overdue_after())
    queue = QUEUES_BY_KEY.get(key)
    if queue is None:
        return None
    return Q(status=Status.CONFIRMED, fulfilment_status__in=queue.fulfilment)


def queue_url(key: str) -> str:
    return reverse("admin:orders_order_changelist") + f"?queue={key}"


@dataclass(frozen=True)
class QueueFigure:
    key: str
    label: str
    count: int
    url: str
    note: str
    overdue: int = 0
    overdue_url: str = ""


def fulfilment_queues(*, now: datetime | None = None) -> list[QueueFigure]:
    now = now or timezone.now()
    # Only the queues' steps (orders.states.IN_HAND, a partial index): not every delivery.
    queued = {step for queue in QUEUES for step in queue.fulfilment}
    counts = Order.objects.filter(status=Status.CONFIRMED, fulfilment_status__in=queued).aggregate(
        **{queue.key: Count("pk", filter=queue_q(queue.key, now)) for queue in QUEUES},
        overdue=Count("pk", filter=queue_q(OVERDUE, now)),
    )
    return [
        QueueFigure(
            queue.key,
            queue.label,
            counts[queue.key],
            queue_url(queue.key),
            queue.note,
            overdue=counts[OVERDUE] if queue.key == "awaiting_stone" else 0,
            overdue_url=queue_url(OVERDUE) if queue.key == "awaiting_stone" else "",
        )
        for queue in QUEUES
    ]


def supplier_days() -> int:
    return settings.SUPPLIER_DAYS
