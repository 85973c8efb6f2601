from django import template

from orders.selectors import attention_filter_url, orders_needing_attention_count

register = template.Library()


@register.inclusion_tag("admin/orders/attention_banner.html", takes_context=True)
def attention_banner(context, count=None):
    """'N orders need attention', linking to the filtered orders list (calm when 0)."""
    user = context["request"].user
    if not user.has_perm("orders.view_order"):
        return {"visible": False}
    if count is None:
        count = orders_needing_attention_count()
    return {"visible": True, "count": count, "url": attention_filter_url()}
