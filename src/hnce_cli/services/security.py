"""Password hashing (argon2id) and session tokens (random, stored as SHA-256).

argon2 loads only where a password is hashed or checked: checking a session token
(every command) needs the SHA-256 alone."""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any


@cache
def _hasher() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher()  # argon2id with the library's RFC 9106 low-memory profile


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@cache
def dummy_hash() -> str:
    """A hash to verify against when the account does not exist, so that a wrong
    account and a wrong password take the same time."""
    import secrets

    return hash_password(secrets.token_urlsafe(16))


def new_token() -> str:
    import secrets

    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
