import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from catalog.models import Feed

FEED_ORDER_STALL_AFTER = timedelta(minutes=10)


class Status(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", "Pending payment"
    PAID = "paid", "Paid"
    CONFIRMED = "confirmed", "Confirmed"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PAID = "paid", "Paid"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"
    REFUNDED = "refunded", "Refunded"


class FeedOrderStatus(models.TextChoices):
    NOT_ATTEMPTED = "not_attempted", "Not attempted"
    PENDING = "pending", "Pending"
    SUCCESS = "success", "Success"
    FAILED = "failed", "Failed"


def needs_attention_q(now=None) -> Q:
    """Paid, not confirmed, not resolved, and the feed order failed, stalled or never ran.

    A paid order whose feed order was never attempted is one whose paid amount or currency
    did not match the order: fulfilment refused to place the supplier order.
    """
    stalled_before = (now or timezone.now()) - FEED_ORDER_STALL_AFTER
    return (
        Q(payment_status=PaymentStatus.PAID, resolved_at__isnull=True)
        & ~Q(status=Status.CONFIRMED)
        & (
            Q(feed_order_status__in=[FeedOrderStatus.FAILED, FeedOrderStatus.NOT_ATTEMPTED])
            | Q(
                feed_order_status=FeedOrderStatus.PENDING,
                feed_order_requested_at__lt=stalled_before,
            )
        )
    )


class OrderQuerySet(models.QuerySet):
    def needs_attention(self):
        return self.filter(needs_attention_q())


class Order(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order_number = models.CharField(max_length=20, unique=True, null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders"
    )
    diamond = models.ForeignKey("catalog.Diamond", on_delete=models.PROTECT, related_name="orders")
    feed = models.CharField(max_length=20, choices=Feed.choices)
    offer_id = models.CharField(max_length=100, blank=True)
    idempotency_key = models.CharField(max_length=100, unique=True)

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING_PAYMENT)
    payment_status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    feed_order_status = models.CharField(
        max_length=20, choices=FeedOrderStatus.choices, default=FeedOrderStatus.NOT_ATTEMPTED
    )

    stripe_checkout_session_id = models.CharField(
        max_length=255, unique=True, null=True, blank=True
    )
    stripe_checkout_url = models.URLField(max_length=2000, blank=True)
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    amount_cents = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3, default="nzd")

    feed_order_id = models.CharField(max_length=255, blank=True)
    feed_order_error = models.TextField(blank=True)
    # When the current feed-order attempt was asked for, and when a worker took it on:
    # an attempt requested long ago is stalled; one taken on but never finished has an
    # unknown outcome (the supplier may have the order).
    feed_order_requested_at = models.DateTimeField(null=True, blank=True)
    feed_order_started_at = models.DateTimeField(null=True, blank=True)

    reference = models.CharField(max_length=100, blank=True)
    comments = models.TextField(blank=True)

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    resolution_note = models.TextField(blank=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("retry_feed_order", "Can retry the feed order"),
            ("refund_order", "Can refund the payment"),
            ("resolve_order", "Can mark an order resolved"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="order_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="order_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(payment_status__in=PaymentStatus.values),
                name="order_payment_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(feed_order_status__in=FeedOrderStatus.values),
                name="order_feed_order_status_valid",
            ),
            # At most one open checkout per diamond: the database, not the view, decides
            # who gets a stone when two shoppers click at once.
            models.UniqueConstraint(
                fields=["diamond"],
                condition=Q(status="pending_payment"),
                name="order_one_open_checkout_per_diamond",
            ),
        ]
        indexes = [
            # Serves the needs-attention filter and the dashboard's "attention first" sort.
            models.Index(
                fields=["payment_status", "feed_order_status", "created_at"],
                condition=Q(payment_status="paid", resolved_at__isnull=True)
                & ~Q(status="confirmed"),
                name="order_attention_idx",
            ),
            models.Index(fields=["status", "created_at"], name="order_status_created_idx"),
        ]

    def __str__(self):
        return self.display_number

    @property
    def display_number(self) -> str:
        return self.order_number or f"#{str(self.id)[:8]}"

    @property
    def amount_display(self) -> str:
        return f"${self.amount_cents / 100:,.2f} {self.currency.upper()}"

    @property
    def needs_attention(self) -> bool:
        """The same rule as `needs_attention_q`, on a loaded row (no query)."""
        if (
            self.payment_status != PaymentStatus.PAID
            or self.status == Status.CONFIRMED
            or self.resolved_at is not None
        ):
            return False
        if self.feed_order_status in (FeedOrderStatus.FAILED, FeedOrderStatus.NOT_ATTEMPTED):
            return True
        return (
            self.feed_order_status == FeedOrderStatus.PENDING
            and self.feed_order_requested_at is not None
            and self.feed_order_requested_at < timezone.now() - FEED_ORDER_STALL_AFTER
        )


class OrderNumberCounter(models.Model):
    """The last order number handed out on one UTC day."""

    day = models.DateField(primary_key=True)
    last_value = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.day}: {self.last_value}"


class OrderEvent(models.Model):
    """One line of an order's timeline."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    created_at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=50)
    message = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    stripe_event_id = models.CharField(max_length=255, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["order", "created_at"], name="orderevent_order_idx")]

    def __str__(self):
        return f"{self.kind} at {self.created_at:%Y-%m-%d %H:%M:%S}"
