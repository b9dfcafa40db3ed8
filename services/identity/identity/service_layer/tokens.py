"""The OAuth 2.0 grants: password (local accounts), refresh_token (rotating, reuse revokes the family),
client_credentials (service clients); and the short-lived ES256 access tokens they return."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import jwt
from sqlalchemy import delete, select, update

from identity.adapters.keys import KeyRing
from identity.adapters.orm import login_throttle, oauth_clients, refresh_tokens
from identity.adapters.passwords import verify_password
from identity.domain.model import User
from identity.service_layer.unit_of_work import IdentityUnitOfWork
from shared.errors import ProblemError

# Compared against when the client id is unknown, so both paths take the same time.
_UNKNOWN_CLIENT_DIGEST = "0" * 64


class OAuthError(ProblemError):
    """An RFC 6749 token error, rendered as problem+json carrying `error` and `error_description`."""

    def __init__(
        self, error: str, description: str, status: int = 400, errors: list[dict[str, Any]] | None = None
    ) -> None:
        headers = {"WWW-Authenticate": "Basic"} if error == "invalid_client" else {}
        super().__init__(
            description,
            errors=errors,
            status=status,
            title="Token request refused",
            headers=headers,
            error=error,
            error_description=description,
        )
        self.error = error


@dataclass(frozen=True)
class TokenPolicy:
    issuer: str
    audience: str
    access_ttl: dt.timedelta = dt.timedelta(minutes=15)
    refresh_ttl: dt.timedelta = dt.timedelta(days=14)
    max_failures: int = 5
    failure_window: dt.timedelta = dt.timedelta(minutes=15)
    lock_for: dt.timedelta = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class TokenResponse:
    access_token: str
    expires_in: int
    refresh_token: str | None = None
    token_type: str = "Bearer"  # noqa: S105 - the RFC 6750 token type, not a secret

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "access_token": self.access_token,
            "token_type": self.token_type,
            "expires_in": self.expires_in,
        }
        if self.refresh_token:
            body["refresh_token"] = self.refresh_token
        return body


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def issue_access_token(
    keyring: KeyRing,
    policy: TokenPolicy,
    *,
    subject: str,
    grants: list[tuple[str, str]] | list[list[str]],
    name: str | None = None,
    org_code: str | None = None,
    client_id: str | None = None,
    username: str | None = None,
    idp: str | None = None,
) -> TokenResponse:
    """A signed access token; `idp` names the single sign-on provider of the browser session it was minted for
    (absent for local accounts), so /api/me can tell the portal whether sign-out goes upstream too."""
    key = keyring.signing_key()
    now = dt.datetime.now(dt.UTC)
    claims: dict[str, Any] = {
        "iss": policy.issuer,
        "sub": subject,
        "aud": policy.audience,
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int((now + policy.access_ttl).timestamp()),
        "jti": uuid.uuid4().hex,
        "grants": [list(g) for g in grants],
    }
    if name:
        claims["name"] = name
    if org_code:
        claims["org"] = org_code
    if username:
        claims["preferred_username"] = username
    if client_id:
        claims["client_id"] = client_id
    if idp:
        claims["idp"] = idp
    token = jwt.encode(claims, key.private_key, algorithm="ES256", headers={"kid": key.kid})
    return TokenResponse(token, int(policy.access_ttl.total_seconds()))


def _new_refresh_token(uow: IdentityUnitOfWork, policy: TokenPolicy, user_id: uuid.UUID, family: uuid.UUID) -> str:
    token = secrets.token_urlsafe(32)
    now = dt.datetime.now(dt.UTC)
    uow.session.execute(
        refresh_tokens.insert().values(
            token_hash=sha256_hex(token),
            family_id=family,
            user_id=user_id,
            issued_at=now,
            expires_at=now + policy.refresh_ttl,
        )
    )
    return token


def _user_tokens(
    uow: IdentityUnitOfWork, keyring: KeyRing, policy: TokenPolicy, user: User, family: uuid.UUID
) -> TokenResponse:
    access = issue_access_token(
        keyring,
        policy,
        subject=str(user.id),
        grants=user.grant_pairs(),
        name=user.display_name,
        org_code=user.org_code,
        username=user.username,
    )
    refresh = _new_refresh_token(uow, policy, user.id, family)
    return TokenResponse(access.access_token, access.expires_in, refresh)


def issue_user_tokens(uow: IdentityUnitOfWork, keyring: KeyRing, policy: TokenPolicy, user: User) -> TokenResponse:
    """Access and refresh token of a new family for `user`, inside the caller's unit of work (SSO API clients)."""
    return _user_tokens(uow, keyring, policy, user, uuid.uuid4())


