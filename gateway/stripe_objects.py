"""Stripe's objects as Stripe sends them, for the `stripe` package's pinned API version.

Plain functions that build each object we deal with as a dict carrying every field of the
object Stripe publishes for that version, nulls included, nested objects in their real shapes:
the Checkout Session, PaymentIntent, Charge, Refund, Dispute, Early Fraud Warning, `list`, and
the event envelope. The facts come from Stripe itself: the example objects Stripe publishes
with its OpenAPI description (`openapi/fixtures3.json` in github.com/stripe/openapi) and the
`stripe` package's resource classes (`stripe.checkout.Session`, `stripe.Charge`, …), which
declare each field, whether it may be null, and the shape of every nested object.

The state changes (`checkout_session_completed`, `payment_intent_captured`, `charge_refunded`,
…) take an object and return the next one; they never change what they are given. Ids are the
caller's: the builders make none, except the ids of objects Stripe makes along the way and we
never ask for (a payment method, a balance transaction), derived from the object's own id.
"""

from __future__ import annotations

import copy

import stripe

API_VERSION = stripe.api_version
# An endpoint pinned to a version before 2025-03-31.basil receives the shipping address at
# the session's top level (`shipping_details`); basil moved it to
# `collected_information.shipping_details` (docs.stripe.com/changelog/basil/2025-03-31/
# checkout-session-remove-shipping-details).
LEGACY_SHIPPING_API_VERSION = "2024-06-20"


def _derived_id(prefix: str, object_id: str) -> str:
    """The id of an object Stripe makes alongside `object_id` (its payment method, its
    balance transaction): same suffix, its own prefix."""
    return f"{prefix}_{object_id.split('_', 1)[-1]}"


def _evolve(obj: dict, **changes) -> dict:
    return {**copy.deepcopy(obj), **changes}


# ---------------------------------------------------------------- small shared shapes


def address(
    *, line1=None, line2=None, city=None, state=None, postal_code=None, country=None
) -> dict:
    return {
        "city": city,
        "country": country,
        "line1": line1,
        "line2": line2,
        "postal_code": postal_code,
        "state": state,
    }


def shipping_details(*, name: str, address: dict) -> dict:
    """A Checkout Session's `collected_information.shipping_details` (and the older
    `shipping_details`)."""
    return {"address": dict(address), "name": name}


def shipping(*, name: str, address: dict, phone: str | None = None) -> dict:
    """A PaymentIntent's or Charge's `shipping`: Checkout copies the address it collected."""
    return {
        "address": dict(address),
        "carrier": None,
        "name": name,
        "phone": phone,
        "tracking_number": None,
    }


def list_object(*, url: str, data: list, has_more: bool = False) -> dict:
    return {"object": "list", "data": list(data), "has_more": has_more, "url": url}


# ---------------------------------------------------------------- Checkout Session


def checkout_session(
    *,
    id: str,
    created: int,
    expires_at: int,
    amount_total: int,
    currency: str,
    success_url: str,
    cancel_url: str | None = None,
    url: str,
    mode: str = "payment",
    metadata: dict | None = None,
    client_reference_id: str | None = None,
    customer_email: str | None = None,
    allowed_countries: list[str] | None = None,
    phone_number_collection: bool = False,
    payment_method_types: tuple[str, ...] = ("card",),
    livemode: bool = False,
) -> dict:
    """An open hosted Checkout Session, as the create call answers it. No PaymentIntent yet:
    Checkout makes it when the shopper pays."""
    return {
        "adaptive_pricing": {"enabled": False},
        "after_expiration": None,
        "allow_promotion_codes": None,
        "amount_subtotal": amount_total,
        "amount_total": amount_total,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "billing_address_collection": None,
        "cancel_url": cancel_url,
        "client_reference_id": client_reference_id,
        "client_secret": None,
        "collected_information": None,
        "consent": None,
        "consent_collection": None,
        "created": created,
        "currency": currency,
        "currency_conversion": None,
        "custom_fields": [],
        "custom_text": {
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        },
        "customer": None,
        "customer_account": None,
        "customer_creation": "if_required",
        "customer_details": None,
        "customer_email": customer_email,
        "discounts": [],
        "expires_at": expires_at,
        "id": id,
        "integration_identifier": None,
        "invoice": None,
        "invoice_creation": {
            "enabled": False,
            "invoice_data": {
                "account_tax_ids": None,
                "custom_fields": None,
                "description": None,
                "footer": None,
                "issuer": None,
                "metadata": {},
                "rendering_options": None,
            },
        },
        "livemode": livemode,
        "locale": None,
        "managed_payments": None,
        "metadata": dict(metadata or {}),
        "mode": mode,
        "object": "checkout.session",
        "origin_context": None,
        "payment_intent": None,
        "payment_link": None,
        "payment_method_collection": "always",
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": list(payment_method_types),
        "payment_status": "unpaid",
        "permissions": None,
        "phone_number_collection": {"enabled": phone_number_collection},
        "recovered_from": None,
        "saved_payment_method_options": None,
        "setup_intent": None,
        "shipping_address_collection": (
            {"allowed_countries": list(allowed_countries)} if allowed_countries else None
        ),
        "shipping_cost": None,
        "shipping_options": [],
        "status": "open",
        "submit_type": None,
        "subscription": None,
        "success_url": success_url,
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted_page",
        "url": url,
        "wallet_options": None,
    }


