"""The supplier's hold on a stone during checkout (feeds that support holds)."""

from __future__ import annotations

import logging

from django_tasks import task

from core.tasks import enqueue_durably
from feeds.base import FeedError
from feeds.registry import get_adapter
from orders.models import Order
from orders.transitions import order_event_record

logger = logging.getLogger(__name__)


def feed_hold_release_enqueue(*, order: Order) -> None:
    """Release the order's supplier hold, if it has one, once the transaction commits."""
    if order.feed_hold_id:
        enqueue_durably(feed_hold_release, order_id=str(order.pk))


@task()
def feed_hold_release(order_id: str) -> bool:
    """Cancel the supplier's hold on the order's stone (outside any transaction). A task;
    `feed_hold_release.call(order_id=…)` runs it here and now."""
    order = Order.objects.filter(pk=order_id).exclude(feed_hold_id="").first()
    if order is None:
        return False
    hold_id = order.feed_hold_id
    try:
        get_adapter(order.feed).cancel_hold(hold_id)
    except FeedError as exc:
        logger.warning("Releasing hold %s of %s failed: %s", hold_id, order, exc)
        order_event_record(
            order=order,
            kind="feed_hold_release_failed",
            message=f"The supplier hold {hold_id} could not be released: {exc}",
        )
        return False
    Order.objects.filter(pk=order.pk, feed_hold_id=hold_id).update(feed_hold_id="")
    order_event_record(
        order=order, kind="feed_hold_released", message=f"Supplier hold {hold_id} released."
    )
    return True
