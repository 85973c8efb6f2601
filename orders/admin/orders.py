"""The ops dashboard: orders first, the ones that need attention on top.

Every order field is read-only; state changes go through the actions, which ask the state
machine (`orders.states`) whether they apply and call the order and payment services (each
writes the timeline with the acting user).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ERROR_FLAG
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from core.admin import ReadOnlyModelAdmin, admin_link
from core.html import html_datetime
from orders.admin.actions import (
    ACTIONS_BY_NAME,
    money_effect,
    order_actions_for,
    partial_refunds_supported,
    refundable_cents,
    retry_warning,
    run_cancel,
    run_capture,
    run_refund,
    run_resolve,
    run_retry,
)
from orders.admin.display import badge, stripe_dashboard_link
from orders.admin.export import order_csv_rows
from orders.admin.filters import (
    CreatedPeriodFilter,
    DisputeFilter,
    NeedsAttentionFilter,
    PaidPeriodFilter,
)
from orders.admin.forms import CancelForm, RefundForm, ResolveForm
from orders.admin.paging import OrdersPaginator, uses_default_order
from orders.models import Order, OrderEvent
from orders.selectors import (
    order_list_for_ops,
    order_search_q,
    order_timeline,
    orders_needing_attention_count,
    shipping_address_lines,
)
from orders.states import outcome_unknown, refusal, shopper_status

# Columns the fieldsets show through a badge, a link or a formatted field.
SHOWN_OTHERWISE = {
    "status",
    "payment_status",
    "feed_order_status",
    "feed_order_error",
    "user",
    "diamond",
    "amount_cents",
    "stripe_payment_intent_id",
    "stripe_checkout_session_id",
}


def _numbers(orders) -> str:
    return ", ".join(order.display_number for order in orders)


@admin.register(Order)
class OrderAdmin(ReadOnlyModelAdmin):
    list_display = [
        "order_number_display",
        "customer_display",
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
        PaidPeriodFilter,
        CreatedPeriodFilter,
        DisputeFilter,
        "feed",
        "created_at",
    ]
    date_hierarchy = "created_at"
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
                    "refunded_at",
                    "amount_refunded_cents",
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
                    "feed_order_attempt",
                    "feed_order_requested_at",
                    "feed_order_started_at",
                    "confirmed_at",
                    "feed_order_error_display",
                ]
            },
        ),
        ("Shipping", {"fields": ["shipping_name", "shipping_address", "shipping_phone"]}),
        ("Resolution", {"fields": ["resolved_at", "resolved_by", "resolution_note"]}),
    ]

    def get_fieldsets(self, request, obj=None):
        """The fieldsets above, plus any model field they do not name yet (new columns
        appear in the raw fields instead of being hidden)."""
        named = {name for _, options in self.fieldsets for name in options["fields"]}
        rest = [
            f.name
            for f in Order._meta.concrete_fields
            if f.name not in named and f.name not in SHOWN_OTHERWISE
        ]
        return [*self.fieldsets, *([("Other", {"fields": rest})] if rest else [])]

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

    @admin.display(description="Customer", ordering="user__email")
    def customer_display(self, order):
        email = order.user.email
        if not email or "@" not in email:
            return email or order.user.get_username()
        name, domain = email.split("@", 1)
        return format_html("{}@<wbr>{}", name, domain)

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
        local = timezone.localtime(order.created_at)
        return format_html(
            '<time datetime="{}">{}<br>{}</time>',
            html_datetime(order.created_at),
            f"{local.day} {local:%b %Y}",
            f"{local:%H:%M}",
        )

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
        rule = order.attention
        if rule is not None:
            return format_html('<strong class="attention-flag">{}</strong>', rule.sentence)
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

    def get_urls(self):
        own = [
            path(
                "export.csv",
                self.admin_site.admin_view(self.export_view),
                name="orders_order_export",
            ),
            path(
                "<path:object_id>/do/<slug:action>/",
                self.admin_site.admin_view(self.order_action_view),
                name="orders_order_action",
            ),
        ]
        return own + super().get_urls()

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        if request.GET.get(NeedsAttentionFilter.parameter_name) and uses_default_order(queryset):
            # Filtered by needs attention: the flag is the same on every row, so newest first.
            queryset = queryset.order_by("-created_at", "-pk")
        return OrdersPaginator(
            queryset,
            per_page,
            orphans,
            allow_empty_first_page,
            attention_count=getattr(request, "_attention_count", None),
        )

    def changelist_view(self, request, extra_context=None):
        query = request.GET.urlencode()
        export_url = reverse("admin:orders_order_export") + (f"?{query}" if query else "")
        # Counted once: the banner's number, and the unfiltered list's split (see paging).
        request._attention_count = orders_needing_attention_count()
        extra_context = {
            **(extra_context or {}),
            "attention_count": request._attention_count,
            "export_url": export_url,
        }
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = self.get_object(request, unquote(object_id))
        context = dict(extra_context or {})
        if order is not None and self.has_view_permission(request, order):
            context.update(self.triage_context(request, order))
        return super().change_view(request, object_id, form_url, context)

    def triage_context(self, request, order) -> dict:
        """The order page's top: the summary card, the buttons that apply, the error, the
        timeline."""
        now = timezone.now()
        rule = order.attention
        told = shopper_status(order)
        buttons = [
            {
                "action": action,
                "url": reverse("admin:orders_order_action", args=[order.pk, action.name]),
            }
            for action in order_actions_for(user=request.user, order=order, now=now)
        ]
        customer = order.user
        return {
            "order": order,
            "attention_rule": rule,
            "shopper_told": told,
            "shipping_lines": shipping_address_lines(order=order),
            "order_buttons": buttons,
            "timeline": order_timeline(order=order),
            "customer_url": (
                reverse("admin:auth_user_change", args=[customer.pk])
                if request.user.has_perm("auth.view_user")
                else ""
            ),
            "diamond_url": (
                reverse("admin:catalog_diamond_change", args=[order.diamond_id])
                if request.user.has_perm("catalog.view_diamond")
                else ""
            ),
            "payment_link": stripe_dashboard_link("payments", order.stripe_payment_intent_id),
            "refunded_display": (
                order.amount_refunded_cents
                and f"${order.amount_refunded_cents / 100:,.2f} {order.currency.upper()}"
            ),
            "badges": [
                ("Status", self.status_badge(order)),
                ("Payment", self.payment_badge(order)),
                ("Feed order", self.feed_order_badge(order)),
            ],
        }

    def order_action_view(self, request, object_id, action):
        """One action on one order: a POST from its button shows the confirmation page
        (what it does to the customer's money); confirming runs it, writes the admin history
        and returns to the order with its true outcome."""
        order_action = ACTIONS_BY_NAME.get(action)
        order = self.get_object(request, unquote(object_id))
        if order_action is None or order is None or not order_action.known:
            raise Http404("No such order or action.")
        if not request.user.has_perm(order_action.permission):
            raise PermissionDenied
        order_url = reverse("admin:orders_order_change", args=[order.pk])
        if request.method != "POST":
            return HttpResponseRedirect(order_url)
        now = timezone.now()
        why_not = order_action.refusal(order, now)
        if why_not:
            self.message_user(
                request,
                f"{order_action.label}: not available for {order.display_number}: {why_not}.",
                messages.WARNING,
            )
            return HttpResponseRedirect(order_url)

        form = self._action_form(order_action, order, request)
        if request.POST.get("confirm") != "yes" or (form is not None and not form.is_valid()):
            return TemplateResponse(
                request,
                "admin/orders/order/action_confirm.html",
                {
                    **self.admin_site.each_context(request),
                    "title": f"{order_action.label}: {order.display_number}",
                    "opts": self.opts,
                    "original": order,
                    "order": order,
                    "order_action": order_action,
                    "effect": money_effect(order_action, order),
                    "unknown_outcome": order_action.name == "retry" and retry_warning(order, now),
                    "form": form,
                    "order_url": order_url,
                    "amount": order.amount_display,
                },
            )
        outcome = self._run(order_action, order, request.user, form)
        self.log_change(request, order, f"{order_action.label}: {outcome.message}")
        self.message_user(request, outcome.message, outcome.level)
        return HttpResponseRedirect(order_url)

    def _action_form(self, order_action, order, request):
        data = request.POST if request.POST.get("confirm") == "yes" else None
        if order_action.name == "refund":
            return RefundForm(
                data,
                rest_cents=refundable_cents(order),
                partial=partial_refunds_supported(),
            )
        if order_action.name == "cancel":
            return CancelForm(data)
        if order_action.name == "resolve":
            return ResolveForm(data)
        if data is None and order_action.name in ("retry", "capture"):
            return None
        return None

    def _run(self, order_action, order, user, form):
        if order_action.name == "retry":
            return run_retry(order=order, actor=user)
        if order_action.name == "capture":
            return run_capture(order=order, actor=user)
        if order_action.name == "cancel":
            return run_cancel(order=order, actor=user, reason=form.cleaned_data["reason"])
        if order_action.name == "refund":
            data = form.cleaned_data
            return run_refund(
                order=order,
                actor=user,
                release_diamond=data["release_diamond"],
                reason=data["reason"],
                amount_cents=data.get("amount_cents"),
            )
        return run_resolve(order=order, actor=user, note=form.cleaned_data["note"])

    def export_view(self, request):
        """The orders list as CSV: exactly the rows its filters and search select, streamed
        from a database cursor so 100,000 rows take neither the time-out nor the memory."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            # The list's own answer to a filter it cannot apply: back to the list, flagged.
            changelist_url = reverse("admin:orders_order_changelist")
            return HttpResponseRedirect(f"{changelist_url}?{ERROR_FLAG}=1")
        queryset = changelist.get_queryset(request)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response = StreamingHttpResponse(order_csv_rows(queryset), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="orders-{stamp}.csv"'
        return response

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

    # ------------------------------------------------------------ bulk actions (the list)

    def _report(self, request, outcomes, *, heading):
        """One message per outcome level, so a failure is never inside a green banner."""
        by_level = {}
        for order, outcome in outcomes:
            self.log_change(request, order, f"{heading}: {outcome.message}")
            by_level.setdefault(outcome.level, []).append(outcome.message)
        titles = {
            messages.SUCCESS: "{heading} for {n} order(s):",
            messages.INFO: "{heading} for {n} order(s):",
            messages.WARNING: "{heading} for {n} order(s), not as hoped:",
            messages.ERROR: "{heading}: {n} order(s) failed:",
        }
        for level in (messages.SUCCESS, messages.INFO, messages.WARNING, messages.ERROR):
            if level in by_level:
                lines = by_level[level]
                self.message_user(
                    request,
                    format_html(
                        "{}{}",
                        titles[level].format(heading=heading, n=len(lines)),
                        format_html_join("", "<br>{}", ((line,) for line in lines)),
                    ),
                    level,
                )

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
        outcomes = [(order, run_retry(order=order, actor=request.user)) for order in eligible]
        self._report(request, outcomes, heading="Retried the feed order")
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
        form = RefundForm(
            request.POST if request.POST.get("confirm") == "yes" else None, partial=False
        )
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
        outcomes = [
            (
                order,
                run_refund(
                    order=order,
                    actor=request.user,
                    release_diamond=form.cleaned_data["release_diamond"],
                    reason=form.cleaned_data["reason"],
                    amount_cents=None,
                ),
            )
            for order in refundable
        ]
        self._report(request, outcomes, heading="Refunded")
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
        outcomes = [
            (order, run_resolve(order=order, actor=request.user, note=form.cleaned_data["note"]))
            for order in orders
        ]
        self._report(request, outcomes, heading="Marked resolved")
        return None


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
