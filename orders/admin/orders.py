"""The ops dashboard: orders first, the ones that need attention on top.

Every order field is read-only; state changes go through the actions, which ask the state
machine (`orders.states`) whether they apply and call the order and payment services (each
writes the timeline with the acting user).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from core.admin import ReadOnlyModelAdmin, ReadOnlyPermissions, admin_link
from orders.admin.display import badge, stripe_dashboard_link
from orders.admin.filters import NeedsAttentionFilter
from orders.admin.forms import RefundForm, ResolveForm
from orders.models import FeedOrderStatus, Order, OrderEvent
from orders.selectors import (
    order_list_for_ops,
    order_search_q,
    orders_needing_attention_count,
)
from orders.services import order_feed_order_retry, order_resolve
from orders.states import outcome_unknown, refusal
from payments.services import RefundError, order_refund


class OrderEventInline(ReadOnlyPermissions, admin.TabularInline):
    model = OrderEvent
    verbose_name = "timeline entry"
    verbose_name_plural = "Timeline"
    fields = ["created_at", "kind", "message_display", "actor", "stripe_event_id"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False
    ordering = ["created_at", "id"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    @admin.display(description="message")
    def message_display(self, event):
        return format_html('<pre class="timeline-message">{}</pre>', event.message)


def _numbers(orders) -> str:
    return ", ".join(order.display_number for order in orders)


@admin.register(Order)
class OrderAdmin(ReadOnlyModelAdmin):
    list_display = [
        "order_number_display",
        "feed",
        "diamond_display",
        "amount_display",
        "payment_badge",
        "feed_order_badge",
        "status_badge",
        "feed_order_id_display",
        "created_display",
    ]
    list_display_links = ["order_number_display"]
    list_select_related = ["user", "diamond"]
    list_filter = [
        NeedsAttentionFilter,
        "status",
        "payment_status",
        "feed_order_status",
        "feed",
        "created_at",
    ]
    # Exact matches only (see get_search_results): a substring search would scan every order.
    search_fields = [
        "=order_number",
        "=stripe_checkout_session_id",
        "=stripe_payment_intent_id",
        "=diamond__id",
        "=diamond__supplier_stone_id",
        "=user__email",
    ]
    search_help_text = (
        "The exact order number, Checkout Session id, payment intent, diamond id, stone id "
        "or customer email."
    )
    list_per_page = 50
    show_full_result_count = False
    inlines = [OrderEventInline]
    actions = ["retry_feed_order", "refund", "mark_resolved"]
    change_list_template = "admin/orders/order/change_list.html"
    change_form_template = "admin/orders/order/change_form.html"

    fieldsets = [
        (
            "Order",
            {
                "fields": [
                    "order_number",
                    "id",
                    "attention_display",
                    "status_badge",
                    "customer_link",
                    "diamond_link",
                    "feed",
                    "offer_id",
                    "amount_display",
                    "currency",
                    "reference",
                    "comments",
                    "idempotency_key",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
        (
            "Payment (Stripe)",
            {
                "fields": [
                    "payment_badge",
                    "paid_at",
                    "payment_link",
                    "checkout_session_link",
                    "stripe_checkout_url",
                ]
            },
        ),
        (
            "Feed order",
            {
                "fields": [
                    "feed_order_badge",
                    "feed_order_id",
                    "feed_order_requested_at",
                    "feed_order_started_at",
                    "feed_order_error_display",
                ]
            },
        ),
        ("Resolution", {"fields": ["resolved_at", "resolved_by", "resolution_note"]}),
    ]

    # ------------------------------------------------------------ queryset, ordering

    def get_queryset(self, request):
        return order_list_for_ops().order_by(*self.get_ordering(request))

    def get_ordering(self, request):
        return ["-attention_first", "-created_at"]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(order_search_q(term)), False

    # ------------------------------------------------------------ permissions

    def has_retry_feed_order_permission(self, request):
        return request.user.has_perm("orders.retry_feed_order")

    def has_refund_order_permission(self, request):
        return request.user.has_perm("orders.refund_order")

    def has_resolve_order_permission(self, request):
        return request.user.has_perm("orders.resolve_order")

    # ------------------------------------------------------------ columns

    @admin.display(description="Order #", ordering="order_number")
    def order_number_display(self, order):
        if order.needs_attention:
            return format_html(
                '<span class="needs-attention" title="Needs attention">{}</span>',
                order.display_number,
            )
        return order.display_number

    @admin.display(description="Diamond", ordering="diamond__shape")
    def diamond_display(self, order):
        return format_html(
            '{}<br><span class="quiet">{}</span>', order.diamond, order.diamond.supplier_stone_id
        )

    @admin.display(description="Amount", ordering="amount_cents")
    def amount_display(self, order):
        return order.amount_display

    @admin.display(description="Payment", ordering="payment_status")
    def payment_badge(self, order):
        return badge(order.payment_status, order.get_payment_status_display())

    @admin.display(description="Feed Order", ordering="feed_order_status")
    def feed_order_badge(self, order):
        return badge(order.feed_order_status, order.get_feed_order_status_display())

    @admin.display(description="Status", ordering="status")
    def status_badge(self, order):
        return badge(order.status, order.get_status_display())

    @admin.display(description="Feed Order ID", ordering="feed_order_id")
    def feed_order_id_display(self, order):
        return order.feed_order_id or "—"

    @admin.display(description="Created", ordering="created_at")
    def created_display(self, order):
        return order.created_at

    # ------------------------------------------------------------ change page

    def get_readonly_fields(self, request, obj=None):
        model_fields = [field.name for field in Order._meta.concrete_fields]
        computed = [
            "attention_display",
            "status_badge",
            "payment_badge",
            "feed_order_badge",
            "amount_display",
            "customer_link",
            "diamond_link",
            "payment_link",
            "checkout_session_link",
            "feed_order_error_display",
        ]
        return [*model_fields, *computed]

    @admin.display(description="Needs attention")
    def attention_display(self, order):
        if order.needs_attention:
            return format_html('<strong class="attention-flag">{}</strong>', "Yes")
        if order.resolved_at:
            return "No (resolved)"
        return "No"

    @admin.display(description="Customer")
    def customer_link(self, order):
        user = order.user
        label = f"{user.get_username()} <{user.email}>" if user.email else user.get_username()
        return admin_link(user, label)

    @admin.display(description="Diamond")
    def diamond_link(self, order):
        diamond = order.diamond
        return admin_link(diamond, f"{diamond} — {diamond.feed} {diamond.supplier_stone_id}")

    @admin.display(description="Payment in Stripe")
    def payment_link(self, order):
        return stripe_dashboard_link("payments", order.stripe_payment_intent_id)

    @admin.display(description="Checkout Session in Stripe")
    def checkout_session_link(self, order):
        return stripe_dashboard_link("checkout/sessions", order.stripe_checkout_session_id)

    @admin.display(description="Feed order error")
    def feed_order_error_display(self, order):
        if not order.feed_order_error:
            return "—"
        return format_html('<pre class="feed-error">{}</pre>', order.feed_order_error)

    # ------------------------------------------------------------ views

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "attention_count": orders_needing_attention_count(),
        }
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        buttons = [
            (name, label)
            for name, label, permission in [
                ("retry_feed_order", "Retry feed order", "orders.retry_feed_order"),
                ("refund", "Refund", "orders.refund_order"),
                ("mark_resolved", "Mark resolved", "orders.resolve_order"),
            ]
            if request.user.has_perm(permission)
        ]
        extra_context = {
            **(extra_context or {}),
            "order_actions": buttons,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def _intermediate(self, request, queryset, *, template, title, action, **context):
        return TemplateResponse(
            request,
            f"admin/orders/order/{template}",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "opts": self.model._meta,
                "queryset": queryset,
                "action": action,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
                **context,
            },
        )

    # ------------------------------------------------------------ actions

    @admin.action(description="Retry feed order", permissions=["retry_feed_order"])
    def retry_feed_order(self, request, queryset):
        now = timezone.now()
        orders = list(queryset)
        skipped = [(o, why) for o in orders if (why := refusal(o, "feed_order_retried", now))]
        eligible = [o for o in orders if not refusal(o, "feed_order_retried", now)]
        risky = [o for o in eligible if outcome_unknown(o, now)]
        if risky and request.POST.get("confirm") != "yes":
            return self._intermediate(
                request,
                orders,
                template="retry_confirmation.html",
                title="Retry feed order: the last attempt's outcome is unknown",
                action="retry_feed_order",
                risky=risky,
            )

        retried = []
        for order in eligible:
            if order_feed_order_retry(
                order=order, actor=request.user, reason="Retried from admin."
            ):
                retried.append(order)
            else:
                skipped.append((order, "its state changed meanwhile; reload and check"))

        if retried:
            fresh = {o.pk: o for o in Order.objects.filter(pk__in=[o.pk for o in retried])}
            outcomes = format_html_join(
                "",
                "<br>{}: {}",
                ((o.display_number, _retry_outcome(fresh[o.pk])) for o in retried if o.pk in fresh),
            )
            self.message_user(
                request,
                format_html("Retried the feed order for {} order(s):{}", len(retried), outcomes),
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                format_html(
                    "Skipped {} order(s):{}",
                    len(skipped),
                    format_html_join(
                        "", "<br>{}: {}", ((o.display_number, why) for o, why in skipped)
                    ),
                ),
                messages.WARNING,
            )
        return None

    @admin.action(description="Refund the payment", permissions=["refund_order"])
    def refund(self, request, queryset):
        orders = list(queryset)
        now = timezone.now()
        refundable = [o for o in orders if not refusal(o, "refunded", now)]
        not_refundable = [o for o in orders if refusal(o, "refunded", now)]
        form = RefundForm(request.POST if request.POST.get("confirm") == "yes" else None)
        if not refundable:
            self.message_user(
                request,
                f"Nothing to refund: {_numbers(orders)} (only paid orders can be refunded).",
                messages.WARNING,
            )
            return None
        if not form.is_bound or not form.is_valid():
            return self._intermediate(
                request,
                orders,
                template="refund.html",
                title="Refund the payment",
                action="refund",
                form=form,
                refundable=refundable,
                not_refundable=not_refundable,
            )

        refunded = []
        for order in refundable:
            try:
                refund_id = order_refund(
                    order=order,
                    actor=request.user,
                    release_diamond=form.cleaned_data["release_diamond"],
                    reason=form.cleaned_data["reason"],
                )
            except RefundError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                continue
            refunded.append(f"{order.display_number} (refund {refund_id})")
        if refunded:
            released = form.cleaned_data["release_diamond"]
            diamonds = "released to the catalog" if released else "kept reserved"
            self.message_user(
                request,
                f"Refunded {', '.join(refunded)}; the diamond(s) {diamonds}.",
                messages.SUCCESS,
            )
        if not_refundable:
            self.message_user(
                request, f"Skipped (not paid): {_numbers(not_refundable)}.", messages.WARNING
            )
        return None

    @admin.action(description="Mark resolved", permissions=["resolve_order"])
    def mark_resolved(self, request, queryset):
        orders = list(queryset)
        form = ResolveForm(request.POST if request.POST.get("confirm") == "yes" else None)
        if not form.is_bound or not form.is_valid():
            return self._intermediate(
                request,
                orders,
                template="resolve.html",
                title="Mark resolved",
                action="mark_resolved",
                form=form,
            )
        resolved, already = [], []
        for order in orders:
            if order_resolve(order=order, actor=request.user, note=form.cleaned_data["note"]):
                resolved.append(order)
            else:
                already.append(order)
        if resolved:
            self.message_user(request, f"Marked resolved: {_numbers(resolved)}.", messages.SUCCESS)
        if already:
            self.message_user(
                request, f"Already resolved, left as they were: {_numbers(already)}.", messages.INFO
            )
        return None


def _retry_outcome(order: Order) -> str:
    if order.feed_order_status == FeedOrderStatus.SUCCESS:
        return f"confirmed, feed order {order.feed_order_id}"
    if order.feed_order_status in (FeedOrderStatus.FAILED, FeedOrderStatus.UNKNOWN):
        first_line = (order.feed_order_error or "no error recorded").splitlines()[0]
        return f"failed again: {first_line}"
    return "queued; the worker places it shortly"


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyModelAdmin):
    list_display = ["created_at", "order_link", "kind", "message", "actor", "stripe_event_id"]
    list_select_related = ["order", "actor"]
    list_filter = ["kind", "created_at"]
    search_fields = ["order__order_number", "kind", "stripe_event_id", "message"]
    readonly_fields = ["order", "created_at", "kind", "message", "actor", "stripe_event_id", "data"]
    fields = readonly_fields

    @admin.display(description="Order", ordering="order__order_number")
    def order_link(self, event):
        return admin_link(event.order, event.order.display_number)
