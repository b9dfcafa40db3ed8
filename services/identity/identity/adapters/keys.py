"""Signing keys: ES256 key pairs kept encrypted in the database, published at the JWKS endpoint.

Rotation publishes the next key before it signs: at any time there is one `active` key that
signs and one `next` key already in the JWKS, so verifiers have cached it by the time it
becomes active. Retired keys stay in the JWKS until every token they signed has expired.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from identity.adapters.orm import signing_keys

NEXT, ACTIVE, RETIRED = "next", "active", "retired"
# pg_advisory_xact_lock key: two rotations (the worker's timer, a CronJob, an operator) never interleave, which
# would leave two `next` keys or promote one twice. ASCII "cio-keys" as an integer.
ROTATION_LOCK = 0x63696F2D6B657973


class RotationTooEarly(RuntimeError):
    """The next key is younger than the verifiers' JWKS cache: they might not know it yet."""


def _fernet(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()))


def _new_key_row(secret: str, status: str, now: dt.datetime) -> dict[str, Any]:
    private = ec.generate_private_key(ec.SECP256R1())
    kid = f"{now:%Y%m%d}-{uuid.uuid4().hex[:8]}"
    jwk = jwt.algorithms.ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
    jwk.update({"kid": kid, "use": "sig", "alg": "ES256"})
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return {
        "kid": kid,
        "status": status,
        "private_key": _fernet(secret).encrypt(pem).decode(),
        "public_jwk": jwk,
        "created_at": now,
        "activated_at": now if status == ACTIVE else None,
    }


def ensure_keys(session: Session, secret: str) -> None:
    """First start: create the active and the next key."""
    now = dt.datetime.now(dt.UTC)
    statuses = set(session.execute(select(signing_keys.c.status)).scalars())
    if ACTIVE not in statuses:
        session.execute(signing_keys.insert().values(**_new_key_row(secret, ACTIVE, now)))
    if NEXT not in statuses:
        session.execute(signing_keys.insert().values(**_new_key_row(secret, NEXT, now)))


def rotate(session: Session, secret: str, *, min_next_age: dt.timedelta, force: bool = False) -> str:
    """Promote the next key to active, retire the old active key, publish a new next key; returns the new kid."""
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ROTATION_LOCK})
    now = dt.datetime.now(dt.UTC)
    ensure_keys(session, secret)
    next_row = session.execute(select(signing_keys).where(signing_keys.c.status == NEXT)).one()
    created = next_row.created_at
    if not force and now - created < min_next_age:
        raise RotationTooEarly(
            f"the next key {next_row.kid} was published {int((now - created).total_seconds())}s ago; "
            f"wait until it is {int(min_next_age.total_seconds())}s old so every verifier has it"
        )
    session.execute(update(signing_keys).where(signing_keys.c.status == ACTIVE).values(status=RETIRED, retired_at=now))
    session.execute(
        update(signing_keys).where(signing_keys.c.kid == next_row.kid).values(status=ACTIVE, activated_at=now)
    )
    session.execute(signing_keys.insert().values(**_new_key_row(secret, NEXT, now)))
    return str(next_row.kid)


def rotate_if_due(session: Session, secret: str, *, every: dt.timedelta, min_next_age: dt.timedelta) -> str | None:
    """The scheduled rotation: rotate once the active key has signed for `every`; returns the new kid, or None when
    it is not due. Raises RotationTooEarly when due but the next key is too new for verifiers to know it."""
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ROTATION_LOCK})
    ensure_keys(session, secret)
    active = session.execute(select(signing_keys).where(signing_keys.c.status == ACTIVE)).one()
    since = active.activated_at or active.created_at
    if dt.datetime.now(dt.UTC) - since < every:
        return None
    return rotate(session, secret, min_next_age=min_next_age)


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: Any


class KeyRing:
    """What a web process signs and verifies with, re-read from the database every few seconds."""

    def __init__(
        self,
        session_factory: Callable[[], Session],
        secret: str,
        *,
        retired_visible_for: dt.timedelta,
        refresh_seconds: float = 10.0,
    ) -> None:
        self.session_factory = session_factory
        self.secret = secret
        self.retired_visible_for = retired_visible_for
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._loaded_at = 0.0
        self._signing: SigningKey | None = None
        self._jwks: dict[str, Any] = {"keys": []}

    def _load(self) -> None:
        now = dt.datetime.now(dt.UTC)
        with self.session_factory() as session:
            rows = session.execute(select(signing_keys)).all()
        published = []
        signing = None
        for row in rows:
            retired_at = row.retired_at
            if row.status == RETIRED and retired_at is not None and now - retired_at > self.retired_visible_for:
                continue
            published.append(row.public_jwk)
            if row.status == ACTIVE:
                pem = _fernet(self.secret).decrypt(row.private_key.encode())
                signing = SigningKey(row.kid, serialization.load_pem_private_key(pem, password=None))
        if signing is None:
            raise RuntimeError("no active signing key: run `python -m identity.entrypoints.cli migrate`")
        self._signing = signing
        self._jwks = {"keys": published}
        self._loaded_at = time.monotonic()

    def _fresh(self) -> None:
        with self._lock:
            if self._signing is None or time.monotonic() - self._loaded_at > self.refresh_seconds:
                self._load()

    def signing_key(self) -> SigningKey:
        self._fresh()
        assert self._signing is not None
        return self._signing

    def jwks(self) -> dict[str, Any]:
        self._fresh()
        return self._jwks
