import json

from django.contrib import admin
from django.utils.html import format_html

from core.admin import ReadOnlyModelAdmin
from payments.models import WebhookEvent


class ProcessedFilter(admin.SimpleListFilter):
    title = "processed"
    parameter_name = "processed"

    def lookups(self, request, model_admin):
        return [("yes", "Processed"), ("no", "Not processed")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(processed_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(processed_at__isnull=True)
        return queryset


class ErrorFilter(admin.SimpleListFilter):
    title = "processing error"
    parameter_name = "error"

    def lookups(self, request, model_admin):
        return [("yes", "With an error"), ("no", "Without")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(processing_error="")
        if self.value() == "no":
            return queryset.filter(processing_error="")
        return queryset


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyModelAdmin):
    """The Stripe event log, as received: read-only."""

    list_display = [
        "stripe_event_id",
        "type",
        "checkout_session_id",
        "received_at",
        "processed_at",
        "has_error",
    ]
    list_filter = ["type", ProcessedFilter, ErrorFilter, "livemode", "received_at"]
    search_fields = ["stripe_event_id", "type", "checkout_session_id"]
    search_help_text = "Event id, event type or Checkout Session id."
    fields = [
        "stripe_event_id",
        "type",
        "livemode",
        "checkout_session_id",
        "received_at",
        "processed_at",
        "processing_error_display",
        "payload_display",
    ]
    readonly_fields = fields
    list_per_page = 100
    show_full_result_count = False

    @admin.display(description="Error", boolean=True, ordering="processing_error")
    def has_error(self, event):
        return bool(event.processing_error)

    @admin.display(description="Processing error")
    def processing_error_display(self, event):
        if not event.processing_error:
            return "—"
        return format_html('<pre class="feed-error">{}</pre>', event.processing_error)

    @admin.display(description="Payload")
    def payload_display(self, event):
        pretty = json.dumps(event.payload, indent=2, sort_keys=True, ensure_ascii=False)
        return format_html('<pre class="payload">{}</pre>', pretty)
