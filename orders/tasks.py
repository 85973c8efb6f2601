from django_tasks import task

from orders import services


@task()
def feed_order_place(order_id: str) -> bool:
    return services.order_feed_order_place(order_id=order_id)
