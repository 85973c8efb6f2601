from django import template

from accounts import selectors

register = template.Library()


@register.filter
def customer_name(user) -> str:
    """`{{ user|customer_name }}`: the customer's name as every page and email uses it."""
    return selectors.customer_name(user)
