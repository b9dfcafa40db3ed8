"""Minting access tokens in tests of services other than identity: an ES256 key of the test's own and a
verifier that trusts it, so a service's API can be tested without running the identity service."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from shared.auth import JwksKeys, TokenVerifier
from shared.config import AuthSettings

ISSUER = "http://test/api/auth"
AUDIENCE = "cio-platform"


class TestIssuer:
    """Signs tokens like identity does; `verifier()` is what a service's app factory should be given."""

    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        self.kid = f"test-{uuid.uuid4().hex[:8]}"
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.settings = AuthSettings(issuer=ISSUER, audience=AUDIENCE, jwks_url="unused")

    def jwks(self) -> dict[str, Any]:
        jwk = jwt.algorithms.ECAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        jwk.update({"kid": self.kid, "use": "sig", "alg": "ES256"})
        return {"keys": [jwk]}

    def verifier(self) -> TokenVerifier:
        return TokenVerifier(self.settings, JwksKeys(self.jwks))

    def token(self, subject: str, *grants: tuple[str, str], name: str | None = None, ttl: int = 300) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": subject,
            "iat": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
            "grants": [list(g) for g in grants],
        }
        if name:
            claims["name"] = name
        return jwt.encode(claims, self._key, algorithm="ES256", headers={"kid": self.kid})

    def headers(self, subject: str, *grants: tuple[str, str], **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(subject, *grants)}", **extra}
