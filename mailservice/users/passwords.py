"""Password hashing with Argon2id (RFC 9106), the parameters kept inside each hash."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()



@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Verified when an e-mail is unknown, so that a wrong e-mail costs as long as
    # a wrong password and login timing does not tell which accounts exist. Made
    # on first use: at import it cost every command 0.2-0.3 s and 64 MiB.
    return _hasher.hash("not a real password")

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    """The Argon2id hash to store for `password`."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches the hash; False for a missing or broken hash."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and bool(
            password_hash
        )
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)
