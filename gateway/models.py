from django.db import models
from django.utils import timezone


class SimulatedCheckout(models.Model):
    """One Checkout Session of the local payment simulator (development only), with its
    PaymentIntent and charge: the simulator's own record of what Stripe would keep. It knows
    nothing of orders: the store finds its order from the session's metadata, as with Stripe."""

    class Status(models.TextChoices):
        OPEN = "open"
        COMPLETE = "complete"
        EXPIRED = "expired"

    session_id = models.CharField(max_length=64, unique=True)
    payment_intent_id = models.CharField(max_length=64, unique=True)
    charge_id = models.CharField(max_length=64, unique=True)
    idempotency_key = models.CharField(max_length=255, unique=True)
    # The Checkout Session create request as it was sent.
    params = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    # Stripe's session `payment_status` and PaymentIntent `status`.
    payment_status = models.CharField(max_length=20, default="unpaid")
    intent_status = models.CharField(max_length=30, default="requires_payment_method")
    # What the shopper gave on the test checkout page.
    shipping_name = models.CharField(max_length=200, blank=True)
    amount_refunded = models.PositiveBigIntegerField(default=0)
    refunds = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    def __str__(self):
        return self.session_id
