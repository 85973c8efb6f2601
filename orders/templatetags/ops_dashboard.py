from django import template

from core.money import money_display
from orders.admin.charts import daily_chart, funnel_chart
from orders.admin.dates import date_hierarchy_node
from orders.selectors.ops import attention_filter_url, orders_needing_attention_count

register = template.Library()
register.tag("ops_date_hierarchy", date_hierarchy_node)


@register.inclusion_tag("admin/orders/attention_banner.html", takes_context=True)
def attention_banner(context, count=None):
    """'N orders need attention', linking to the filtered orders list (calm when 0)."""
    user = context["request"].user
    if not user.has_perm("orders.view_order"):
        return {"visible": False}
    if count is None:
        count = orders_needing_attention_count()
    return {"visible": True, "count": count, "url": attention_filter_url()}


@register.inclusion_tag("admin/orders/dashboard/daily_chart.html")
def daily_orders_chart(dashboard):
    """Paid orders and revenue per store day for 30 days, as SVG with a table beneath."""
    return {
        "chart": daily_chart(dashboard.days, timezone_name=dashboard.timezone_name),
        "days": dashboard.days,
    }


@register.inclusion_tag("admin/orders/dashboard/funnel_chart.html")
def funnel(dashboard):
    """Checkouts started → paid → confirmed over the last 30 days, as SVG and a table."""
    return {"chart": funnel_chart(dashboard.funnel)}


@register.filter
def nzd(cents) -> str:
    return money_display(cents, code=False)
