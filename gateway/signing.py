"""Signatures of the callbacks Parley POSTs to partners.

A callback carries `X-Parley-Timestamp: <unix seconds>` and `X-Parley-Signature: v1=<hex>`, where
the hex is HMAC-SHA256 with the tenant's callback secret over `f"{timestamp}.{raw body}"`. Binding
the timestamp into the signature lets a receiver refuse replays of an old, captured request.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SCHEME = "v1"


def sign(*, secret: str, timestamp: int, body: bytes) -> str:
    """The `X-Parley-Signature` value for this body sent at `timestamp`."""
    signed = str(timestamp).encode() + b"." + body
    return f"{SCHEME}=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify(
    *,
    secret: str,
    body: bytes,
    timestamp: str | int,
    signature: str,
    tolerance_seconds: int = 300,
    now: float | None = None,
) -> bool:
    """True when `signature` is ours for this body and timestamp, and the timestamp is within
    `tolerance_seconds` of `now` (default: the current time)."""
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance_seconds:
        return False
    expected = sign(secret=secret, timestamp=sent_at, body=body)
    # A header may list several signatures (comma-separated); any one of them may match.
    return any(hmac.compare_digest(expected, candidate.strip()) for candidate in signature.split(","))
