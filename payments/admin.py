import json

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html

from core.admin import ReadOnlyModelAdmin
from payments.models import WebhookEvent
from payments.webhooks import webhook_event_process

PROCESS_PERMISSION = "payments.process_webhookevent"


def processing_failed(event: WebhookEvent) -> bool:
    return bool(event.processing_error)


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
    change_form_template = "admin/payments/webhookevent/change_form.html"

    def get_urls(self):
        return [
            path(
                "<path:object_id>/process-again/",
                self.admin_site.admin_view(self.process_again_view),
                name="payments_webhookevent_process_again",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        event = self.get_object(request, unquote(object_id))
        context = dict(extra_context or {})
        if event is not None and processing_failed(event):
            context["process_again_url"] = (
                reverse("admin:payments_webhookevent_process_again", args=[event.pk])
                if request.user.has_perm(PROCESS_PERMISSION)
                else ""
            )
            context["processing_failed"] = True
        return super().change_view(request, object_id, form_url, context)

    def process_again_view(self, request, object_id):
        """Apply a stored event whose processing failed once more (POST only); report what
        happened this time and keep it in the admin history."""
        if not request.user.has_perm(PROCESS_PERMISSION):
            raise PermissionDenied
        event = self.get_object(request, unquote(object_id))
        if event is None:
            raise Http404("No such event.")
        url = reverse("admin:payments_webhookevent_change", args=[event.pk])
        if request.method != "POST":
            return HttpResponseRedirect(url)
        if not processing_failed(event):
            self.message_user(
                request,
                f"{event.stripe_event_id} did not fail, so it was not processed again.",
                messages.WARNING,
            )
            return HttpResponseRedirect(url)
        status, answer = webhook_event_process(record=event, retry=True)
        event.refresh_from_db()
        if event.processing_error:
            level = messages.WARNING
            message = (
                f"Processed {event.stripe_event_id} again, but it failed again: "
                f"{event.processing_error.splitlines()[0][:300]}"
            )
        elif status >= 300:
            level, message = messages.ERROR, f"{event.stripe_event_id}: {answer}"
        else:
            level, message = messages.SUCCESS, f"Processed {event.stripe_event_id}: {answer}"
        self.log_change(request, event, f"Process again: {message}")
        self.message_user(request, message, level)
        return HttpResponseRedirect(url)

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
