"""Signing webhook payloads exactly as Stripe does (`Stripe-Signature: t=…,v1=…`), for the
events the payment simulator sends through the store's real webhook code."""

from __future__ import annotations

import hashlib
import hmac
import time


def signature_header(payload: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """`t={timestamp},v1={HMAC-SHA256(secret, "{timestamp}.{payload}")}`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
