"""Webhook signatures exactly as Stripe makes them (`Stripe-Signature: t=…,v1=…`): the
signing secrets a setting lists, checking a signature against any of them, and signing the
events the payment simulator sends through the store's real webhook code."""

from __future__ import annotations

import hashlib
import hmac
import time

import stripe


def secrets_listed(value: str) -> list[str]:
    """The signing secrets `STRIPE_WEBHOOK_SECRET` lists: one, or several separated by commas
    while Stripe rolls the endpoint's secret (it then signs every event with each)."""
    return [secret.strip() for secret in value.split(",") if secret.strip()]


def signature_verified(*, payload: str, header: str, secrets: list[str]) -> bool:
    """Whether `header` (a timestamp and one or more `v1` signatures) signs `payload`
    recently with any of `secrets`."""
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(
                payload, header, secret, stripe.Webhook.DEFAULT_TOLERANCE
            )
        except stripe.SignatureVerificationError:
            continue
        return True
    return False


def signature_header(payload: bytes, *signing_secrets: str, timestamp: int | None = None) -> str:
    """`t={timestamp},v1={HMAC-SHA256(secret, "{timestamp}.{payload}")}`, one `v1` per secret
    (while an endpoint's secret is rolled, Stripe signs with the old and the new one)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    digests = [
        hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest() for secret in signing_secrets
    ]
    return ",".join([f"t={timestamp}", *(f"v1={digest}" for digest in digests)])
