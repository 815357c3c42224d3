"""Password hashing with Argon2id (argon2-cffi's recommended parameters)."""

from __future__ import annotations

import os

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# Tests and the demo create many accounts; ARGON2_LIGHT=1 keeps Argon2id but with small
# memory and time costs. Never set it in production.
_hasher = (
    PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    if os.environ.get("ARGON2_LIGHT") == "1"
    else PasswordHasher()
)
# Verifying against this when the user does not exist keeps the answer time the same,
# so response times do not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    if os.environ.get("ARGON2_LIGHT") == "1":
        return False
    return _hasher.check_needs_rehash(password_hash)
