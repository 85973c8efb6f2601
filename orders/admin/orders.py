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

from accounts.selectors import customer_name
from core.admin import ReadOnlyModelAdmin, admin_link
from core.html import html_datetime
from core.money import money_display
from orders.admin.actions import ACTIONS_BY_NAME, ORDER_ACTIONS, OrderAction, order_actions_for
from orders.admin.display import badge, event_words, stripe_dashboard_link
from orders.admin.export import order_csv_rows
from orders.admin.filters import (
    CreatedPeriodFilter,
    DisputeFilter,
    NeedsAttentionFilter,
    PaidPeriodFilter,
    QueueFilter,
)
from orders.admin.paging import OrdersPaginator, uses_default_order
from orders.advice import order_next_steps
from orders.carriers import carrier_name, order_tracking_url
from orders.models import FulfilmentStatus, Order, OrderEvent
from orders.selectors.ops import (
    order_list_for_ops,
    order_search_q,
    order_timeline,
    orders_needing_attention_count,
)
from orders.selectors.shopper import order_shopper_status, shipping_address_lines

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
        QueueFilter,
        "fulfilment_status",
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
    actions = []  # the order actions, added per user by get_actions
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
        (
            "Fulfilment",
            {
                "fields": [
                    "fulfilment_status",
                    "received_at",
                    "shipped_at",
                    "carrier",
                    "tracking_number",
                    "tracking_link",
                    "delivered_at",
                    "return_requested_at",
                    "return_reason",
                    "returned_at",
                ]
            },
        ),
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
            return customer_name(order.user)
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
        if order.status == "paid" and order.payment_status == "authorized":
            # Not green "Paid": the card is only held, nothing is charged yet.
            return badge("pending", "Authorised")
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
            "tracking_link",
        ]
        return [*model_fields, *computed]

    @admin.display(description="Tracking")
    def tracking_link(self, order):
        url = order_tracking_url(order)
        if not url:
            return "—"
        return format_html('<a href="{}" rel="noopener" target="_blank">{}</a>', url, url)

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
        label = f"{customer_name(user)} <{user.email}>" if user.email else customer_name(user)
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
        told = order_shopper_status(order=order, now=now)
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
            "next_steps": order_next_steps(order=order, now=now) if rule else "",
            "dispute_words": order.dispute_status.replace("_", " "),
            "shopper_told": told,
            "shipping_lines": shipping_address_lines(order=order),
            "order_buttons": buttons,
            "timeline": [(event, event_words(event.kind)) for event in order_timeline(order=order)],
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
                and money_display(order.amount_refunded_cents, order.currency)
            ),
            "badges": [
                ("Status", self.status_badge(order)),
                ("Payment", self.payment_badge(order)),
                ("Feed order", self.feed_order_badge(order)),
                *(
                    [
                        (
                            "Stone",
                            badge(order.fulfilment_status, order.get_fulfilment_status_display()),
                        )
                    ]
                    if order.fulfilment_status != FulfilmentStatus.NOT_STARTED
                    else []
                ),
            ],
            "carrier_name": carrier_name(order.carrier),
            "tracking_url": order_tracking_url(order),
        }

    def order_action_view(self, request, object_id, action):
        """One action on one order: a POST from its button shows the confirmation page
        (what it does to the customer's money); confirming runs it, writes the admin history
        and returns to the order with its true outcome."""
        order_action = ACTIONS_BY_NAME.get(action)
        order = self.get_object(request, unquote(object_id))
        if order_action is None or order is None:
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

        data = request.POST if request.POST.get("confirm") == "yes" else None
        form = order_action.form(order, data, bulk=False)
        if data is None or (form is not None and not form.is_valid()):
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
                    "effect": order_action.effect(order),
                    "unknown_outcome": order_action.warns(order, now),
                    "form": form,
                    "order_url": order_url,
                    "amount": order.amount_display,
                },
            )
        outcome = order_action.run(
            order=order, actor=request.user, data=form.cleaned_data if form else {}
        )
        self.log_change(request, order, f"{order_action.label}: {outcome.message}")
        self.message_user(request, outcome.message, outcome.level)
        return HttpResponseRedirect(order_url)

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

    def get_actions(self, request):
        """The order actions this user may run, in the list's action menu: the same
        `OrderAction`s as the order page's buttons."""
        actions = super().get_actions(request)
        for order_action in ORDER_ACTIONS:
            if order_action.bulk and request.user.has_perm(order_action.permission):
                actions[order_action.name] = (
                    self._bulk_action(order_action),
                    order_action.name,
                    order_action.label,
                )
        return actions

    @staticmethod
    def _bulk_action(order_action: OrderAction):
        def bulk(modeladmin, request, queryset):
            return modeladmin.order_action_bulk(request, queryset, order_action)

        return bulk

    def order_action_bulk(self, request, queryset, order_action: OrderAction):
        """One action on the selected orders: a confirmation page (the orders it applies to,
        what it does to each one's money, those it skips and why, its form); confirming runs
        it on each and reports every outcome."""
        now = timezone.now()
        orders = list(queryset.select_related("diamond", "user"))
        eligible = [order for order in orders if order_action.applies(order, now)]
        skipped = [(order, order_action.refusal(order, now)) for order in orders]
        skipped = [(order, why) for order, why in skipped if why]
        if not eligible:
            self.message_user(
                request,
                format_html(
                    "{}: nothing to do.{}",
                    order_action.label,
                    format_html_join("", "<br>{}: {}", ((o.display_number, w) for o, w in skipped)),
                ),
                messages.WARNING,
            )
            return None
        data = request.POST if request.POST.get("confirm") == "yes" else None
        form = order_action.form(eligible[0], data, bulk=True)
        if data is None or (form is not None and not form.is_valid()):
            return TemplateResponse(
                request,
                "admin/orders/order/bulk_confirm.html",
                {
                    **self.admin_site.each_context(request),
                    "title": f"{order_action.label}: {len(eligible)} order(s)",
                    "opts": self.opts,
                    "order_action": order_action,
                    "queryset": orders,
                    "eligible": [(order, order_action.effect(order)) for order in eligible],
                    "risky": [order for order in eligible if order_action.warns(order, now)],
                    "skipped": skipped,
                    "form": form,
                    "action_checkbox_name": ACTION_CHECKBOX_NAME,
                },
            )
        cleaned = form.cleaned_data if form else {}
        outcomes = [
            (order, order_action.run(order=order, actor=request.user, data=cleaned))
            for order in eligible
        ]
        self._report(request, outcomes, heading=order_action.done)
        if skipped:
            self.message_user(
                request,
                format_html(
                    "Skipped {} order(s):{}",
                    len(skipped),
                    format_html_join("", "<br>{}: {}", ((o.display_number, w) for o, w in skipped)),
                ),
                messages.WARNING,
            )
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
