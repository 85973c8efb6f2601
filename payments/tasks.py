import logging

from django_tasks import task

from orders.models import Order
from payments import services

logger = logging.getLogger(__name__)


@task()
def payment_capture(order_id: str) -> bool:
    """Capture a held payment once the supplier has confirmed the order. A failure is kept on
    the order (it needs attention and ops are alerted), so the task itself never fails."""
    order = Order.objects.get(pk=order_id)
    try:
        return services.order_capture(order=order) == "captured"
    except services.PaymentActionError as exc:
        logger.warning("Capture of %s: %s", order, exc)
        return False
