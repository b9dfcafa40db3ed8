"""Token attacks through the gateway: every service refuses (401) a forged, stale or misdirected access token,
and the token of an account the directory disabled (停用).

The forgeries that need a good signature (expired, not yet valid, wrong audience or issuer) are signed with the
stack's own active key, read from identity's database as identity keeps it, so each is refused for the reason
it names and not for a bad signature. Each service is first shown to answer the same request with a genuine
token (the control), so a 401 below is the token's doing, not the route's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt
import psycopg
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from identity.adapters.keys import _fernet

from tests.e2e.conftest import DEMO_PASSWORD, Stack, token
from tests.helpers import wait_until

pytestmark = pytest.mark.e2e

# One authenticated read per service, answered 200 to the demo platform administrator.
PROBES = {
    "identity": "/api/me",
    "nominations": "/api/rounds",
    "approvals": "/api/tasks",
    "training": "/api/trainings",
    "notifications": "/api/inbox",
    "governance": "/api/project-plans",
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _plain_db_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _active_key(stack: Stack) -> tuple[str, Any]:
    """The kid and private key identity signs with now, decrypted as identity does."""
    env = stack.envs["identity"]
    with psycopg.connect(_plain_db_url(env["DATABASE_URL"])) as conn:
        kid, encrypted = conn.execute("SELECT kid, private_key FROM signing_keys WHERE status = 'active'").fetchone()  # type: ignore[misc]
    pem = _fernet(env["SIGNING_KEY_SECRET"]).decrypt(encrypted.encode())
    return kid, serialization.load_pem_private_key(pem, password=None)


def _public_jwk_pem(stack: Stack, kid: str) -> bytes:
    jwks = requests.get(f"{stack.gateway}/api/auth/.well-known/jwks.json", timeout=5).json()
    jwk = next(k for k in jwks["keys"] if k["kid"] == kid)
    public = jwt.PyJWK(jwk, algorithm="ES256").key
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)  # type: ignore[no-any-return]


def _status(stack: Stack, path: str, bearer: str) -> int:
    return requests.get(f"{stack.gateway}{path}", headers={"Authorization": f"Bearer {bearer}"}, timeout=10).status_code


@pytest.fixture(scope="module")
def genuine(stack: Stack) -> dict[str, Any]:
    """A genuine token of the demo platform administrator, its claims, and the stack's signing key."""
    access = token(stack, "admin")
    claims = jwt.decode(access, options={"verify_signature": False})
    kid, key = _active_key(stack)
    assert jwt.get_unverified_header(access)["kid"] == kid
    return {"token": access, "claims": claims, "kid": kid, "key": key}


def _signed(genuine: dict[str, Any], **changes: Any) -> str:
    claims = {**genuine["claims"], "jti": uuid.uuid4().hex, **changes}
    return jwt.encode(claims, genuine["key"], algorithm="ES256", headers={"kid": genuine["kid"]})


def _alg_none(genuine: dict[str, Any]) -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": genuine["kid"]}).encode())
    payload = _b64(json.dumps(genuine["claims"]).encode())
    return f"{header}.{payload}."