def customer_details(
    *, email: str | None, name: str | None = None, phone: str | None = None, address=None
) -> dict:
    return {
        "address": address,
        "business_name": None,
        "email": email,
        "individual_name": None,
        "name": name,
        "phone": phone,
        "tax_exempt": "none",
        "tax_ids": [],
    }


def checkout_session_completed(
    session: dict,
    *,
    payment_intent: str,
    payment_status: str,
    email: str | None = None,
    name: str | None = None,
    phone: str | None = None,
    shipping_details: dict | None = None,
) -> dict:
    """The shopper finished Checkout. `payment_status`: `paid` (charged), or `unpaid` (a card
    only authorised — manual capture — or a delayed payment method still settling). The
    shipping address goes to `collected_information.shipping_details`, the phone to
    `customer_details.phone`; the hosted page's `url` is gone."""
    billing = address(country=(shipping_details or {}).get("address", {}).get("country"))
    return _evolve(
        session,
        status="complete",
        payment_status=payment_status,
        payment_intent=payment_intent,
        url=None,
        customer_details=customer_details(
            email=email or session["customer_email"],
            name=name or (shipping_details or {}).get("name"),
            phone=phone,
            address=billing,
        ),
        collected_information={
            "business_name": None,
            "individual_name": None,
            "shipping_details": copy.deepcopy(shipping_details),
        },
    )


def checkout_session_settled(session: dict, *, succeeded: bool) -> dict:
    """A delayed payment method settled (`paid`) or failed (it stays `unpaid`)."""
    return _evolve(session, payment_status="paid" if succeeded else "unpaid")


def checkout_session_expired(session: dict) -> dict:
    return _evolve(session, status="expired", url=None)


def checkout_session_with_legacy_shipping(session: dict) -> dict:
    """The shipping address where versions before 2025-03-31.basil put it (an endpoint pinned
    to `LEGACY_SHIPPING_API_VERSION`): top-level `shipping_details`, no
    `collected_information`."""
    legacy = copy.deepcopy(session)
    collected = legacy.pop("collected_information") or {}
    legacy["shipping_details"] = collected.get("shipping_details")
    return legacy


# ---------------------------------------------------------------- PaymentIntent


def payment_intent(
    *,
    id: str,
    amount: int,
    currency: str,
    created: int,
    capture_method: str = "automatic",
    metadata: dict | None = None,
    shipping: dict | None = None,
    payment_method_types: tuple[str, ...] = ("card",),
    livemode: bool = False,
) -> dict:
    """A PaymentIntent waiting for its payment method (Checkout makes it as the shopper pays)."""
    return {
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": capture_method,
        "client_secret": f"{id}_secret_{id.split('_', 1)[-1]}",
        "confirmation_method": "automatic",
        "created": created,
        "currency": currency,
        "customer": None,
        "customer_account": None,
        "description": None,
        "excluded_payment_method_types": None,
        "id": id,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": livemode,
        "managed_payments": None,
        "metadata": dict(metadata or {}),
        "next_action": None,
        "object": "payment_intent",
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": list(payment_method_types),
        "processing": None,
        "receipt_email": None,
        "review": None,
        "setup_future_usage": None,
        "shipping": copy.deepcopy(shipping),
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "requires_payment_method",
        "transfer_data": None,
        "transfer_group": None,
    }


