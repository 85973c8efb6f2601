"""The diamond page's purchase box: what this shopper may do with the stone (catalog's
templates load it, so the catalog itself never reads orders)."""

from django import template

from orders.selectors.purchase import diamond_purchase_state

register = template.Library()


@register.simple_tag(takes_context=True)
def purchase_state(context, diamond):
    return diamond_purchase_state(diamond=diamond, user=context["request"].user)
