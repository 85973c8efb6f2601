from django.db import models
from django.utils import timezone


class Category(models.TextChoices):
    """What a message is about. ACCOUNT_EMAIL messages carry one-time links (sign-up, password
    reset): the admin never shows their text, and it is erased once they are delivered."""

    ORDER_FEED_FAILURE = "ORDER_FEED_FAILURE", "Feed order failed"
    ORDER_COMPLETED = "ORDER_COMPLETED", "Order completed"
    ORDER_DISPUTE = "ORDER_DISPUTE", "Dispute or fraud warning"
    ORDER_PAYMENT_FAILURE = "ORDER_PAYMENT_FAILURE", "Capture or void failed"
    ORDER_FULFILMENT = "ORDER_FULFILMENT", "Shipped or return requested"
    WEBHOOK_FAILED = "WEBHOOK_FAILED", "Stripe event processing failed"
    WORKER_STALLED = "WORKER_STALLED", "Task worker stalled"
    ORDER_EMAIL = "ORDER_EMAIL", "Email to the customer"
    ACCOUNT_EMAIL = "ACCOUNT_EMAIL", "Email about the customer's account"


SECRET_CATEGORIES = frozenset({Category.ACCOUNT_EMAIL})


class Notification(models.Model):
    """A message (Slack or email), kept until it is delivered: an outage loses nothing.

    The outbox knows nothing of orders: `reference` names what the message is about (an
    order number) and `link` points at it (its admin page).
    """

    class Kind(models.TextChoices):
        SLACK = "slack", "Slack"
        EMAIL = "email", "Email"

    class DeliveryStatus(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        LOGGED = "logged", "Logged (no Slack token)"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SLACK)
    category = models.CharField(max_length=40, choices=Category.choices)
    # Slack: the channel; email: the recipient's address.
    channel = models.CharField(max_length=254)
    title = models.CharField(max_length=200)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True)
    color = models.CharField(max_length=7, blank=True)
    fields = models.JSONField(default=list, blank=True)
    reference = models.CharField(max_length=100, blank=True, db_index=True)
    link = models.URLField(max_length=500, blank=True)
    # At most one message per key (e.g. one "payment received" email per order): a repeated
    # cause (a webhook delivered three times) cannot send it twice.
    dedupe_key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # When the next delivery attempt is due; empty once delivered.
    next_attempt_at = models.DateTimeField(default=timezone.now, null=True, blank=True)
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

    @property
    def holds_a_secret(self) -> bool:
        return self.category in SECRET_CATEGORIES


class Attachment(models.Model):
    """A file sent with an email (the order-confirmed email's tax invoice), stored with it by
    whoever wrote the email: delivery attaches it as it is, on every attempt."""

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="attachments"
    )
    filename = models.CharField(max_length=200)
    mimetype = models.CharField(max_length=100)
    content = models.BinaryField()

    def __str__(self):
        return self.filename
