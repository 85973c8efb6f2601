"""The ops dashboard: orders first, the ones that need attention on top.

Every order field is read-only; state changes go through the actions, which call the order
and payment services (each writes the timeline with the acting user).
"""

from __future__ import annotations

import contextlib
import uuid

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.db.models import BooleanField, Case, Q, Value, When
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from catalog.models import Diamond, Feed
from config.admin import ReadOnlyModelAdmin, ReadOnlyPermissions, admin_link
from orders.models import (
    FEED_ORDER_STALL_AFTER,
    FeedOrderStatus,
    Order,
    OrderEvent,
    PaymentStatus,
    Status,
    needs_attention_q,
)
from orders.services import order_feed_order_retry, order_feed_outcome_unknown, order_resolve
from payments.services import RefundError, order_refund

# The dashboard needs the width for its columns; the index and breadcrumbs navigate.
admin.site.enable_nav_sidebar = False
admin.site.site_header = "Diamond store ops"
admin.site.site_title = "Diamond store ops"
admin.site.index_title = "Ops dashboard"

# ---------------------------------------------------------------- badges

GREEN, YELLOW, RED, GREY, BLUE = "green", "yellow", "red", "grey", "blue"

BADGE_TONES = {
    "paid": GREEN,
    "success": GREEN,
    "confirmed": GREEN,
    "pending": YELLOW,
    "pending_payment": YELLOW,
    "failed": RED,
    "expired": RED,
    "not_attempted": GREY,
    # Closed by ops: money went back (blue, informational), the order is off (grey).
    "refunded": BLUE,
    "cancelled": GREY,
}


def badge(value: str, label: str):
    tone = BADGE_TONES.get(value, GREY)
    return format_html('<span class="badge badge-{} badge-is-{}">{}</span>', tone, value, label)


def needs_attention_annotation():
    return Case(
        When(needs_attention_q(), then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )


def orders_needing_attention_count() -> int:
    return Order.objects.needs_attention().count()


def stripe_dashboard_url(kind: str, object_id: str) -> str:
    mode = "" if settings.STRIPE_SECRET_KEY.startswith("sk_live") else "/test"
    return f"https://dashboard.stripe.com{mode}/{kind}/{object_id}"


SIMULATED_PREFIXES = ("cs_sim_", "pi_sim_")


def stripe_dashboard_link(kind: str, object_id: str):
    if not object_id:
        return "—"
    if object_id.startswith(SIMULATED_PREFIXES):
        return format_html(
            '{} <span class="quiet">(payment simulator, not in Stripe)</span>', object_id
        )
    return format_html(
        '<a href="{}" target="_blank" rel="noopener">{}</a>',
        stripe_dashboard_url(kind, object_id),
        object_id,
    )


# ---------------------------------------------------------------- search


def order_search_q(term: str) -> Q:
    """Orders whose identifiers equal `term`, each compared on its indexed column: order
    number (any case), Checkout Session id, payment intent, diamond id, the supplier's stone
    id, or the customer's email (any case). Stones and customers are looked up first, so the
    orders are found through their indexes, never by scanning every order."""
    q = (
        Q(order_number__in={term, term.upper()})
        | Q(stripe_checkout_session_id=term)
        | Q(stripe_payment_intent_id=term)
    )
    with contextlib.suppress(ValueError):
        q |= Q(diamond_id=uuid.UUID(term))
    stones = Diamond.objects.filter(feed__in=Feed.values, supplier_stone_id=term)
    q |= Q(diamond_id__in=list(stones.values_list("pk", flat=True)))
    if "@" in term:
        customers = get_user_model().objects.filter(email__iexact=term)
        q |= Q(user_id__in=list(customers.values_list("pk", flat=True)))
    return q


# ---------------------------------------------------------------- filters


class NeedsAttentionFilter(admin.SimpleListFilter):
    title = "needs attention"
    parameter_name = "needs_attention"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(needs_attention_q())
        if self.value() == "no":
            return queryset.exclude(needs_attention_q())
        return queryset


# ---------------------------------------------------------------- action forms


class RefundForm(forms.Form):
    release_diamond = forms.TypedChoiceField(
        label="The diamond",
        choices=[
            ("yes", "Release it back to the catalog (available to other shoppers)"),
            ("no", "Keep it reserved"),
        ],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label="Reason", widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), max_length=500
    )


class ResolveForm(forms.Form):
    note = forms.CharField(
        label="Resolution note",
        help_text="What was done and why no further action is needed. Kept in the timeline.",
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
    )


# ---------------------------------------------------------------- timeline inline


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


# ---------------------------------------------------------------- orders


def _skip_reason_for_retry(order: Order, now) -> str | None:
    """Why the retry would not (or must not) run for `order`, in ops' words; None when it can."""
    if order.payment_status != PaymentStatus.PAID:
        return f"payment is {order.get_payment_status_display().lower()}, not paid"
    if order.status != Status.PAID:
        return f"order is {order.get_status_display().lower()}"
    if order.feed_order_status == FeedOrderStatus.NOT_ATTEMPTED:
        return "the payment did not match the order, so no feed order is placed; refund or resolve"
    if order.feed_order_status == FeedOrderStatus.SUCCESS:
        return "the feed order was already placed"
    if order.feed_order_status == FeedOrderStatus.PENDING and (
        order.feed_order_requested_at is None
        or order.feed_order_requested_at >= now - FEED_ORDER_STALL_AFTER
    ):
        return "a feed-order attempt is in progress; wait for it (stalled after 10 minutes)"
    return None


def _outcome_unknown(order: Order, now) -> bool:
    """The supplier may already have this order: the last attempt timed out, or a worker
    took a (now stalled) attempt on and never reported back."""
    if order_feed_outcome_unknown(order):
        return True
    return (
        order.feed_order_status == FeedOrderStatus.PENDING
        and order.feed_order_started_at is not None
        and order.feed_order_requested_at is not None
        and order.feed_order_requested_at < now - FEED_ORDER_STALL_AFTER
    )


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
        queryset = (
            Order.objects.select_related("user", "diamond", "resolved_by")
            .annotate(attention=needs_attention_annotation())
            .order_by(*self.get_ordering(request))
        )
        return queryset

    def get_ordering(self, request):
        return ["-attention", "-created_at"]

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
        skipped = [(o, reason) for o in orders if (reason := _skip_reason_for_retry(o, now))]
        eligible = [o for o in orders if not _skip_reason_for_retry(o, now)]
        risky = [o for o in eligible if _outcome_unknown(o, now)]
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
        refundable = [o for o in orders if o.payment_status == PaymentStatus.PAID]
        not_refundable = [o for o in orders if o.payment_status != PaymentStatus.PAID]
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
    if order.feed_order_status == FeedOrderStatus.FAILED:
        first_line = (order.feed_order_error or "no error recorded").splitlines()[0]
        return f"failed again: {first_line}"
    return "queued; the worker places it shortly"


# ---------------------------------------------------------------- the timeline on its own


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


def attention_filter_url() -> str:
    return reverse("admin:orders_order_changelist") + "?needs_attention=yes"