def payment_intent_paid(intent: dict, *, charge: dict) -> dict:
    """Its charge went through: `requires_capture` with manual capture (the money held),
    `succeeded` otherwise; `processing` while a delayed method's charge is pending."""
    if charge["status"] == "pending":
        status, capturable, received = "processing", 0, 0
    elif intent["capture_method"] == "manual":
        status, capturable, received = "requires_capture", intent["amount"], 0
    else:
        status, capturable, received = "succeeded", 0, intent["amount"]
    return _evolve(
        intent,
        status=status,
        amount_capturable=capturable,
        amount_received=received,
        latest_charge=charge["id"],
        payment_method=charge["payment_method"],
    )


def payment_intent_failed(intent: dict, *, charge: dict) -> dict:
    """A delayed payment failed: the PaymentIntent asks for another payment method."""
    error = {
        "charge": charge["id"],
        "code": charge["failure_code"],
        "decline_code": None,
        "doc_url": f"https://stripe.com/docs/error-codes/{charge['failure_code']}",
        "message": charge["failure_message"],
        "param": None,
        "payment_method_type": charge["payment_method_details"]["type"],
        "type": "card_error",
    }
    return _evolve(
        intent,
        status="requires_payment_method",
        latest_charge=charge["id"],
        payment_method=None,
        last_payment_error=error,
    )


def payment_intent_captured(intent: dict, *, amount: int | None = None) -> dict:
    captured = intent["amount_capturable"] if amount is None else amount
    return _evolve(intent, status="succeeded", amount_received=captured, amount_capturable=0)


def payment_intent_canceled(intent: dict, *, canceled_at: int, reason: str | None = None) -> dict:
    return _evolve(
        intent,
        status="canceled",
        amount_capturable=0,
        canceled_at=canceled_at,
        cancellation_reason=reason,
    )


# ---------------------------------------------------------------- Charge


def charge(
    *,
    id: str,
    amount: int,
    currency: str,
    created: int,
    payment_intent: str | None,
    captured: bool = True,
    status: str = "succeeded",
    payment_method_type: str = "card",
    billing_name: str | None = None,
    billing_email: str | None = None,
    billing_address: dict | None = None,
    shipping: dict | None = None,
    metadata: dict | None = None,
    livemode: bool = False,
) -> dict:
    """A charge by card (or, for a delayed method, New Zealand direct debit:
    `payment_method_type="nz_bank_account"`): `captured` False while a manual-capture
    authorisation holds the money; `status` `pending` while a delayed method settles."""
    return {
        "amount": amount,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "billing_details": {
            "address": billing_address or address(),
            "email": billing_email,
            "name": billing_name,
            "phone": None,
            "tax_id": None,
        },
        "calculated_statement_descriptor": "DIAMOND STORE",
        "created": created,
        "currency": currency,
        "customer": None,
        "description": None,
        "disputed": False,
        "failure_balance_transaction": None,
        "fraud_details": {},
        "id": id,
        "livemode": livemode,
        "metadata": dict(metadata or {}),
        "object": "charge",
        "on_behalf_of": None,
        "payment_intent": payment_intent,
        "payment_method": _derived_id("pm", id),
        "payment_method_details": {
            payment_method_type: (
                _card(amount) if payment_method_type == "card" else _nz_bank_account()
            ),
            "type": payment_method_type,
        },
        "receipt_email": None,
        "receipt_number": None,
        "refunded": False,
        "review": None,
        "shipping": copy.deepcopy(shipping),
        "source": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "transfer_data": None,
        "transfer_group": None,
        **_charge_outcome(id=id, amount=amount, status=status, captured=captured),
    }


def _charge_outcome(*, id: str, amount: int, status: str, captured: bool) -> dict:
    """The fields of a charge that follow from how it went."""
    succeeded, failed = status == "succeeded", status == "failed"
    settled = succeeded and captured
    return {
        "amount_captured": amount if settled else 0,
        "balance_transaction": _derived_id("txn", id) if settled else None,
        "captured": settled,
        "failure_code": "card_declined" if failed else None,
        "failure_message": "Your card was declined." if failed else None,
        "outcome": {
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "declined_by_network" if failed else "approved_by_network",
            "reason": "generic_decline" if failed else None,
            "risk_level": "normal",
            "risk_score": 20,
            "seller_message": (
                "The bank did not return any further details with this decline."
                if failed
                else "Payment complete."
            ),
            "type": "issuer_declined" if failed else "authorized",
        },
        "paid": succeeded,
        "receipt_url": (
            f"https://pay.stripe.com/receipts/payment/{id.split('_', 1)[-1]}" if succeeded else None
        ),
        "status": status,
    }


