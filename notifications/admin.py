from django.contrib import admin

from config.admin import ReadOnlyModelAdmin, admin_link
from notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(ReadOnlyModelAdmin):
    """The Slack outbox: what was sent, what is still being retried and why. Read-only."""

    list_display = [
        "created_at",
        "status",
        "category",
        "channel",
        "title",
        "order_link",
        "attempts",
        "last_error_short",
        "next_attempt_at",
        "sent_at",
    ]
    list_filter = ["status", "category", "channel", "created_at"]
    list_select_related = ["order"]
    search_fields = ["title", "text", "order__order_number", "last_error"]
    fields = [
        "category",
        "channel",
        "status",
        "order_link",
        "title",
        "text",
        "color",
        "fields",
        "attempts",
        "last_error",
        "next_attempt_at",
        "created_at",
        "sent_at",
    ]
    readonly_fields = fields
    show_full_result_count = False

    @admin.display(description="Order", ordering="order__order_number")
    def order_link(self, notification):
        order = notification.order
        return admin_link(order, order.display_number if order else "")

    @admin.display(description="Last error")
    def last_error_short(self, notification):
        error = notification.last_error
        return error if len(error) <= 80 else error[:79] + "…"
