from django.db import models
from django.utils import timezone


class WebhookEvent(models.Model):
    """A verified Stripe event, stored once by its id before it is processed."""

    stripe_event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100, db_index=True)
    livemode = models.BooleanField(default=False)
    checkout_session_id = models.CharField(max_length=255, blank=True, db_index=True)
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    processing_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]
        permissions = [("process_webhookevent", "Can process a failed Stripe event again")]

    def __str__(self):
        return f"{self.type} {self.stripe_event_id}"
