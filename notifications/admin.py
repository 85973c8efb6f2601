from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Order", ordering="order__order_number")
    def order_link(self, notification):
        order = notification.order
        if order is None:
            return "—"
        url = reverse("admin:orders_order_change", args=[order.pk])
        return format_html('<a href="{}">{}</a>', url, order.display_number)

    @admin.display(description="Last error")
    def last_error_short(self, notification):
        error = notification.last_error
        return error if len(error) <= 80 else error[:79] + "…"
