"""A shopper who deletes their account (`accounts`): the Stripe events the store recorded
about them keep their ids, types, amounts and outcomes, but lose every personal detail —
the customer's and the card's details, shipping and billing names, addresses, emails and
phones, receipts, dispute evidence. Connected to `accounts.signals` in PaymentsConfig.ready.

The events are found by the shopper's orders (Checkout Session and PaymentIntent ids) and by
their email address anywhere in a payload.
"""

from __future__ import annotations

from django.db.models import Q
from django.dispatch import receiver

from accounts.signals import personal_data_erase
from orders.models import Order
from payments.models import WebhookEvent

# Keys whose whole value is about the person, wherever they appear in a Stripe object.
PERSONAL_KEYS = frozenset(
    {
        "address",
        "billing_details",
        "collected_information",
        "customer_details",
        "customer_email",
        "email",
        "evidence",
        "payment_method_details",
        "phone",
        "receipt_email",
        "receipt_url",
        "shipping",
        "shipping_details",
    }
)


def stripe_object_scrub(value):
    """`value` (a Stripe payload) with every PERSONAL_KEYS value set to None."""
    if isinstance(value, dict):
        return {
            key: None if key in PERSONAL_KEYS else stripe_object_scrub(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [stripe_object_scrub(item) for item in value]
    return value


def webhook_events_personal_data_erase(*, user) -> int:
    """Scrub the shopper's personal data from the recorded Stripe events; returns how many
    events changed."""
    orders = Order.objects.filter(user=user)
    sessions = [s for s in orders.values_list("stripe_checkout_session_id", flat=True) if s]
    intents = [i for i in orders.values_list("stripe_payment_intent_id", flat=True) if i]
    about_them = (
        Q(checkout_session_id__in=sessions)
        | Q(payload__data__object__id__in=[*sessions, *intents])
        | Q(payload__data__object__payment_intent__in=intents)
    )
    if user.email:
        about_them |= Q(payload__icontains=user.email)
    changed = 0
    for event in WebhookEvent.objects.filter(about_them).only("pk", "payload"):
        scrubbed = stripe_object_scrub(event.payload)
        if scrubbed != event.payload:
            changed += WebhookEvent.objects.filter(pk=event.pk).update(payload=scrubbed)
    return changed


@receiver(personal_data_erase)
def _erase_from_webhook_events(sender, user, **kwargs) -> None:
    webhook_events_personal_data_erase(user=user)
