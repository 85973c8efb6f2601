"""What Stripe's objects look like, to hold the double and the builders to it.

`FIELDS`: the top-level fields of each object Stripe publishes, taken from the example objects
in Stripe's OpenAPI repository (github.com/stripe/openapi, `openapi/fixtures3.json`, as last
changed on 2026-07-29 with API version 2026-07-29.dahlia): the fields Stripe always sends,
nulls included. This list is the authority on which fields an object has. The `stripe`
package's classes declare a few more, which Stripe sends only where they apply (`line_items`
when expanded, `account` for Connect, a refund's `failure_reason`); the one of those we carry
is the early fraud warning's `payment_intent`, a nullable attribute in Stripe's API reference
that the example leaves out. One field the example shows is left out here: the charge's
`refunds`, which Stripe has sent only when expanded since API version 2022-11-15
(docs.stripe.com/changelog/2022-11-15/deprecates-charges-auto-expand), so never in an event.

`shape_errors`: everything else about an object's shape, from the SDK's resource classes
(the installed `stripe` package, generated for its pinned API version): every field,
top-level or nested, is one the class declares; null only where the class allows it; nested
objects, lists and `list` objects recursively in their declared shapes.
"""

from __future__ import annotations

import inspect
import types
import typing

import stripe
from stripe._stripe_object import UntypedStripeObject

_PUBLISHED = {
    "checkout.session": """
        adaptive_pricing after_expiration allow_promotion_codes amount_subtotal amount_total
        automatic_tax billing_address_collection cancel_url client_reference_id client_secret
        collected_information consent consent_collection created currency currency_conversion
        custom_fields custom_text customer customer_account customer_creation customer_details
        customer_email discounts expires_at id integration_identifier invoice invoice_creation
        livemode locale managed_payments metadata mode object origin_context payment_intent
        payment_link payment_method_collection payment_method_configuration_details
        payment_method_options payment_method_types payment_status permissions
        phone_number_collection recovered_from saved_payment_method_options setup_intent
        shipping_address_collection shipping_cost shipping_options status submit_type subscription
        success_url total_details ui_mode url wallet_options
    """,
    "payment_intent": """
        amount amount_capturable amount_details amount_received application application_fee_amount
        automatic_payment_methods canceled_at cancellation_reason capture_method client_secret
        confirmation_method created currency customer customer_account description
        excluded_payment_method_types id last_payment_error latest_charge livemode managed_payments
        metadata next_action object on_behalf_of payment_method payment_method_configuration_details
        payment_method_options payment_method_types processing receipt_email review
        setup_future_usage shipping source statement_descriptor statement_descriptor_suffix status
        transfer_data transfer_group
    """,
    "charge": """
        amount amount_captured amount_refunded application application_fee application_fee_amount
        balance_transaction billing_details calculated_statement_descriptor captured created
        currency customer description disputed failure_balance_transaction failure_code
        failure_message fraud_details id livemode metadata object on_behalf_of outcome paid
        payment_intent payment_method payment_method_details receipt_email receipt_number
        receipt_url refunded review shipping source source_transfer statement_descriptor
        statement_descriptor_suffix status transfer_data transfer_group
    """,
    "refund": """
        amount balance_transaction charge created currency customer customer_account
        destination_details id metadata object payment_intent payment_method reason receipt_number
        source_transfer_reversal status transfer_reversal
    """,
    "dispute": """
        amount balance_transactions charge created currency enhanced_eligibility_types evidence
        evidence_details id is_charge_refundable livemode metadata object payment_intent
        payment_method_details reason status
    """,
    "radar.early_fraud_warning": """
        actionable charge created fraud_type id livemode object payment_intent
    """,
    "event": """
        api_version created data id livemode object pending_webhooks request type
    """,
}
FIELDS = {kind: frozenset(names.split()) for kind, names in _PUBLISHED.items()}
# Fields Stripe sends only where they apply: a failed refund's reason and the balance
# transaction that reverses it (the API reference: "after the refund fails").
WHERE_THEY_APPLY = {"refund": frozenset({"failure_reason", "failure_balance_transaction"})}
FIELDS["list"] = frozenset({"object", *stripe.ListObject.__annotations__})

