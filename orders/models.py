import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from catalog.models import Feed
from core.money import money_display
from orders.states import (
    IN_HAND,
    FeedOrderStatus,
    FulfilmentStatus,
    PaymentStatus,
    Status,
    attention_q,
    attention_rule,
    legal_states_q,
)

__all__ = [
    "FeedOrderStatus",
    "FulfilmentStatus",
    "Order",
    "OrderEvent",
    "OrderNumberCounter",
    "PaymentStatus",
    "Status",
]


class OrderQuerySet(models.QuerySet):
    def needs_attention(self, now=None):
        return self.filter(attention_q(now or timezone.now()))


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
    # The stone's way to the customer and back (orders/fulfilment.py), once confirmed.
    fulfilment_status = models.CharField(
        max_length=20, choices=FulfilmentStatus.choices, default=FulfilmentStatus.NOT_STARTED
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
    # The current feed-order attempt (1 for the first): a supplier answer applies only to
    # the attempt that asked for it. When it was asked for, and when a worker took it on:
    # an attempt requested long ago is stalled; one taken on but never finished has an
    # unknown outcome (the supplier may have the order).
    feed_order_attempt = models.PositiveIntegerField(default=0)
    feed_order_requested_at = models.DateTimeField(null=True, blank=True)
    feed_order_started_at = models.DateTimeField(null=True, blank=True)

    reference = models.CharField(max_length=100, blank=True)
    comments = models.TextField(blank=True)

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    amount_refunded_cents = models.PositiveBigIntegerField(default=0)

    captured_at = models.DateTimeField(null=True, blank=True)
    # The payment's charge at Stripe (the PaymentIntent's `latest_charge`): disputes and early
    # fraud warnings always name it, their PaymentIntent may be null.
    stripe_charge_id = models.CharField(max_length=255, blank=True, db_index=True)
    # What Stripe reported that the order could not book (an amount in another currency), in
    # ops' words; the order needs attention until resolved.
    stripe_mismatch = models.TextField(blank=True)
    # Stripe's receipt for the charge (its `receipt_url`), shown on the shopper's order page.
    stripe_receipt_url = models.URLField(max_length=500, blank=True)
    # The last capture or void that failed, in ops' words (empty once it succeeds).
    payment_error = models.TextField(blank=True)
    # The supplier's hold on the stone while the shopper pays (feeds that support holds).
    feed_hold_id = models.CharField(max_length=100, blank=True)
    # Disputes and Radar: the dispute's status at Stripe and when its evidence is due; when an
    # early fraud warning arrived, and when ops decided to go ahead anyway.
    dispute_status = models.CharField(max_length=40, blank=True)
    dispute_evidence_due_by = models.DateTimeField(null=True, blank=True)
    fraud_warning_at = models.DateTimeField(null=True, blank=True)
    fraud_cleared_at = models.DateTimeField(null=True, blank=True)

    received_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # A code of the CARRIERS setting, and the carrier's tracking number.
    carrier = models.CharField(max_length=40, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    return_reason = models.TextField(blank=True)
    return_requested_at = models.DateTimeField(null=True, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)

    shipping_name = models.CharField(max_length=200, blank=True)
    shipping_address = models.JSONField(default=dict, blank=True)
    shipping_phone = models.CharField(max_length=40, blank=True)

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
            ("capture_payment", "Can capture the held payment"),
            ("cancel_order", "Can cancel an order (void or refund its payment)"),
            ("fulfil_order", "Can receive, ship and deliver the stone, and handle returns"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="order_amount_positive"),
            # Only the combinations the state machine allows (orders.states.LEGAL).
            models.CheckConstraint(condition=legal_states_q(), name="order_state_legal"),
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
                fields=["status", "feed_order_status", "created_at"],
                condition=Q(status__in=["paid", "cancelled"], resolved_at__isnull=True),
                name="order_attention_idx",
            ),
            models.Index(fields=["status", "created_at"], name="order_status_created_idx"),
            # The dashboard's paid-in-a-period figures and filters.
            models.Index(fields=["paid_at"], name="order_paid_at_idx"),
            # Open disputes and fraud warnings need attention whatever the order's status.
            models.Index(
                fields=["dispute_status"], condition=~Q(dispute_status=""), name="order_dispute_idx"
            ),
            models.Index(
                fields=["fraud_warning_at"],
                condition=Q(fraud_warning_at__isnull=False),
                name="order_fraud_warning_idx",
            ),
            # What Stripe reported that the books cannot match: needs attention.
            models.Index(
                fields=["created_at"],
                condition=~Q(stripe_mismatch=""),
                name="order_stripe_mismatch_idx",
            ),
            # The stone's way while ops have something to do (the dashboard's queues, the
            # returns that need attention): a few orders, however many were delivered.
            models.Index(
                fields=["fulfilment_status", "confirmed_at"],
                condition=Q(status="confirmed", fulfilment_status__in=IN_HAND),
                name="order_fulfilment_queue_idx",
            ),
        ]

    def __str__(self):
        return self.display_number

    @property
    def display_number(self) -> str:
        return self.order_number or f"#{str(self.id)[:8]}"

    @property
    def amount_display(self) -> str:
        return money_display(self.amount_cents, self.currency)

    @property
    def refunded_cents(self) -> int:
        """What went back to the customer: the recorded total, or all of it for an order
        marked refunded before totals were kept."""
        if self.amount_refunded_cents:
            return self.amount_refunded_cents
        return self.amount_cents if self.payment_status == PaymentStatus.REFUNDED else 0

    @property
    def needs_attention(self) -> bool:
        return self.attention is not None

    @property
    def attention(self):
        """Why the order needs ops now (an `orders.states.AttentionRule`), or None."""
        return attention_rule(self, timezone.now())


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
