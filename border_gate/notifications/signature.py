"""HMAC-SHA256 signatures over a timestamp and a raw body, as `t=<unix>,v1=<hex>`.

The same scheme signs our webhook deliveries (X-BorderGate-Signature) and authenticates the
payment provider's callbacks (X-Payment-Signature). The timestamp is inside the signed
bytes, so an old request cannot be replayed with a fresh header.
"""

from __future__ import annotations

import hashlib
import hmac


class SignatureError(ValueError):
    """The signature header is missing, malformed, stale or does not match."""

    def __init__(self, vi: str, en: str) -> None:
        super().__init__(f"{vi} / {en}")
        self.vi = vi
        self.en = en


def signature_hex(secret: str, timestamp: int, body: bytes) -> str:
    """hex(HMAC-SHA256(secret, "<timestamp>." + body))."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature_hex(secret, timestamp, body)}"


def parse_signature_header(header: str | None) -> tuple[int, list[str]]:
    """(timestamp, [v1 signatures]) from `t=…,v1=…[,v1=…]`; SignatureError if unusable."""
    if not header or len(header) > 1000:
        raise SignatureError("Thiếu chữ ký", "the signature header is missing")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value.strip().lower())
    if timestamp is None or not signatures:
        raise SignatureError(
            "Chữ ký sai định dạng (cần t=<unix>,v1=<hex>)",
            "malformed signature header (expected t=<unix>,v1=<hex>)",
        )
    return timestamp, signatures


def verify_signature(
    secret: str, header: str | None, body: bytes, *, now: int, tolerance_seconds: int
) -> int:
    """Check `header` signs `body` with `secret` within the tolerance; returns its timestamp.

    Raises SignatureError when the header is missing or malformed, the timestamp is further
    than `tolerance_seconds` from `now` (a replay or a wrong clock), or no v1 matches.
    """
    timestamp, signatures = parse_signature_header(header)
    if abs(now - timestamp) > tolerance_seconds:
        raise SignatureError(
            f"Dấu thời gian lệch quá {tolerance_seconds} giây (gửi lại yêu cầu cũ?)",
            f"timestamp is more than {tolerance_seconds} s away from now (a replayed request?)",
        )
    expected = signature_hex(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise SignatureError("Chữ ký không khớp", "the signature does not match")
    return timestamp
