"""One truth on every page: for every legal state of the state table (and an open checkout
before and after its `expires_at`, and one whose delayed payment is settling), every shopper
page — the success page, the order page, *My orders*, the stone page for its owner and for
another shopper — and every email the state sends use the same words, and none contradicts
another.

The states and the emails come from `orders.states.LEGAL` and `TRANSITIONS` (with
`orders.emails.EMAIL_FOR_EVENT`), so a state or move added to the table is covered here
without editing this file."""

from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from catalog.models import Availability
from gateway.base import checkout_lifetime
from orders.emails import EMAIL_FOR_EVENT, order_email_render
from orders.models import Order, OrderEvent, PaymentStatus, Status
from orders.selectors.shopper import PAYMENT_PROCESSING_EVENT, order_shopper_status
from orders.states import LEGAL, TRANSITIONS
from tests.factories import PASSWORD, UserFactory, order_in_state

pytestmark = pytest.mark.django_db

OPEN = ("pending_payment", "pending", "not_attempted", "not_started")
# Words that say the checkout is still open, and words that say it closed.
OPEN_WORDS = (
    "Awaiting payment",
    "Complete payment",
    "Continue to payment",
    "held for you",
    "checking out this diamond",
    "Your checkout is open",
)
CLOSED_WORDS = ("Checkout expired", "checkout expired", "checkout has closed", "Checkout Expired")


def emails_for(state: tuple[str, str, str]) -> set[str]:
    """The emails a move into `state` sends, read off the state table."""
    kinds = set()
    for transition in TRANSITIONS.values():
        email = EMAIL_FOR_EVENT.get(transition.kind)
        if not email:
            continue
        for source in LEGAL:
            if transition.admits(source) and transition.apply(source) == state:
                kinds.add(email)
    return kinds


def cases() -> list[tuple[str, tuple[str, str, str], str]]:
    """(id, state, variant): every legal state; an open checkout also past its expiry and
    with a delayed payment settling."""
    found = [("/".join(state), state, "") for state in sorted(LEGAL)]
    found += [("open-past-expires_at", OPEN, "expired"), ("open-settling", OPEN, "processing")]
    return found


def text_of(page: str) -> str:
    """A page's visible words (tags, scripts and styles removed)."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html_lib.unescape(page))


def client_for(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def stone_availability(order: Order) -> str:
    if (
        order.status in (Status.PENDING_PAYMENT, Status.PAID)
        and order.feed_order_status != "success"
    ):
        return Availability.RESERVED
    if order.feed_order_status == "success":
        return Availability.SOLD
    return Availability.AVAILABLE


def make_order(state, variant) -> Order:
    owner = UserFactory(first_name="Aroha", last_name="Smith")
    order = order_in_state(state, user=owner)
    if variant == "expired":
        past = timezone.now() - checkout_lifetime() - timedelta(minutes=1)
        Order.objects.filter(pk=order.pk).update(created_at=past)
    if variant == "processing":
        OrderEvent.objects.create(order=order, kind=PAYMENT_PROCESSING_EVENT)
    order.diamond.availability = stone_availability(order)
    order.diamond.save(update_fields=["availability"])
    return Order.objects.get(pk=order.pk)


@pytest.mark.parametrize(
    ("state", "variant"), [c[1:] for c in cases()], ids=[c[0] for c in cases()]
)
def test_every_page_and_email_tells_the_same_story(state, variant):
    order = make_order(state, variant)
    words = order_shopper_status(order=order)
    owner, other = client_for(order.user), client_for(UserFactory())
    stone_url = order.diamond.get_absolute_url()

    pages = {
        "my orders": owner.get(reverse("orders:list")),
        "order page": owner.get(reverse("orders:detail", args=[order.order_number])),
        "success page": owner.get(
            "/checkout/success/", {"order": order.order_number, "session_id": "cs_not_this"}
        ),
        "stone page (owner)": owner.get(stone_url),
        "stone page (another shopper)": other.get(stone_url),
    }
    texts = {}
    for name, response in pages.items():
        assert response.status_code == 200, name
        texts[name] = text_of(response.content.decode())
    for kind in sorted(emails_for(state) | ({"payment_processing"} if variant else set())):
        if variant == "expired":
            continue  # an abandoned checkout sends no email
        _subject, text, html = order_email_render(kind=kind, order=order)
        texts[f"email {kind} (text)"] = text_of(text)
        texts[f"email {kind} (html)"] = text_of(html)

    # The same words: the badge on every page that shows one, and in every email.
    for name, text in texts.items():
        if not name.startswith("stone page"):
            assert words.label in text, f"{name} does not say {words.label!r}"
    assert words.detail in texts["order page"]

    # No contradictions.
    everything = " | ".join(texts.values())
    if any(word in everything for word in CLOSED_WORDS):
        for name, text in texts.items():
            said = [word for word in OPEN_WORDS if word in text]
            assert not said, f"{name} says {said} beside a closed checkout"
    if words.label == "Awaiting payment":
        for name, text in texts.items():
            said = [word for word in CLOSED_WORDS if word in text]
            assert not said, f"{name} says {said} beside an open checkout"
    if "Payment Successful" in everything:
        taken = (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED)
        assert order.status in (Status.PAID, Status.CONFIRMED)
        assert order.payment_status in taken, "Payment Successful for money not taken"
    if order.payment_status == PaymentStatus.AUTHORIZED:
        assert "authorised" in texts["success page"].lower()
    if words.label == "Confirmed":
        assert "being processed" not in everything


def test_an_open_checkout_turns_expired_at_its_expires_at_everywhere_at_once():
    order = make_order(OPEN, "")
    assert order_shopper_status(order=order).label == "Awaiting payment"

    at_expiry = order.created_at + checkout_lifetime()
    assert order_shopper_status(order=order, now=at_expiry).label == "Checkout expired"
    assert order_shopper_status(order=order, now=at_expiry - timedelta(seconds=1)).label == (
        "Awaiting payment"
    )
