"""Ending access on PostgreSQL: disabling an account, signing out everywhere, and upstream logout reach every
session and refresh-token family of the user (SSO `mode=token` ones too); a logout token acts only once."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from flask.testing import FlaskClient
from identity.adapters.orm import sso_sessions, users
from identity.adapters.sso_config import parse_providers
from identity.bootstrap import Identity
from identity.service_layer import sso
from identity.service_layer.tokens import issue_user_tokens, sha256_hex
from sqlalchemy import select

from shared.audit import audit_log
from tests.integration.identity.conftest import DEMO_PASSWORD, bearer, login

pytestmark = pytest.mark.integration

ISSUER = "https://id.example.cn"
BACKCHANNEL = {"http://schemas.openid.net/event/backchannel-logout": {}}


def _user_id(service: Identity, username: str) -> uuid.UUID:
    with service.session_factory() as session:
        return session.execute(select(users.c.id).where(users.c.username == username)).scalar_one()


def _refresh(client: FlaskClient, token: str) -> int:
    return client.post("/api/auth/token", data={"grant_type": "refresh_token", "refresh_token": token}).status_code


def _open_session(service: Identity, user_id: uuid.UUID, *, subject: str = "w-1", sid: str | None = None) -> str:
    """A browser session as an SSO callback leaves it (the cookie's value is returned)."""
    cookie = secrets.token_urlsafe(32)
    now = dt.datetime.now(dt.UTC)
    with service.session_factory() as session, session.begin():
        session.execute(
            sso_sessions.insert().values(
                id_hash=sha256_hex(cookie),
                user_id=user_id,
                provider="city-oidc",
                upstream_subject=subject,
                upstream_session=sid,
                created_at=now,
                expires_at=now + dt.timedelta(hours=8),
            )
        )
    return cookie


def _live(service: Identity, cookie: str) -> bool:
    return sso.session_access_token(service.uow(), service.sso, cookie) is not None


def _admin_over(client: FlaskClient, username: str, org_code: str) -> dict[str, str]:
    someone = client.get(f"/api/users?q={username}", headers=bearer(client, "admin")).json["items"][0]
    granted = client.post(
        f"/api/users/{someone['id']}/grants",
        json={"role": "platform_admin", "org_code": org_code},
        headers=bearer(client, "admin"),
    )
    assert granted.status_code == 201, granted.json
    return bearer(client, username)


def test_a_disabled_user_cannot_sign_in_and_everything_they_hold_ends(
    client: FlaskClient, identity_service: Identity
) -> None:
    held = login(client, "school.admin")
    user_id = _user_id(identity_service, "school.admin")
    cookie = _open_session(identity_service, user_id)
    assert _live(identity_service, cookie)

    disabled = client.post(f"/api/users/{user_id}/disable", headers=bearer(client, "admin"))
    assert disabled.status_code == 200 and disabled.json["is_active"] is False

    assert _refresh(client, held["refresh_token"]) == 400  # the refresh token family ended
    assert not _live(identity_service, cookie)  # the session ended: the gateway swap answers no token
    still_valid = {"Authorization": f"Bearer {held['access_token']}"}
    assert client.get("/api/me", headers=still_valid).status_code == 401  # identity refuses the access token
    refused = client.post(
        "/api/auth/token", data={"grant_type": "password", "username": "school.admin", "password": DEMO_PASSWORD}
    )
    assert refused.status_code == 400
    with identity_service.session_factory() as session:
        audited = session.execute(
            select(audit_log.c.actor, audit_log.c.details).where(audit_log.c.action == "user_disabled")
        ).one()
    assert audited.details == {"sessions_ended": 1, "refresh_families_revoked": 1}

    enabled = client.post(f"/api/users/{user_id}/enable", headers=bearer(client, "admin"))
    assert enabled.status_code == 200 and enabled.json["is_active"] is True
    assert login(client, "school.admin")["access_token"]


def test_only_an_administrator_over_the_users_org_disables_them(
    client: FlaskClient, identity_service: Identity
) -> None:
    other_county = _admin_over(client, "county2.reviewer", "410821")
    target = _user_id(identity_service, "school.admin")  # in 解放区 (410802)
    assert client.post(f"/api/users/{target}/disable", headers=other_county).status_code == 404
    assert client.post(f"/api/users/{target}/disable", headers=bearer(client, "cio")).status_code == 404
    own = client.post(f"/api/users/{target}/disable", headers=_admin_over(client, "county.reviewer", "410802"))
    assert own.status_code == 200


def test_sign_out_everywhere_ends_every_session_and_refresh_token_family(
    client: FlaskClient, identity_service: Identity
) -> None:
    phone, laptop = login(client, "cio"), login(client, "cio")
    cookie = _open_session(identity_service, _user_id(identity_service, "cio"))
    out = client.post("/api/me/sign-out-everywhere", headers={"Authorization": f"Bearer {phone['access_token']}"})
    assert out.status_code == 200
    assert out.json == {"sessions_ended": 1, "refresh_token_families_revoked": 2}
    assert (_refresh(client, phone["refresh_token"]), _refresh(client, laptop["refresh_token"])) == (400, 400)
    assert not _live(identity_service, cookie)


def test_signing_out_of_one_browser_ends_every_session_and_token_of_the_user(
    client: FlaskClient, identity_service: Identity
) -> None:
    user_id = _user_id(identity_service, "cio")
    here, elsewhere = _open_session(identity_service, user_id), _open_session(identity_service, user_id)
    api = login(client, "cio")
    client.set_cookie("cio_session", here)
    assert client.post("/sso/logout").json["logged_out"] is True
    assert not _live(identity_service, elsewhere)
    assert _refresh(client, api["refresh_token"]) == 400


def test_a_sign_out_link_from_another_site_ends_no_session(client: FlaskClient, identity_service: Identity) -> None:
    cookie = _open_session(identity_service, _user_id(identity_service, "cio"))
    client.set_cookie("cio_session", cookie)
    lured = client.get("/sso/logout", headers={"Sec-Fetch-Site": "cross-site"})
    assert lured.status_code == 200 and 'method="post"' in lured.text
    assert _live(identity_service, cookie)
    assert client.get("/sso/logout").status_code == 200 and _live(identity_service, cookie)  # no header: no proof
    forged = client.post("/sso/logout", headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403 and _live(identity_service, cookie)
    ours = client.get("/sso/logout", headers={"Sec-Fetch-Site": "same-origin"})
    assert ours.status_code == 302 and not _live(identity_service, cookie)


# -- OIDC back-channel logout against a provider key served on loopback ---------------------------------------
class _Jwks(BaseHTTPRequestHandler):
    body = b"{}"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *_args: Any) -> None:  # the test's output stays readable
        pass


@pytest.fixture
def upstream_key() -> Iterator[tuple[Any, str]]:
    """The provider's signing key and the URL of its JWKS."""
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    handler = type("Jwks", (_Jwks,), {"body": json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig"}]}).encode()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield key, f"http://127.0.0.1:{server.server_port}/jwks"
    finally:
        server.shutdown()


def _oidc(service: Identity, jwks_uri: str) -> sso.Sso:
    providers = parse_providers(
        {
            "providers": [
                {
                    "id": "city-oidc",
                    "name": "数字基座",
                    "protocol": "oidc",
                    "issuer": ISSUER,
                    "client_id": "cio",
                    "discovery": False,
                    "endpoints": {
                        "authorization_endpoint": f"{ISSUER}/auth",
                        "token_endpoint": f"{ISSUER}/token",
                        "jwks_uri": jwks_uri,
                    },
                    "mapping": "standard-oidc",
                    "org_scope": ["4108"],
                }
            ]
        }
    )
    return sso.Sso(providers, service.keyring, service.policy, public_base_url="http://test")


def _logout_token(key: Any, **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": "cio", "iat": now, "exp": now + 120, "jti": uuid.uuid4().hex, "events": BACKCHANNEL}
    body.update(claims)
    return jwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm="ES256", headers={"kid": "k1"})


def _provisioned(service: Identity, single: sso.Sso, subject: str) -> Any:
    claims = {"sub": subject, "name": "张明", "org_code": "4108020001"}
    uow = service.uow()
    with uow:
        user, _ = sso.provision_user(
            uow, single.providers["city-oidc"], single.providers["city-oidc"].mapping.apply(claims, "city-oidc")
        )
        tokens = issue_user_tokens(uow, service.keyring, service.policy, user)  # what mode=token hands out
        uow.commit()
    return user, tokens


def test_backchannel_logout_ends_every_session_and_mode_token_refresh_token_of_the_user(
    client: FlaskClient, identity_service: Identity, upstream_key: tuple[Any, str]
) -> None:
    key, jwks_uri = upstream_key
    single = _oidc(identity_service, jwks_uri)
    user, api_tokens = _provisioned(identity_service, single, "w-2001")
    first = _open_session(identity_service, user.id, subject="w-2001", sid="sid-1")
    second = _open_session(identity_service, user.id, subject="w-2001", sid="sid-2")
    token = _logout_token(key, sub="w-2001", sid="sid-1")
    assert sso.backchannel_logout(identity_service.uow(), single, "city-oidc", token) == 2
    assert not _live(identity_service, first) and not _live(identity_service, second)
    assert _refresh(client, str(api_tokens.refresh_token)) == 400


def test_a_replayed_logout_token_is_refused(identity_service: Identity, upstream_key: tuple[Any, str]) -> None:
    key, jwks_uri = upstream_key
    single = _oidc(identity_service, jwks_uri)
    user, _ = _provisioned(identity_service, single, "w-2002")
    token = _logout_token(key, sub="w-2002")
    sso.backchannel_logout(identity_service.uow(), single, "city-oidc", token)
    cookie = _open_session(identity_service, user.id, subject="w-2002")  # signed in again afterwards
    with pytest.raises(sso.SsoError) as replayed:
        sso.backchannel_logout(identity_service.uow(), single, "city-oidc", token)
    assert replayed.value.reason == "replayed_logout_token"
    assert _live(identity_service, cookie)


@pytest.mark.parametrize("missing", ["exp", "jti"])
def test_a_logout_token_without_exp_or_jti_is_refused(
    identity_service: Identity, upstream_key: tuple[Any, str], missing: str
) -> None:
    key, jwks_uri = upstream_key
    single = _oidc(identity_service, jwks_uri)
    user, _ = _provisioned(identity_service, single, "w-2003")
    cookie = _open_session(identity_service, user.id, subject="w-2003")
    with pytest.raises(sso.SsoError) as refused:
        sso.backchannel_logout(
            identity_service.uow(), single, "city-oidc", _logout_token(key, sub="w-2003", **{missing: None})
        )
    assert refused.value.reason == "invalid_logout_token"
    assert _live(identity_service, cookie)