class LocalSignInRefused(Exception):
    """Wrong credentials, an unknown or disabled account, or a name locked after repeated failures."""

    def __init__(self, *, locked: bool) -> None:
        super().__init__("locked" if locked else "refused")
        self.locked = locked


def local_account(uow: IdentityUnitOfWork, policy: TokenPolicy, username: str, password: str, ip: str | None) -> User:
    """The active local account these credentials open, inside the caller's unit of work; the password grant and
    the browser's password session share it, so both count failures and lock alike. Repeated failures lock the
    name, known or not, so nobody learns which exist; a refusal commits its count and audit before it is raised.
    """
    key = sha256_hex(username.strip().lower())
    now = dt.datetime.now(dt.UTC)
    query = select(login_throttle).where(login_throttle.c.username_key == key)
    query = query.with_for_update()
    throttle = uow.session.execute(query).one_or_none()
    locked_until = throttle.locked_until if throttle else None
    if locked_until is not None and locked_until > now:
        uow.audit("login", actor=username[:100], outcome="locked", ip=ip)
        uow.commit()
        raise LocalSignInRefused(locked=True)
    user = uow.users.by_username(username.strip())
    usable = user is not None and user.is_active
    if not verify_password(user.password_hash if usable and user else None, password) or not usable:
        window_start = throttle.window_started_at if throttle else None
        failures = (
            throttle.failures if throttle and window_start and now - window_start < policy.failure_window else 0
        ) + 1
        values = {
            "failures": failures,
            "window_started_at": window_start if failures > 1 and window_start else now,
            "locked_until": now + policy.lock_for if failures >= policy.max_failures else None,
        }
        if throttle:
            uow.session.execute(update(login_throttle).where(login_throttle.c.username_key == key).values(**values))
        else:
            uow.session.execute(login_throttle.insert().values(username_key=key, **values))
        uow.audit("login", actor=username[:100], outcome="failed", details={"failures": failures}, ip=ip)
        uow.commit()
        raise LocalSignInRefused(locked=failures >= policy.max_failures)
    assert user is not None
    if throttle:
        uow.session.execute(delete(login_throttle).where(login_throttle.c.username_key == key))
    return user


def password_grant(
    uow: IdentityUnitOfWork,
    keyring: KeyRing,
    policy: TokenPolicy,
    username: str,
    password: str,
    ip: str | None,
) -> TokenResponse:
    """Sign in a local account for an API client: access and refresh token of a new family."""
    with uow:
        try:
            user = local_account(uow, policy, username, password, ip)
        except LocalSignInRefused as exc:
            raise OAuthError(
                "invalid_grant", "The username or password is wrong, or the account is locked for a while."
            ) from exc
        response = _user_tokens(uow, keyring, policy, user, uuid.uuid4())
        uow.audit("login", actor=user.username, target=str(user.id), ip=ip)
        uow.commit()
        return response


