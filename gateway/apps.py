from django.apps import AppConfig


class GatewayConfig(AppConfig):
    """The payment gateway: Stripe, or the local payment simulator, behind one small
    interface of payment ids and amounts (it knows no order)."""

    name = "gateway"
    verbose_name = "Payment gateway"