CLASSES = {
    "checkout.session": stripe.checkout.Session,
    "payment_intent": stripe.PaymentIntent,
    "charge": stripe.Charge,
    "refund": stripe.Refund,
    "dispute": stripe.Dispute,
    "radar.early_fraud_warning": stripe.radar.EarlyFraudWarning,
    "event": stripe.Event,
}


def declared(cls) -> dict[str, object]:
    """The fields a Stripe class declares (its own and its bases'), name → annotation."""
    fields: dict[str, object] = {}
    for klass in reversed(cls.__mro__):
        fields.update(inspect.get_annotations(klass))
    return {
        name: hint
        for name, hint in fields.items()
        if not name.startswith("_") and name != "OBJECT_NAME"
    }


def field_errors(obj: dict) -> list[str]:
    """How the object's top-level fields differ from the published object of its type."""
    expected = FIELDS[obj["object"]]
    sometimes = WHERE_THEY_APPLY.get(obj["object"], frozenset())
    missing, extra = sorted(expected - set(obj)), sorted(set(obj) - expected - sometimes)
    return [f"{obj['object']}: missing {missing}"] * bool(missing) + [
        f"{obj['object']}: not Stripe's {extra}"
    ] * bool(extra)


def shape_errors(obj: dict, cls=None, path: str = "") -> list[str]:
    """Every way `obj` departs from the shape the SDK's class declares for it."""
    cls = cls or CLASSES[obj["object"]]
    path = path or obj["object"]
    fields = declared(cls)
    inner = getattr(cls, "_inner_class_types", {})
    errors = []
    for name, value in obj.items():
        where = f"{path}.{name}"
        if name not in fields:
            errors.append(f"{where}: not a field of {cls.__qualname__}")
            continue
        hint = fields[name]
        if value is None:
            if type(None) not in typing.get_args(hint):
                errors.append(f"{where}: null, but {cls.__qualname__} does not allow it")
        elif name in inner:
            items = value if isinstance(value, list) else [value]
            for index, item in enumerate(items):
                at = f"{where}[{index}]" if isinstance(value, list) else where
                errors += (
                    shape_errors(item, inner[name], at)
                    if isinstance(item, dict)
                    else [f"{at}: not an object"]
                )
        else:
            errors += _value_errors(value, hint, where)
    return errors


def _value_errors(value, hint, where: str) -> list[str]:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if any(not _value_errors(value, option, where) for option in options):
            return []
        return [f"{where}: {value!r} fits none of {hint}"]
    if origin is typing.Literal:
        return [] if value in args else [f"{where}: {value!r} not one of {args}"]
    if isinstance(hint, typing.ForwardRef):  # an expandable field, expanded
        return _expanded_errors(value, hint.__forward_arg__, where)
    if origin is list:
        if not isinstance(value, list):
            return [f"{where}: not a list"]
        return [e for i, item in enumerate(value) for e in _value_errors(item, args[0], where)]
    if origin is stripe.ListObject or hint is stripe.ListObject:
        return _list_errors(value, args, where)
    if origin is UntypedStripeObject or hint is UntypedStripeObject:
        return [] if isinstance(value, dict) else [f"{where}: not an object"]
    if hint is typing.Any:
        return []
    if isinstance(hint, type):
        wrong = not isinstance(value, hint) or (hint is int and isinstance(value, bool))
        return [f"{where}: {value!r} is not {hint.__name__}"] if wrong else []
    return [f"{where}: cannot check {hint}"]


def _expanded_errors(value, class_name: str, where: str) -> list[str]:
    cls = getattr(stripe, class_name, None)
    if not isinstance(value, dict) or cls is None:
        return [f"{where}: not an expanded {class_name}"]
    return shape_errors(value, cls, where)


def _list_errors(value, args, where: str) -> list[str]:
    if not isinstance(value, dict) or set(value) != FIELDS["list"] or value["object"] != "list":
        return [f"{where}: not a Stripe list"]
    item = args[0] if args else None
    return [
        e
        for index, entry in enumerate(value["data"])
        for e in (
            _expanded_errors(entry, item.__forward_arg__, f"{where}.data[{index}]")
            if isinstance(item, typing.ForwardRef)
            else []
        )
    ]