def refresh_grant(
    uow: IdentityUnitOfWork, keyring: KeyRing, policy: TokenPolicy, token: str, ip: str | None
) -> TokenResponse:
    """Rotate: the presented token is spent and a new one issued; presenting a spent one revokes the family."""
    now = dt.datetime.now(dt.UTC)
    invalid = OAuthError("invalid_grant", "The refresh token is not valid.")
    with uow:
        query = select(refresh_tokens).where(refresh_tokens.c.token_hash == sha256_hex(token))
        query = query.with_for_update()
        row = uow.session.execute(query).one_or_none()
        if row is None or row.revoked_at is not None:
            raise invalid
        if row.used_at is not None:
            uow.session.execute(
                update(refresh_tokens)
                .where(refresh_tokens.c.family_id == row.family_id, refresh_tokens.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            uow.audit(
                "refresh_token_reuse",
                actor=str(row.user_id),
                target=str(row.family_id),
                outcome="family_revoked",
                ip=ip,
            )
            uow.commit()
            raise invalid
        expires_at = row.expires_at
        user = uow.users.get(row.user_id)
        if (expires_at and expires_at <= now) or user is None or not user.is_active:
            raise invalid
        uow.session.execute(
            update(refresh_tokens).where(refresh_tokens.c.token_hash == row.token_hash).values(used_at=now)
        )
        response = _user_tokens(uow, keyring, policy, user, row.family_id)
        uow.commit()
        return response


def revoke_refresh_tokens(uow: IdentityUnitOfWork, user_ids: list[uuid.UUID]) -> int:
    """Revoke every live refresh token of these users, whatever family or sign-in (password, SSO `mode=token`)
    issued it, inside the caller's unit of work; the number of families ended."""
    if not user_ids:
        return 0
    live = (
        refresh_tokens.c.user_id.in_(user_ids),
        refresh_tokens.c.revoked_at.is_(None),
    )
    families = set(uow.session.execute(select(refresh_tokens.c.family_id).where(*live)).scalars())
    if families:
        uow.session.execute(update(refresh_tokens).where(*live).values(revoked_at=dt.datetime.now(dt.UTC)))
    return len(families)


# Service clients are read from the database at most every CLIENT_CACHE_SECONDS per process: a token request
# costs no query (issuance is counted in identity_tokens_issued_total, not written per token). A client re-keyed
# or removed by `cli create-client` in another process is seen within that time; this process drops its entry at
# once.
CLIENT_CACHE_SECONDS = 10.0
CLIENT_CACHE_SIZE = 1000


@dataclass(frozen=True)
class ServiceClient:
    secret_sha256: str
    is_active: bool
    grants: list[list[str]]
    name: str | None


class ClientCache:
    def __init__(self, ttl: float = CLIENT_CACHE_SECONDS, size: int = CLIENT_CACHE_SIZE) -> None:
        self.ttl, self.size = ttl, size
        self._entries: OrderedDict[str, tuple[float, ServiceClient | None]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, uow: IdentityUnitOfWork, client_id: str) -> ServiceClient | None:
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(client_id)
            if hit is not None and hit[0] > now:
                self._entries.move_to_end(client_id)
                return hit[1]
        with uow:
            row = uow.session.execute(select(oauth_clients).where(oauth_clients.c.client_id == client_id)).one_or_none()
        client = ServiceClient(row.secret_sha256, row.is_active, row.grants, row.name) if row is not None else None
        with self._lock:
            self._entries[client_id] = (now + self.ttl, client)
            self._entries.move_to_end(client_id)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return client

    def invalidate(self, client_id: str) -> None:
        with self._lock:
            self._entries.pop(client_id, None)


CLIENTS = ClientCache()


def client_credentials_grant(
    uow: IdentityUnitOfWork, keyring: KeyRing, policy: TokenPolicy, client_id: str, client_secret: str
) -> TokenResponse:
    """Service clients: their secrets are high-entropy, so a SHA-256 compared in constant time suffices."""
    client = CLIENTS.get(uow, client_id)
    expected = client.secret_sha256 if client is not None and client.is_active else _UNKNOWN_CLIENT_DIGEST
    if not hmac.compare_digest(sha256_hex(client_secret), expected) or client is None or not client.is_active:
        raise OAuthError("invalid_client", "The client is unknown or its secret is wrong.", status=401)
    return issue_access_token(
        keyring, policy, subject=f"client:{client_id}", grants=client.grants, name=client.name, client_id=client_id
    )


def register_client(
    uow: IdentityUnitOfWork, client_id: str, name: str, grants: list[list[str]], secret: str | None = None
) -> str:
    """Create (or re-key) a service client; returns its secret, which is shown once and stored only hashed."""
    secret = secret or secrets.token_urlsafe(32)
    with uow:
        uow.session.execute(delete(oauth_clients).where(oauth_clients.c.client_id == client_id))
        uow.session.execute(
            oauth_clients.insert().values(
                client_id=client_id,
                secret_sha256=sha256_hex(secret),
                name=name,
                grants=grants,
                is_active=True,
                created_at=dt.datetime.now(dt.UTC),
            )
        )
        uow.audit("client_registered", actor="cli", target=client_id, details={"grants": grants})
        uow.commit()
    CLIENTS.invalidate(client_id)
    return secret
