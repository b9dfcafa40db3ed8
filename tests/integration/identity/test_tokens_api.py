"""The token endpoint against PostgreSQL: grants, rotation with reuse detection, lockout, keys."""

from __future__ import annotations

import datetime as dt
import time

import jwt
import pytest
from flask.testing import FlaskClient
from identity.adapters import keys
from identity.adapters.orm import oauth_clients, refresh_tokens
from identity.bootstrap import Identity
from identity.service_layer import tokens
from sqlalchemy import event as sa_event
from sqlalchemy import select

from shared.audit import audit_log
from tests.integration.identity.conftest import DEMO_PASSWORD, bearer, login

pytestmark = pytest.mark.integration


def test_password_grant_gives_a_short_lived_es256_token_with_grants(
    client: FlaskClient, identity_service: Identity
) -> None:
    body = login(client, "county.reviewer")
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "ES256" and header["kid"]
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["grants"] == [["county_reviewer", "/4108/410802"]]
    assert {"iss", "sub", "aud", "exp", "iat", "jti"} <= set(claims)
    assert claims["exp"] - claims["iat"] == 900


def test_me_answers_with_the_users_grants(client: FlaskClient) -> None:
    response = client.get("/api/me", headers=bearer(client, "school.admin"))
    assert response.status_code == 200
    assert response.json["username"] == "school.admin"
    assert response.json["grants"] == [
        {
            "role": "school_admin",
            "org_path": "/4108/410802/4108020001",
            "org_code": "4108020001",
            "org_name": "解放区第一实验小学",
        }
    ]
    # A token from the password grant is no single sign-on session.
    assert response.json["sso"] is False and response.json["sso_provider"] is None


def test_me_names_no_org_for_a_platform_wide_grant(client: FlaskClient) -> None:
    response = client.get("/api/me", headers=bearer(client, "admin"))
    assert response.json["display_name"] == "平台管理员"
    assert response.json["grants"] == [{"role": "platform_admin", "org_path": "/", "org_code": None, "org_name": None}]


def test_refresh_rotates_and_reuse_revokes_the_family(client: FlaskClient, identity_service: Identity) -> None:
    first = login(client, "cio")["refresh_token"]
    second = client.post("/api/auth/token", data={"grant_type": "refresh_token", "refresh_token": first})
    assert second.status_code == 200
    newer = second.json["refresh_token"]
    assert newer != first

    reused = client.post("/api/auth/token", data={"grant_type": "refresh_token", "refresh_token": first})
    assert reused.status_code == 400
    assert reused.json["error"] == "invalid_grant"

    # The thief's reuse also killed the legitimate holder's newer token.
    after = client.post("/api/auth/token", data={"grant_type": "refresh_token", "refresh_token": newer})
    assert after.status_code == 400
    with identity_service.session_factory() as session:
        rows = session.execute(select(refresh_tokens.c.revoked_at)).all()
        assert rows and all(r.revoked_at is not None for r in rows)
        actions = session.execute(select(audit_log.c.action).where(audit_log.c.action == "refresh_token_reuse")).all()
        assert len(actions) == 1


def test_lockout_after_repeated_failures_even_with_the_right_password(client: FlaskClient) -> None:
    for _ in range(5):
        bad = client.post("/api/auth/token", data={"grant_type": "password", "username": "evaluator", "password": "x"})
        assert bad.status_code == 400
    locked = client.post(
        "/api/auth/token", data={"grant_type": "password", "username": "evaluator", "password": DEMO_PASSWORD}
    )
    assert locked.status_code == 400
    assert locked.json["error"] == "invalid_grant"


def test_unknown_usernames_lock_the_same_way_without_revealing_they_do_not_exist(client: FlaskClient) -> None:
    answers = []
    for username in ("evaluator", "nobody.here"):
        for _ in range(6):
            r = client.post("/api/auth/token", data={"grant_type": "password", "username": username, "password": "x"})
            answers.append((r.status_code, r.json["error"], r.json["detail"]))
    assert len(set(answers)) == 1


def test_successful_login_resets_the_failure_count(client: FlaskClient) -> None:
    for _ in range(4):
        client.post("/api/auth/token", data={"grant_type": "password", "username": "auditor", "password": "x"})
    login(client, "auditor")
    for _ in range(4):
        client.post("/api/auth/token", data={"grant_type": "password", "username": "auditor", "password": "x"})
    login(client, "auditor")


def test_logins_are_audited(client: FlaskClient, identity_service: Identity) -> None:
    client.post("/api/auth/token", data={"grant_type": "password", "username": "liaison", "password": "wrong"})
    login(client, "liaison")
    with identity_service.session_factory() as session:
        outcomes = [
            r.outcome
            for r in session.execute(
                select(audit_log.c.outcome).where(audit_log.c.action == "login", audit_log.c.actor == "liaison")
            )
        ]
    assert outcomes == ["failed", "ok"]


