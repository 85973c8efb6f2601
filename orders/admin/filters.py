from django.contrib import admin
from django.utils import timezone

from orders.selectors.dashboard import created_period_q, open_dispute_q, paid_period_q
from orders.selectors.fulfilment import OVERDUE, QUEUES, queue_q, supplier_days
from orders.states import ATTENTION_RULES, attention_q


class NeedsAttentionFilter(admin.SimpleListFilter):
    title = "needs attention"
    parameter_name = "needs_attention"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")] + [
            (rule.reason, rule.reason.replace("_", " ").capitalize()) for rule in ATTENTION_RULES
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "yes":
            return queryset.filter(attention_q(now))
        if self.value() == "no":
            return queryset.exclude(attention_q(now))
        for rule in ATTENTION_RULES:
            if self.value() == rule.reason:
                return queryset.filter(rule.q(now))
        return queryset


class _PeriodFilter(admin.SimpleListFilter):
    """The dashboard's periods, in the store's days (settings.TIME_ZONE)."""

    periods = [("today", "Today"), ("7d", "Last 7 days"), ("30d", "Last 30 days")]

    def lookups(self, request, model_admin):
        return self.periods

    def condition(self, value, now):
        raise NotImplementedError

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        condition = self.condition(self.value(), timezone.now())
        return queryset if condition is None else queryset.filter(condition)


class PaidPeriodFilter(_PeriodFilter):
    title = "paid"
    parameter_name = "paid"
    periods = [("any", "Paid (any time)"), *_PeriodFilter.periods]

    def condition(self, value, now):
        return paid_period_q(value, now)


class CreatedPeriodFilter(_PeriodFilter):
    title = "checkout started"
    parameter_name = "created"

    def condition(self, value, now):
        return created_period_q(value, now)


class DisputeFilter(admin.SimpleListFilter):
    title = "dispute"
    parameter_name = "dispute"

    def lookups(self, request, model_admin):
        return [("open", "Open dispute"), ("any", "Any dispute")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(open_dispute_q())
        if self.value() == "any":
            return queryset.exclude(dispute_status="")
        return queryset


class QueueFilter(admin.SimpleListFilter):
    """The dashboard's fulfilment queues (orders/selectors/fulfilment.py)."""

    title = "fulfilment queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [(queue.key, queue.label) for queue in QUEUES] + [
            (OVERDUE, f"Stone overdue (over {supplier_days()} days)")
        ]

    def queryset(self, request, queryset):
        condition = None if self.value() is None else queue_q(self.value(), timezone.now())
        return queryset if condition is None else queryset.filter(condition)