def _hs256_with_public_key(stack: Stack, genuine: dict[str, Any]) -> str:
    """The classic key confusion: HMAC over the token with the published public key as the secret."""
    secret = _public_jwk_pem(stack, genuine["kid"])
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": genuine["kid"]}).encode())
    payload = _b64(json.dumps(genuine["claims"]).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def _unknown_kid(genuine: dict[str, Any]) -> str:
    own = ec.generate_private_key(ec.SECP256R1())
    return jwt.encode(
        {**genuine["claims"], "jti": uuid.uuid4().hex}, own, algorithm="ES256", headers={"kid": "not-a-known-kid"}
    )


def _own_key_with_known_kid(genuine: dict[str, Any]) -> str:
    own = ec.generate_private_key(ec.SECP256R1())
    return jwt.encode(
        {**genuine["claims"], "jti": uuid.uuid4().hex}, own, algorithm="ES256", headers={"kid": genuine["kid"]}
    )


def _tampered_grants(stack: Stack) -> str:
    """A school administrator's genuine token whose payload now says platform_admin over "/", signature kept."""
    header, payload, signature = token(stack, "school.admin").split(".")
    claims = json.loads(_unb64(payload))
    claims["grants"] = [["platform_admin", "/"]]
    return f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"


ATTACKS: dict[str, Callable[[Stack, dict[str, Any]], str]] = {
    "alg none": lambda _s, g: _alg_none(g),
    "HS256 signed with the public key": _hs256_with_public_key,
    "expired": lambda _s, g: _signed(g, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
    "not yet valid": lambda _s, g: _signed(g, nbf=int(time.time()) + 3600),
    "issued in the future": lambda _s, g: _signed(g, iat=int(time.time()) + 3600, exp=int(time.time()) + 7200),
    "wrong audience": lambda _s, g: _signed(g, aud="another-platform"),
    "wrong issuer": lambda _s, g: _signed(g, iss="https://evil.example/api/auth"),
    "no subject": lambda _s, g: _signed(g, sub=None),
    "unknown kid": lambda _s, g: _unknown_kid(g),
    "a known kid over another key": lambda _s, g: _own_key_with_known_kid(g),
    "tampered grants": lambda s, _g: _tampered_grants(s),
    "not a JWT": lambda _s, _g: "not-a-token",
}


@pytest.mark.parametrize("service", sorted(PROBES))
def test_a_genuine_token_is_accepted_by_every_service(stack: Stack, genuine: dict[str, Any], service: str) -> None:
    assert _status(stack, PROBES[service], genuine["token"]) == 200


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_forged_and_stale_tokens_are_refused_by_every_service(
    stack: Stack, genuine: dict[str, Any], attack: str
) -> None:
    forged = ATTACKS[attack](stack, genuine)
    answers = {}
    for service, path in PROBES.items():
        response = requests.get(f"{stack.gateway}{path}", headers={"Authorization": f"Bearer {forged}"}, timeout=10)
        answers[service] = response.status_code
        if response.status_code == 401:
            assert response.headers["Content-Type"].startswith("application/problem+json"), (service, response.text)
    assert answers == dict.fromkeys(PROBES, 401), f"{attack}: {answers}"


def test_a_disabled_accounts_token_is_refused_by_every_service(stack: Stack) -> None:
    """停用: the account's access token, still within its lifetime, stops working everywhere, not only at
    identity; enabling the account again lets a new sign-in through."""
    admin = {"Authorization": f"Bearer {token(stack, 'admin')}"}
    username = f"disabled.{uuid.uuid4().hex[:6]}"
    created = requests.post(
        f"{stack.gateway}/api/users",
        json={"username": username, "display_name": "待停用教师", "org_code": "4108020001", "password": DEMO_PASSWORD},
        headers=admin,
        timeout=10,
    )
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    # The projections learn the account first (else "not known yet" could be mistaken for "accepted").
    wait_until(lambda: _wait_known(stack, user_id), 30, 0.2, "the new account in every service's projection")
    access = token(stack, username, DEMO_PASSWORD)
    assert {s: _status(stack, p, access) for s, p in PROBES.items()} == dict.fromkeys(PROBES, 200)

    disabled = requests.post(f"{stack.gateway}/api/users/{user_id}/disable", headers=admin, timeout=10)
    assert disabled.status_code == 200, disabled.text

    def all_refused() -> dict[str, int] | None:
        answers = {s: _status(stack, p, access) for s, p in PROBES.items()}
        return answers if answers == dict.fromkeys(PROBES, 401) else None

    # identity knows at once; the others hear identity.user.updated over the bus.
    assert _status(stack, PROBES["identity"], access) == 401
    wait_until(all_refused, 30, 0.2, "every service refusing the disabled account's token")

    enabled = requests.post(f"{stack.gateway}/api/users/{user_id}/enable", headers=admin, timeout=10)
    assert enabled.status_code == 200, enabled.text
    again = token(stack, username, DEMO_PASSWORD)
    wait_until(
        lambda: all(_status(stack, p, again) == 200 for p in PROBES.values()), 30, 0.2, "enabled account accepted"
    )


def _wait_known(stack: Stack, user_id: str) -> bool:
    """Every service that keeps a user projection has the account (approvals keeps only disabled ones)."""
    tables = {"nominations": "user_projection", "training": "people", "notifications": "directory_users"}
    for service, table in tables.items():
        with psycopg.connect(_plain_db_url(stack.envs[service]["DATABASE_URL"])) as conn:
            row = conn.execute(f"SELECT 1 FROM {table} WHERE user_id::text = %s", (user_id,)).fetchone()
        if row is None:
            return False
    return True