def _card(amount: int) -> dict:
    """Stripe's test Visa (4242) as a charge's `payment_method_details.card`."""
    return {
        "amount_authorized": amount,
        "authorization_code": "123456",
        "brand": "visa",
        "checks": {
            "address_line1_check": None,
            "address_postal_code_check": None,
            "cvc_check": "pass",
        },
        "country": "US",
        "exp_month": 12,
        "exp_year": 2034,
        "extended_authorization": {"status": "disabled"},
        "fingerprint": "Xt5EWLLDS7FJjR1c",
        "funding": "credit",
        "incremental_authorization": {"status": "unavailable"},
        "installments": None,
        "last4": "4242",
        "mandate": None,
        "multicapture": {"status": "unavailable"},
        "network": "visa",
        "network_token": {"used": False},
        "network_transaction_id": "104557651805572",
        "overcapture": {"maximum_amount_capturable": amount, "status": "unavailable"},
        "regulated_status": "unregulated",
        "three_d_secure": None,
        "transaction_link_id": None,
        "wallet": None,
    }


def _nz_bank_account() -> dict:
    """A test New Zealand bank account (BECS direct debit) as `payment_method_details`."""
    return {
        "account_holder_name": None,
        "bank_code": "11",
        "bank_name": "Test Bank",
        "branch_code": "1111",
        "expected_debit_date": None,
        "last4": "1111",
        "suffix": "000",
    }


def charge_settled(charge: dict, *, succeeded: bool) -> dict:
    """A delayed method's pending charge went through, or failed."""
    status = "succeeded" if succeeded else "failed"
    return _evolve(
        charge,
        **_charge_outcome(id=charge["id"], amount=charge["amount"], status=status, captured=True),
    )


def charge_captured(charge: dict, *, amount: int | None = None) -> dict:
    captured = charge["amount"] if amount is None else amount
    return _evolve(
        charge,
        captured=True,
        amount_captured=captured,
        balance_transaction=_derived_id("txn", charge["id"]),
    )


def charge_refunded(charge: dict, *, refund: dict) -> dict:
    """A refund of the charge (ours, one made in the Dashboard, or the release of an
    uncaptured authorisation): the running total in `amount_refunded`, `refunded` once nothing
    is left. The charge does not list its refunds (Stripe sends `refunds` only when it is
    expanded); `GET /v1/refunds?charge=…` does."""
    total = charge["amount_refunded"] + refund["amount"]
    return _evolve(charge, amount_refunded=total, refunded=total >= charge["amount"])


def charge_refund_failed(charge: dict, *, refund: dict) -> dict:
    """A refund of the charge failed: its amount is no longer refunded."""
    total = charge["amount_refunded"] - refund["amount"]
    return _evolve(charge, amount_refunded=total, refunded=total >= charge["amount"])


def charge_disputed(charge: dict) -> dict:
    return _evolve(charge, disputed=True)


# ---------------------------------------------------------------- Refund, Dispute, EFW


def refund(
    *,
    id: str,
    charge: dict,
    amount: int,
    created: int,
    reason: str | None = None,
    metadata: dict | None = None,
    status: str = "succeeded",
) -> dict:
    """A card refund of `charge` (its currency and PaymentIntent are the charge's)."""
    return {
        "amount": amount,
        "balance_transaction": _derived_id("txn", id),
        "charge": charge["id"],
        "created": created,
        "currency": charge["currency"],
        "customer": None,
        "customer_account": None,
        "destination_details": (
            {
                "card": {
                    "reference": None,
                    "reference_status": "pending",
                    "reference_type": "acquirer_reference_number",
                    "type": "refund",
                },
                "type": "card",
            }
            if charge["payment_method_details"]["type"] == "card"
            else None
        ),
        "id": id,
        "metadata": dict(metadata or {}),
        "object": "refund",
        "payment_intent": charge["payment_intent"],
        "payment_method": charge["payment_method"],
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": status,
        "transfer_reversal": None,
    }


