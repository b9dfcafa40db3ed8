"""Access-token verification and the request's caller (the Flask side; `shared.principal` is who they are).

Tokens are ES256 JWTs from the identity service. The algorithm is pinned, `iss`, `aud`,
`exp`, `iat` and `sub` are required, and keys come from the JWKS (cached, fetched again
when a token names an unknown `kid`, at most once every few seconds). A token that verified is
remembered for a short while (never past its `exp`), so a client sending the same token again and
again costs one signature check per minute instead of one per request.
"""

from __future__ import annotations

import functools
import math
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import jwt
import requests
from flask import g, request

from shared.config import AuthSettings
from shared.errors import ServiceUnavailable, Unauthorized
from shared.notified_cache import NotifiedCache
from shared.principal import Principal, principal_from_claims

ALGORITHMS = ["ES256"]
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]
MIN_REFETCH_SECONDS = 5.0
# How long a verified token's principal is reused (capped by the token's own `exp`), and how many are kept.
VERIFIED_CACHE_SECONDS = 60.0
VERIFIED_CACHE_SIZE = 10_000
# How long a caller is asked to wait when the keys cannot be fetched (identity restarting, say).
KEYS_RETRY_AFTER_SECONDS = 5


class KeysUnavailable(ServiceUnavailable):
    """The verification keys could not be fetched: the service cannot tell a good token from a bad one right
    now, which is its own temporary fault (503, retry shortly), never the caller's (401) or a crash (500)."""

    def __init__(self) -> None:
        super().__init__(
            "The keys that verify access tokens cannot be fetched right now; retry shortly.",
            headers={"Retry-After": str(KEYS_RETRY_AFTER_SECONDS)},
        )


KeySource = Callable[[], dict[str, Any]]


class JwksKeys:
    """Keys from a JWKS; `refresh()` is throttled so a flood of unknown kids cannot hammer identity."""

    def __init__(self, fetch: KeySource, cache_seconds: int = 300) -> None:
        self._fetch = fetch
        self._cache_seconds = cache_seconds
        self._keys: dict[str, Any] = {}
        self._fetched_at = -math.inf  # never fetched: the first request fetches
        self._failed = False
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, cache_seconds: int = 300) -> JwksKeys:
        session = requests.Session()

        def fetch() -> dict[str, Any]:
            response = session.get(url, timeout=5)
            response.raise_for_status()
            data = response.json()
            assert isinstance(data, dict)
            return data

        return cls(fetch, cache_seconds)

    def _load(self) -> None:
        try:
            jwks = self._fetch()
            keys: dict[str, Any] = {}
            for jwk in jwks.get("keys", []):
                if jwk.get("kty") == "EC" and jwk.get("kid") and jwk.get("use", "sig") == "sig":
                    keys[jwk["kid"]] = jwt.PyJWK(jwk, algorithm="ES256").key
        except (requests.RequestException, ValueError, AttributeError, TypeError, jwt.PyJWTError) as exc:
            # Down, refused (a 429 from a limiter), or not a JWKS: try again after the throttle, not per request.
            self._fetched_at = time.monotonic()
            self._failed = True
            raise KeysUnavailable() from exc
        self._keys = keys
        self._fetched_at = time.monotonic()
        self._failed = False

    def get(self, kid: str) -> Any | None:
        """The key `kid` names; KeysUnavailable when it is not known and the JWKS cannot be fetched now."""
        with self._lock:
            age = time.monotonic() - self._fetched_at
            if age > self._cache_seconds or (kid not in self._keys and age > MIN_REFETCH_SECONDS):
                try:
                    self._load()
                except KeysUnavailable:
                    if kid in self._keys:
                        return self._keys[kid]  # a key we already hold stays good while identity is away
                    raise
            elif self._failed and kid not in self._keys:
                raise KeysUnavailable()  # the last fetch failed moments ago: answer at once, no retry storm
            return self._keys.get(kid)


