from django.db import models
from django.utils import timezone


class Category(models.TextChoices):
    ORDER_FEED_FAILURE = "ORDER_FEED_FAILURE", "Feed order failed"
    ORDER_COMPLETED = "ORDER_COMPLETED", "Order completed"
    WORKER_STALLED = "WORKER_STALLED", "Background work stalled"


class Notification(models.Model):
    """A Slack message, kept until it is delivered (an outbox: an outage loses nothing)."""

    class DeliveryStatus(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        LOGGED = "logged", "Logged (no Slack token)"

    category = models.CharField(max_length=40, choices=Category.choices)
    channel = models.CharField(max_length=80)
    title = models.CharField(max_length=200)
    text = models.TextField(blank=True)
    color = models.CharField(max_length=7)
    fields = models.JSONField(default=list, blank=True)
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
    )
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="notification_due_idx",
            )
        ]

    def __str__(self):
        return f"{self.category}: {self.title}"