def refund_failed(refund: dict, *, failure_reason: str = "expired_or_canceled_card") -> dict:
    """The bank could not return the money: Stripe marks the refund failed and says why
    (`failure_reason`, a field Stripe sends only on a failed refund)."""
    return _evolve(
        refund,
        status="failed",
        failure_reason=failure_reason,
        failure_balance_transaction=_derived_id("txn", refund["id"] + "f"),
    )


def dispute(
    *,
    id: str,
    charge: str,
    payment_intent: str | None,
    amount: int,
    currency: str,
    created: int,
    evidence_due_by: int,
    status: str = "needs_response",
    reason: str = "fraudulent",
    livemode: bool = False,
) -> dict:
    """A dispute of a card charge. Stripe's dispute always names its `charge`; its
    `payment_intent` is null for a charge made without one."""
    evidence_fields = (
        "access_activity_log",
        "billing_address",
        "cancellation_policy",
        "cancellation_policy_disclosure",
        "cancellation_rebuttal",
        "customer_communication",
        "customer_email_address",
        "customer_name",
        "customer_purchase_ip",
        "customer_signature",
        "duplicate_charge_documentation",
        "duplicate_charge_explanation",
        "duplicate_charge_id",
        "product_description",
        "receipt",
        "refund_policy",
        "refund_policy_disclosure",
        "refund_refusal_explanation",
        "service_date",
        "service_documentation",
        "shipping_address",
        "shipping_carrier",
        "shipping_date",
        "shipping_documentation",
        "shipping_tracking_number",
        "uncategorized_file",
        "uncategorized_text",
    )
    return {
        "amount": amount,
        "balance_transactions": [],
        "charge": charge,
        "created": created,
        "currency": currency,
        "enhanced_eligibility_types": [],
        "evidence": {**dict.fromkeys(evidence_fields), "enhanced_evidence": {}},
        "evidence_details": {
            "due_by": evidence_due_by,
            "enhanced_eligibility": {},
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "id": id,
        "is_charge_refundable": False,
        "livemode": livemode,
        "metadata": {},
        "object": "dispute",
        "payment_intent": payment_intent,
        "payment_method_details": {
            "card": {
                "brand": "visa",
                "case_type": "chargeback",
                "network": "visa",
                "network_reason_code": "10.4",
            },
            "type": "card",
        },
        "reason": reason,
        "status": status,
    }


def dispute_updated(dispute: dict, *, status: str) -> tuple[dict, dict]:
    """The dispute moves on (evidence submitted, won, lost): the new dispute, and the
    `previous_attributes` its `charge.dispute.updated` event carries."""
    return _evolve(dispute, status=status), {"status": dispute["status"]}


def early_fraud_warning(
    *,
    id: str,
    charge: str,
    payment_intent: str | None,
    created: int,
    fraud_type: str = "made_with_stolen_card",
    actionable: bool = True,
    livemode: bool = False,
) -> dict:
    """The card issuer reported the charge as possibly fraudulent. Always names its `charge`;
    `payment_intent` (a nullable attribute of Stripe's object) may be null."""
    return {
        "actionable": actionable,
        "charge": charge,
        "created": created,
        "fraud_type": fraud_type,
        "id": id,
        "livemode": livemode,
        "object": "radar.early_fraud_warning",
        "payment_intent": payment_intent,
    }


# ---------------------------------------------------------------- the event envelope


def event(
    *,
    id: str,
    type: str,
    object: dict,
    created: int,
    previous_attributes: dict | None = None,
    request_id: str | None = None,
    idempotency_key: str | None = None,
    pending_webhooks: int = 1,
    livemode: bool = False,
    api_version: str = API_VERSION,
) -> dict:
    """An event as Stripe delivers it. `*.updated` events carry `data.previous_attributes`
    (the changed fields' earlier values), others never do; `request` names the API request
    that caused it (both null for a change the shopper or Stripe itself made)."""
    updated = type.endswith(".updated")
    if updated != (previous_attributes is not None):
        raise ValueError(f"{type}: previous_attributes belong to, and only to, *.updated events")
    data = {"object": copy.deepcopy(object)}
    if updated:
        data["previous_attributes"] = copy.deepcopy(previous_attributes)
    return {
        "api_version": api_version,
        "created": created,
        "data": data,
        "id": id,
        "livemode": livemode,
        "object": "event",
        "pending_webhooks": pending_webhooks,
        "request": {"id": request_id, "idempotency_key": idempotency_key},
        "type": type,
    }
