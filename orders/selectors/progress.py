"""The shopper's progress line for an order (Ordered → Confirmed → With us → Shipped →
Delivered, with dates), its tracking link, and whether a return may be asked for now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from orders.carriers import carrier_name, order_tracking_url
from orders.models import FulfilmentStatus, Order, Status
from orders.states import may

FU = FulfilmentStatus


@dataclass(frozen=True)
class ProgressStep:
    label: str
    at: datetime | None  # when it happened; None while it has not
    current: bool = False  # the last step reached

    @property
    def done(self) -> bool:
        return self.at is not None


@dataclass(frozen=True)
class Progress:
    steps: list[ProgressStep]
    carrier: str = ""
    tracking_number: str = ""
    tracking_url: str = ""
    can_return: bool = False


RETURN_STEPS = (FU.RETURN_REQUESTED, FU.RETURN_APPROVED, FU.RETURNED)


def order_progress(*, order: Order, now: datetime | None = None) -> Progress | None:
    """None for an order that never got going (unpaid, failed, expired) or was cancelled
    before its stone left us."""
    if order.status not in (Status.PAID, Status.CONFIRMED) and order.fulfilment_status in (
        FU.NOT_STARTED,
        FU.AWAITING_STONE,
        FU.RECEIVED,
    ):
        return None
    now = now or timezone.now()
    dates = [
        ("Ordered", order.paid_at or order.created_at),
        ("Confirmed", order.confirmed_at),
        ("With us", order.received_at),
        ("Shipped", order.shipped_at),
        ("Delivered", order.delivered_at),
    ]
    reached = max((i for i, (_, at) in enumerate(dates) if at is not None), default=0)
    steps = [ProgressStep(label, at, current=i == reached) for i, (label, at) in enumerate(dates)]
    return Progress(
        steps=steps,
        carrier=carrier_name(order.carrier) if order.carrier else "",
        tracking_number=order.tracking_number,
        tracking_url=order_tracking_url(order),
        can_return=may(order, "return_requested", now),
    )
