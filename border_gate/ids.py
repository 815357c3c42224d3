"""Identifiers: time-ordered UUIDs (version 7), so keyset pagination follows filing order."""

from __future__ import annotations

import os
import time
import uuid


def new_id() -> str:
    """A UUIDv7 string (RFC 9562): 48 bits of Unix milliseconds, then randomness."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 62) & 0xFFF) << 64  # rand_a, 12 bits
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # rand_b
    return str(uuid.UUID(int=value))


_SHAPE = frozenset("0123456789abcdef-")


def looks_like_id(value: str) -> bool:
    """Whether `value` could be one of our ids; anything else is simply not found."""
    return len(value) == 36 and value.count("-") == 4 and set(value) <= _SHAPE
