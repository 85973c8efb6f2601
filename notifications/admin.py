from django.contrib import admin
from django.utils.html import format_html, format_html_join

from core.admin import ReadOnlyModelAdmin
from notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(ReadOnlyModelAdmin):
    """The outbox (Slack alerts and customer email): what went, what is being retried, why."""

    list_display = [
        "created_at",
        "status",
        "kind",
        "category",
        "channel",
        "title",
        "reference_link",
        "attempts",
        "last_error_short",
        "next_attempt_at",
        "sent_at",
    ]
    list_filter = ["status", "kind", "category", "channel", "created_at"]
    search_fields = ["=reference", "title", "last_error"]
    fields = [
        "kind",
        "category",
        "channel",
        "status",
        "reference_link",
        "title",
        "text",
        "fields_display",
        "attempts",
        "last_error",
        "next_attempt_at",
        "created_at",
        "sent_at",
    ]
    readonly_fields = fields
    show_full_result_count = False

    @admin.display(description="About", ordering="reference")
    def reference_link(self, notification):
        if notification.link:
            return format_html('<a href="{}">{}</a>', notification.link, notification.reference)
        return notification.reference or "—"

    @admin.display(description="Fields")
    def fields_display(self, notification):
        if not notification.fields:
            return "—"
        return format_html(
            "<dl>{}</dl>",
            format_html_join(
                "",
                "<dt>{}</dt><dd>{}</dd>",
                ((f.get("title", ""), f.get("value", "")) for f in notification.fields),
            ),
        )

    @admin.display(description="Last error")
    def last_error_short(self, notification):
        error = notification.last_error
        return error if len(error) <= 80 else error[:79] + "…"
