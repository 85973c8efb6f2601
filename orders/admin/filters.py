from django.contrib import admin
from django.utils import timezone

from orders.states import ATTENTION_RULES, attention_q


class NeedsAttentionFilter(admin.SimpleListFilter):
    title = "needs attention"
    parameter_name = "needs_attention"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")] + [
            (rule.reason, rule.sentence.split(",")[-1].strip(" .").capitalize())
            for rule in ATTENTION_RULES
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
