"""Access-token verification: what a service accepts and every forgery it must refuse."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from shared import auth
from shared.auth import JwksKeys, KeysUnavailable, TokenVerifier
from shared.config import AuthSettings
from shared.errors import Unauthorized
from tests.helpers import SHUTDOWN_POLL

ISSUER = "http://gateway.test/api/auth"
AUDIENCE = "cio-platform"
SETTINGS = AuthSettings(issuer=ISSUER, audience=AUDIENCE, jwks_url="unused", leeway_seconds=10)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class KeySet:
    def __init__(self) -> None:
        self.keys: dict[str, Any] = {}
        self.fetches = 0

    def add(self, kid: str) -> Any:
        private = ec.generate_private_key(ec.SECP256R1())
        self.keys[kid] = private
        return private

    def jwks(self) -> dict[str, Any]:
        self.fetches += 1
        out = []
        for kid, private in self.keys.items():
            jwk = jwt.algorithms.ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
            jwk.update({"kid": kid, "use": "sig", "alg": "ES256"})
            out.append(jwk)
        return {"keys": out}


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-1",
        "iat": now,
        "exp": now + 300,
        "grants": [["county_reviewer", "/4108/410802"]],
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


@pytest.fixture
def keyset() -> KeySet:
    ks = KeySet()
    ks.add("k1")
    return ks


@pytest.fixture
def verifier(keyset: KeySet) -> TokenVerifier:
    return TokenVerifier(SETTINGS, JwksKeys(keyset.jwks))


def sign(keyset: KeySet, payload: dict[str, Any], kid: str = "k1") -> str:
    return jwt.encode(payload, keyset.keys[kid], algorithm="ES256", headers={"kid": kid})


def test_valid_token_gives_grants(keyset: KeySet, verifier: TokenVerifier) -> None:
    principal = verifier.verify(sign(keyset, claims()))
    assert principal.subject == "user-1"
    assert principal.can("/4108/410802/4108020001", "county_reviewer")


def test_expired_token_is_refused(keyset: KeySet, verifier: TokenVerifier) -> None:
    with pytest.raises(Unauthorized, match="expired"):
        verifier.verify(sign(keyset, claims(exp=int(time.time()) - 60)))


def test_expiry_within_leeway_is_accepted(keyset: KeySet, verifier: TokenVerifier) -> None:
    verifier.verify(sign(keyset, claims(exp=int(time.time()) - 3)))


def test_wrong_audience_is_refused(keyset: KeySet, verifier: TokenVerifier) -> None:
    with pytest.raises(Unauthorized):
        verifier.verify(sign(keyset, claims(aud="another-app")))


def test_wrong_issuer_is_refused(keyset: KeySet, verifier: TokenVerifier) -> None:
    with pytest.raises(Unauthorized):
        verifier.verify(sign(keyset, claims(iss="http://evil.test/api/auth")))


@pytest.mark.parametrize("missing", ["exp", "iat", "sub", "aud", "iss"])
def test_required_claims_must_be_present(keyset: KeySet, verifier: TokenVerifier, missing: str) -> None:
    with pytest.raises(Unauthorized):
        verifier.verify(sign(keyset, claims(**{missing: None})))


def test_unknown_kid_is_refused(keyset: KeySet, verifier: TokenVerifier) -> None:
    stranger = KeySet()
    stranger.add("k-unknown")
    with pytest.raises(Unauthorized, match="unknown key"):
        verifier.verify(sign(stranger, claims(), kid="k-unknown"))


def test_unknown_kid_refetches_the_jwks_once_rotated(
    keyset: KeySet, verifier: TokenVerifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    verifier.verify(sign(keyset, claims()))
    keyset.add("k2")
    monkeypatch.setattr(auth, "MIN_REFETCH_SECONDS", 0.0)
    assert verifier.verify(sign(keyset, claims(), kid="k2")).subject == "user-1"
    assert keyset.fetches == 2


def test_unknown_kids_cannot_hammer_the_jwks(keyset: KeySet, verifier: TokenVerifier) -> None:
    stranger = KeySet()
    stranger.add("x")
    verifier.verify(sign(keyset, claims()))
    for _ in range(20):
        with pytest.raises(Unauthorized):
            verifier.verify(sign(stranger, claims(), kid="x"))
    assert keyset.fetches == 1


def test_alg_none_is_refused(keyset: KeySet, verifier: TokenVerifier) -> None:
    header = b64(json.dumps({"alg": "none", "kid": "k1", "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims()).encode())
    with pytest.raises(Unauthorized):
        verifier.verify(f"{header}.{payload}.")


def test_hs256_signed_with_the_public_key_is_refused(keyset: KeySet, verifier: TokenVerifier) -> None:
    public_pem = (
        keyset.keys["k1"]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = b64(json.dumps({"alg": "HS256", "kid": "k1", "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims()).encode())
    signature = b64(hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    with pytest.raises(Unauthorized):
        verifier.verify(f"{header}.{payload}.{signature}")


def test_tampered_payload_is_refused(keyset: KeySet, verifier: TokenVerifier) -> None:
    header, _payload, signature = sign(keyset, claims()).split(".")
    forged = b64(json.dumps(claims(grants=[["platform_admin", "/"]])).encode())
    with pytest.raises(Unauthorized):
        verifier.verify(f"{header}.{forged}.{signature}")


def test_garbage_is_refused(verifier: TokenVerifier) -> None:
    with pytest.raises(Unauthorized):
        verifier.verify("not-a-jwt")


# -- keys fetched from identity inside the network; a failed fetch is the service's 503, never a 500 -----------
class _Limited(BaseHTTPRequestHandler):
    """A JWKS URL behind a rate limiter that has had enough (what the public gateway answered)."""

    def do_GET(self) -> None:
        self.send_response(429)
        self.send_header("Retry-After", "10")
        self.end_headers()

    def log_message(self, *_args: Any) -> None:  # keeps the test output readable
        pass


@pytest.fixture
def limited_jwks_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Limited)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": SHUTDOWN_POLL}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/api/auth/.well-known/jwks.json"
    finally:
        server.shutdown()


def test_a_key_fetch_refused_with_429_answers_503_with_retry_after(keyset: KeySet, limited_jwks_url: str) -> None:
    from flask import Flask

    from shared.web import create_service_app

    verifier = TokenVerifier(SETTINGS, JwksKeys.from_url(limited_jwks_url))
    with pytest.raises(KeysUnavailable) as refused:
        verifier.verify(sign(keyset, claims()))
    assert refused.value.status == 503 and refused.value.headers["Retry-After"]

    app: Flask = create_service_app(service="svc", title="svc", blueprints=[], verifier=lambda: verifier, checks={})

    @app.get("/api/things")
    def things() -> str:
        return "unreachable without keys"

    answer = app.test_client().get("/api/things", headers={"Authorization": f"Bearer {sign(keyset, claims())}"})
    assert answer.status_code == 503 and answer.headers["Retry-After"]
    assert answer.content_type == "application/problem+json"


def test_keys_already_held_keep_verifying_while_identity_is_away(keyset: KeySet) -> None:
    up = {"ok": True}

    def fetch() -> dict[str, Any]:
        if not up["ok"]:
            raise requests.ConnectionError("identity is restarting")
        return keyset.jwks()

    verifier = TokenVerifier(SETTINGS, JwksKeys(fetch, cache_seconds=0))
    verifier.verify(sign(keyset, claims()))
    up["ok"] = False
    assert verifier.verify(sign(keyset, claims())).subject == "user-1"  # cache expired, fetch fails, key held
    keyset.add("k2")
    with pytest.raises(KeysUnavailable):
        verifier.verify(sign(keyset, claims(), kid="k2"))  # a new key cannot be learned now: 503, not 401


def test_a_failed_key_fetch_is_not_retried_on_every_request(keyset: KeySet) -> None:
    calls = {"n": 0}

    def fetch() -> dict[str, Any]:
        calls["n"] += 1
        raise requests.ConnectionError("identity is down")

    verifier = TokenVerifier(SETTINGS, JwksKeys(fetch))
    for _ in range(10):
        with pytest.raises(KeysUnavailable):
            verifier.verify(sign(keyset, claims()))
    assert calls["n"] == 1


# -- the verified-token cache: the same token again costs no signature check, and never outlives its exp -------
def test_a_token_seen_again_within_the_minute_is_not_verified_again(
    keyset: KeySet, verifier: TokenVerifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = sign(keyset, claims())
    first = verifier.verify(token)
    checks: list[str] = []
    monkeypatch.setattr(verifier, "verify_signature_and_claims", lambda t: checks.append(t) or first)
    assert verifier.verify(token) is first
    assert checks == []


def test_a_cached_token_is_checked_again_after_the_cache_minute(
    keyset: KeySet, verifier: TokenVerifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = sign(keyset, claims(exp=int(time.time()) + 3600))
    verifier.verify(token)
    later = time.time() + auth.VERIFIED_CACHE_SECONDS + 1
    monkeypatch.setattr(auth.time, "time", lambda: later)
    keyset.keys.clear()  # the key is gone from the JWKS by then: the full check must run and refuse
    keyset.add("k2")
    verifier.keys._fetched_at = -float("inf")
    with pytest.raises(Unauthorized, match="unknown key"):
        verifier.verify(token)


def test_a_cached_token_is_not_used_past_its_exp(
    keyset: KeySet, verifier: TokenVerifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    exp = int(time.time()) + 30
    token = sign(keyset, claims(exp=exp))
    verifier.verify(token)

    def full_check(_token: str) -> Any:
        raise Unauthorized("The access token has expired.")

    monkeypatch.setattr(auth.time, "time", lambda: exp + 0.5)  # past exp, still inside the leeway
    monkeypatch.setattr(verifier, "verify_signature_and_claims", full_check)
    with pytest.raises(Unauthorized, match="expired"):
        verifier.verify(token)


def test_a_refused_token_is_not_remembered(keyset: KeySet, verifier: TokenVerifier) -> None:
    token = sign(keyset, claims(aud="someone-else"))
    for _ in range(2):
        with pytest.raises(Unauthorized):
            verifier.verify(token)
    assert verifier._verified == {}


def test_the_cache_keeps_at_most_its_size(
    keyset: KeySet, verifier: TokenVerifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth, "VERIFIED_CACHE_SIZE", 3)
    tokens = [sign(keyset, claims(sub=f"user-{n}")) for n in range(5)]
    for token in tokens:
        verifier.verify(token)
    assert list(verifier._verified) == tokens[2:]
