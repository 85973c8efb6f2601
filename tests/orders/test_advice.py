"""Advice that matches the buttons: for every needs-attention reason and legal state, every
action the advice names is offered on that order's admin page, and the reason's own sentence
names none. Reasons and states come from `orders.states`, so a new one is covered here."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders.admin.actions import ORDER_ACTIONS
from orders.advice import order_advice
from orders.models import Order
from orders.states import ATTENTION_RULES, COLUMNS, LEGAL
from tests.factories import StaffFactory, order_in_state

pytestmark = pytest.mark.django_db

# The verbs of the admin's actions: a reason's sentence states facts and says none of them.
ACTION_WORDS = re.compile(r"\b(retry|capture|cancel|refund|resolve|void|release)\b", re.I)


def pairs():
    """(reason, state) for every rule whose state columns the state may match."""
    found = []
    for rule in ATTENTION_RULES:
        for state in sorted(LEGAL):
            columns = dict(zip(COLUMNS, state, strict=True))
            if all(
                columns[name] in (value if isinstance(value, tuple) else (value,))
                for name, value in rule.match.items()
                if name in columns
            ):
                found.append((rule, state))
    return found


def order_for(rule, state) -> Order:
    """An order in `state` for which `rule` holds."""
    order = order_in_state(state)
    now = timezone.now()
    fields = {}
    for name, value in rule.match.items():
        if name not in COLUMNS:
            fields[name] = value[0] if isinstance(value, tuple) else value
    if rule.stale:
        fields[rule.stale[0]] = now - rule._age() - timedelta(hours=1)
    for name in rule.present:
        fields[name] = now
    for name in rule.empty:
        fields[name] = None
    for name in rule.nonblank:
        fields[name] = "Stripe said no."
    Order.objects.filter(pk=order.pk).update(**fields)
    order = Order.objects.get(pk=order.pk)
    return order


def test_every_reason_is_checked_in_some_state():
    assert {rule.reason for rule, _ in pairs()} == {rule.reason for rule in ATTENTION_RULES}


@pytest.mark.parametrize(
    ("rule", "state"), pairs(), ids=[f"{r.reason}-{'/'.join(s)}" for r, s in pairs()]
)
def test_the_advice_names_only_actions_the_order_page_offers(rule, state):
    order = order_for(rule, state)
    now = timezone.now()
    assert rule.holds(order, now)
    assert not ACTION_WORDS.search(rule.sentence), rule.sentence

    advice = order_advice(order=order, now=now)
    client = Client()
    client.force_login(StaffFactory())
    page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    buttons = set(
        re.findall(r'<button type="submit" class="order-actions__button[^"]*">([^<]+)<', page)
    )

    named = {action.label for action in ORDER_ACTIONS if action.label in advice}
    assert named, f"{rule.reason}: the advice names no action: {advice}"
    assert named <= buttons, f"{rule.reason}: advice {advice!r} but the page offers {buttons}"
    # No refund advice where only the hold can be released.
    if order.payment_status == "authorized":
        assert not re.search(r"\brefund", advice, re.I), advice


def test_the_advice_knows_the_admins_actions_as_they_are():
    from orders.advice import ACTIONS

    assert [(a.name, a.label, a.moves, a.when_attention) for a in ORDER_ACTIONS] == list(ACTIONS)
