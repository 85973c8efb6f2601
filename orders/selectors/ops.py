"""What ops read in the admin's orders list and order page."""

from __future__ import annotations

import contextlib
import uuid

from django.contrib.auth import get_user_model
from django.db.models import BooleanField, Case, Q, QuerySet, Value, When
from django.urls import reverse
from django.utils import timezone

from catalog.models import Diamond, Feed
from orders.models import Order, OrderEvent
from orders.states import attention_q


def order_list_for_ops() -> QuerySet[Order]:
    """Every order with what the dashboard shows, and `attention` for sorting those first."""
    return Order.objects.select_related("user", "diamond", "resolved_by").annotate(
        attention_first=Case(
            When(attention_q(timezone.now()), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def orders_needing_attention_count() -> int:
    return Order.objects.needs_attention().count()


def attention_filter_url() -> str:
    return reverse("admin:orders_order_changelist") + "?needs_attention=yes"


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


def order_timeline(*, order: Order) -> QuerySet[OrderEvent]:
    return order.events.select_related("actor").order_by("created_at", "id")
