"""Password hashing with argon2id (argon2-cffi's RFC 9106 profile: 64 MiB, t=3, p=4, above OWASP's floor)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both paths cost the same time (a real hash of a
# throwaway password, computed once when this file was written rather than at every import).
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$Vvkom4b/BamC4JxZ25xIHw$aNSLFlhygKloDzmqxlyG1qUq551FUubhJ7y5FOlqw78"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