class TokenVerifier:
    def __init__(self, settings: AuthSettings, keys: JwksKeys) -> None:
        self.settings = settings
        self.keys = keys
        # token -> (wall-clock time the entry stops being used, principal); least recently used first.
        self._verified: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._verified_lock = threading.Lock()

    def verify(self, token: str) -> Principal:
        """The token's principal; a token verified in the last minute is not checked again until then, and never
        used past its `exp` (no leeway for cached entries). Refusals are never cached."""
        now = time.time()
        with self._verified_lock:
            hit = self._verified.get(token)
            if hit is not None:
                if hit[0] > now:
                    self._verified.move_to_end(token)
                    return hit[1]
                del self._verified[token]
        principal = self.verify_signature_and_claims(token)
        until = min(now + VERIFIED_CACHE_SECONDS, float(principal.claims["exp"]))
        if until > now:
            with self._verified_lock:
                self._verified[token] = (until, principal)
                while len(self._verified) > VERIFIED_CACHE_SIZE:
                    self._verified.popitem(last=False)
        return principal

    def verify_signature_and_claims(self, token: str) -> Principal:
        """The full check: header, key, signature, `iss`, `aud`, `exp`, `iat`, `sub`."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("The access token is malformed.") from exc
        if header.get("alg") not in ALGORITHMS:
            raise Unauthorized("The access token's algorithm is not accepted.")
        kid = header.get("kid")
        key = self.keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise Unauthorized("The access token was signed with an unknown key.")
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=ALGORITHMS,
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                leeway=self.settings.leeway_seconds,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("The access token has expired.") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"The access token is not valid: {exc}.") from exc
        return principal_from_claims(claims)


class ActiveAccountsOnly(TokenVerifier):
    """A disabled account's access tokens are refused here too, not only by identity: every service keeps the
    directory's `is_active` from identity.user.updated, and `is_disabled(user_id)` reads it (from the web process's
    memory while that is current, else one primary-key read). Service clients (`client_id`) are checked by their
    signature alone. A token that is still valid for a few minutes after 停用 is exactly what this closes."""

    def __init__(self, settings: AuthSettings, keys: JwksKeys, is_disabled: Callable[[str], bool]) -> None:
        super().__init__(settings, keys)
        self.is_disabled = is_disabled

    def verify(self, token: str) -> Principal:
        principal = super().verify(token)
        if principal.client_id is None and self.is_disabled(principal.subject):
            raise Unauthorized("The account is disabled.", headers={"WWW-Authenticate": "Bearer"})
        return principal


def directory_is_disabled(
    session_factory: Callable[[], Any], table: Any, cache: NotifiedCache[bool] | None = None
) -> Callable[[str], bool]:
    """`is_disabled` over a service's projection of identity's users (`user_id`, `is_active`): an account the
    projection has not heard of yet is not taken for disabled (its events are on their way).

    With `cache` (the web's, on the channel shared_0003's triggers notify with each user whose row was added or
    removed or whose `is_active` changed) the answer is read from memory while the cache listens, the answer for an
    account the projection has not heard of too: its first row (its first event may be 停用) is announced by the
    INSERT trigger as any change of the flag is, and the process that writes it forgets it at commit
    (`forget_users_after_commit`). Approvals hears of users only when they change, so most accounts are unknown
    there, and asking for them on every request was 13 % of its web's CPU on the deadline day. Keys are the ids as
    the table holds them (a UUID column's as PostgreSQL prints them), the same the triggers announce, so no spelling
    of a subject can dodge a notification."""
    import sqlalchemy as sa

    from shared.db import read_outside_transaction

    key = table.c.user_id
    is_uuid = isinstance(key.type, sa.Uuid)

    def is_disabled(subject: str) -> bool:
        value: Any = subject
        if is_uuid:
            try:
                value = uuid.UUID(subject)
            except ValueError:
                return False

        def load() -> bool:
            with session_factory() as session:
                active = (
                    read_outside_transaction(session)  # one round trip: no BEGIN, no ROLLBACK
                    .execute(sa.select(table.c.is_active).where(key == value))
                    .scalar_one_or_none()
                )
            return active is not False  # unknown: not taken for disabled

        active = load() if cache is None else cache.get(str(value), load)
        return active is False

    return is_disabled


F = TypeVar("F", bound=Callable[..., Any])


def public(view: F) -> F:
    """Mark a view that needs no token (health, JWKS, the token endpoint itself)."""
    view._public = True  # type: ignore[attr-defined]
    return view


def is_public(view: Callable[..., Any] | None) -> bool:
    if view is None:
        return True
    cls = getattr(view, "view_class", None)
    if cls is not None:
        handler = getattr(cls, request.method.lower(), None)
        return bool(getattr(handler, "_public", False) or getattr(cls, "_public", False))
    return bool(getattr(view, "_public", False))


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    # Browser sessions arrive as a bearer token too: the gateway swaps the session cookie for one.
    return None


def current_principal() -> Principal:
    principal = g.get("principal")
    if principal is None:
        raise Unauthorized("A bearer token is required.", headers={"WWW-Authenticate": "Bearer"})
    assert isinstance(principal, Principal)
    return principal


def require_roles(*roles: str) -> Callable[[F], F]:
    """The caller must hold one of `roles` somewhere; which records they reach is still scoped by path."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if not principal.has_role(*roles):
                from shared.errors import Forbidden

                raise Forbidden(f"One of these roles is required: {', '.join(roles)}.")
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
