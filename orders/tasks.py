from django_tasks import task

from orders import feed_orders, holds


@task()
def feed_order_place(order_id: str, attempt: int | None = None) -> bool:
    return feed_orders.feed_order_place(order_id=order_id, attempt=attempt)


@task()
def feed_hold_release(order_id: str) -> bool:
    return holds.feed_hold_release(order_id=order_id)