def test_client_credentials_with_basic_auth(client: FlaskClient, identity_service: Identity) -> None:
    secret = tokens.register_client(identity_service.uow(), "svc-approvals", "approvals", [["platform_admin", "/"]])
    import base64

    basic = base64.b64encode(f"svc-approvals:{secret}".encode()).decode()
    ok = client.post(
        "/api/auth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )
    assert ok.status_code == 200
    assert "refresh_token" not in ok.json
    claims = jwt.decode(ok.json["access_token"], options={"verify_signature": False})
    assert claims["sub"] == "client:svc-approvals" and claims["client_id"] == "svc-approvals"
    me = client.get("/api/me", headers={"Authorization": f"Bearer {ok.json['access_token']}"})
    assert me.json["client_id"] == "svc-approvals"

    wrong = client.post(
        "/api/auth/token",
        data={"grant_type": "client_credentials", "client_id": "svc-approvals", "client_secret": secret + "x"},
    )
    assert wrong.status_code == 401 and wrong.json["error"] == "invalid_client"


def _client_token(client: FlaskClient, client_id: str, secret: str) -> int:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    return int(client.post("/api/auth/token", data=form).status_code)


def test_client_credentials_tokens_cost_no_query_and_no_write_while_the_client_is_cached(
    client: FlaskClient, identity_service: Identity
) -> None:
    secret = tokens.register_client(identity_service.uow(), "svc-cache", "cache", [["platform_admin", "/"]])
    assert _client_token(client, "svc-cache", secret) == 200  # reads the client once
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731 - before_cursor_execute(conn, cursor, statement, ...)
    sa_event.listen(identity_service.engine, "before_cursor_execute", listener)
    try:
        for _ in range(5):
            assert _client_token(client, "svc-cache", secret) == 200
    finally:
        sa_event.remove(identity_service.engine, "before_cursor_execute", listener)
    # (The key ring re-reads the signing keys every few seconds whoever asks; that read is not the client's.)
    assert [
        s for s in statements if "oauth_clients" in s or s.split()[0].upper() in ("INSERT", "UPDATE", "DELETE")
    ] == []


def test_a_re_keyed_client_is_seen_at_once_here_and_a_removed_one_within_the_cache_time_everywhere(
    client: FlaskClient, identity_service: Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = tokens.register_client(identity_service.uow(), "svc-rekey", "rekey", [["platform_admin", "/"]])
    assert _client_token(client, "svc-rekey", old) == 200
    new = tokens.register_client(identity_service.uow(), "svc-rekey", "rekey", [["platform_admin", "/"]])
    assert _client_token(client, "svc-rekey", old) == 401
    assert _client_token(client, "svc-rekey", new) == 200
    # Another process (the cli) deactivates it: this process's entry serves until CLIENT_CACHE_SECONDS pass.
    with identity_service.engine.begin() as conn:
        conn.execute(oauth_clients.update().where(oauth_clients.c.client_id == "svc-rekey").values(is_active=False))
    later = time.monotonic() + tokens.CLIENT_CACHE_SECONDS + 1
    monkeypatch.setattr(tokens.time, "monotonic", lambda: later)
    assert _client_token(client, "svc-rekey", new) == 401


def test_bad_token_request_names_the_field(client: FlaskClient) -> None:
    r = client.post("/api/auth/token", data={"grant_type": "magic"})
    assert r.status_code == 400
    assert r.content_type == "application/problem+json"
    assert r.json["error"] == "invalid_request"
    assert r.json["errors"][0]["field"] == "grant_type"


def test_rotation_publishes_next_key_before_it_signs(client: FlaskClient, identity_service: Identity) -> None:
    jwks = client.get("/api/auth/.well-known/jwks.json").json
    assert len(jwks["keys"]) == 2  # active + next
    old_token = login(client, "city.reviewer")["access_token"]
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    next_kid = next(k["kid"] for k in jwks["keys"] if k["kid"] != old_kid)

    with identity_service.session_factory() as session, session.begin(), pytest.raises(keys.RotationTooEarly):
        keys.rotate(session, identity_service.signing_secret, min_next_age=dt.timedelta(hours=1))
    with identity_service.session_factory() as session, session.begin():
        promoted = keys.rotate(session, identity_service.signing_secret, min_next_age=dt.timedelta(0))
    assert promoted == next_kid

    identity_service.keyring.refresh_seconds = 0
    new_token = login(client, "city.reviewer")["access_token"]
    assert jwt.get_unverified_header(new_token)["kid"] == next_kid
    kids = {k["kid"] for k in client.get("/api/auth/.well-known/jwks.json").json["keys"]}
    assert {old_kid, next_kid} <= kids and len(kids) == 3  # retired (still valid tokens), active, new next
    # A token signed before the rotation still verifies.
    assert client.get("/api/me", headers={"Authorization": f"Bearer {old_token}"}).status_code == 200
