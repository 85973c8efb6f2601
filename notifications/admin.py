import json

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince, timeuntil

from core.admin import ReadOnlyModelAdmin
from core.html import html_datetime
from notifications.models import Notification

SECRET_HIDDEN = "Not shown: it holds a one-time link for the customer alone."
SECRET_ERASED = "Erased once delivered: it held a one-time link for the customer alone."


def next_attempt_words(notification: Notification, now=None) -> str:
    """When the outbox tries again, in words: "in 4 minutes", "due now", or "—" once the
    message is delivered (nothing more will be tried)."""
    if notification.status != Notification.DeliveryStatus.PENDING:
        return "—"
    when = notification.next_attempt_at
    if when is None:
        return "—"
    now = now or timezone.now()
    if when <= now:
        late = now - when
        if late.total_seconds() < 60:
            return "due now"
        return f"due now (waiting {_plain(timesince(when, now))})"
    if (when - now).total_seconds() < 60:
        return "in less than a minute"
    return f"in {_plain(timeuntil(when, now))}"


def _plain(words: str) -> str:
    return words.replace("\xa0", " ")


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
        "next_attempt",
        "sent_at",
    ]
    list_filter = ["status", "kind", "category", "channel", "created_at"]
    search_fields = ["=reference", "title", "last_error"]
    fieldsets = [
        (
            "Delivery",
            {
                "fields": [
                    "status",
                    "attempts",
                    "next_attempt",
                    "last_error_display",
                    "created_at",
                    "sent_at",
                ]
            },
        ),
        (
            "The message",
            {
                "fields": [
                    "kind",
                    "category",
                    "channel",
                    "reference_link",
                    "title",
                    "text_display",
                    "fields_display",
                    "html_display",
                    "attachments_display",
                ]
            },
        ),
        ("As sent to Slack", {"fields": ["slack_payload"], "classes": ["collapse"]}),
    ]
    readonly_fields = [
        "status",
        "attempts",
        "next_attempt",
        "last_error_display",
        "created_at",
        "sent_at",
        "kind",
        "category",
        "channel",
        "reference_link",
        "title",
        "text_display",
        "fields_display",
        "html_display",
        "attachments_display",
        "slack_payload",
    ]
    show_full_result_count = False

    @admin.display(description="About", ordering="reference")
    def reference_link(self, notification):
        if notification.link:
            return format_html('<a href="{}">{}</a>', notification.link, notification.reference)
        return notification.reference or "—"

    @admin.display(description="Next attempt", ordering="next_attempt_at")
    def next_attempt(self, notification):
        words = next_attempt_words(notification)
        if words == "—" or notification.next_attempt_at is None:
            return words
        local = timezone.localtime(notification.next_attempt_at)
        return format_html(
            '<time datetime="{}" title="{}">{}</time>',
            html_datetime(notification.next_attempt_at),
            f"{local:%Y-%m-%d %H:%M:%S %Z}",
            words,
        )

    @admin.display(description="Text")
    def text_display(self, notification):
        if notification.holds_a_secret:
            return SECRET_HIDDEN if notification.text else SECRET_ERASED
        if not notification.text:
            return "—"
        return format_html('<pre class="timeline-message">{}</pre>', notification.text)

    @admin.display(description="Fields")
    def fields_display(self, notification):
        if not notification.fields:
            return "—"
        return format_html(
            '<dl class="outbox-fields">{}</dl>',
            format_html_join(
                "",
                "<dt>{}</dt><dd>{}</dd>",
                ((f.get("title", ""), f.get("value", "")) for f in notification.fields),
            ),
        )

    @admin.display(description="Email as the customer sees it")
    def html_display(self, notification):
        """The email rendered, in a sandboxed frame (no scripts, no forms, no access to the
        admin), with its HTML source folded beneath."""
        if notification.holds_a_secret:
            return SECRET_HIDDEN if notification.html else SECRET_ERASED
        if not notification.html:
            return "—"
        return format_html(
            '<iframe class="email-preview" sandbox="" srcdoc="{}" title="The email {}"'
            ' style="width:100%;max-width:680px;height:640px;border:1px solid #d8dee5;'
            'background:#fff"></iframe>'
            '<details><summary>Show the HTML</summary><pre class="payload">{}</pre></details>',
            notification.html,
            notification.title,
            notification.html,
        )

    @admin.display(description="Attachments")
    def attachments_display(self, notification):
        files = notification.attachments.all()
        if not files:
            return "—"
        return format_html_join(
            "",
            "<div>{} ({}, {} KB)</div>",
            ((f.filename, f.mimetype, max(1, round(len(f.content) / 1024))) for f in files),
        )

    @admin.display(description="Slack attachment")
    def slack_payload(self, notification):
        if notification.kind != Notification.Kind.SLACK:
            return "—"
        attachment = {
            "color": notification.color,
            "title": notification.title,
            "title_link": notification.link or None,
            "text": notification.text,
            "fields": notification.fields,
        }
        pretty = json.dumps(attachment, indent=2, ensure_ascii=False)
        return format_html('<pre class="payload">{}</pre>', pretty)

    @admin.display(description="Last error")
    def last_error_display(self, notification):
        if not notification.last_error:
            return "—"
        return format_html('<pre class="feed-error">{}</pre>', notification.last_error)

    @admin.display(description="Last error")
    def last_error_short(self, notification):
        error = notification.last_error
        if not error:
            return "—"
        return error if len(error) <= 80 else error[:79] + "…"
