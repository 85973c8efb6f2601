"""What payments does when the order announces something (connected in PaymentsConfig)."""

from django.dispatch import receiver

from core.tasks import enqueue_durably
from orders.signals import supplier_confirmed_authorized_order
from payments.tasks import payment_capture


@receiver(supplier_confirmed_authorized_order)
def capture_when_the_supplier_confirms(sender, order, **kwargs):
    enqueue_durably(payment_capture, order_id=str(order.pk))
