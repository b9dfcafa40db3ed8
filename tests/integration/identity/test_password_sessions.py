"""The portal's sign-in with a local account (POST /api/auth/session): the same HttpOnly cookie session single
sign-on opens, the token endpoint's lockout, problems in both languages, and sign-out through /sso/logout."""

from __future__ import annotations

import jwt
import pytest
from flask.testing import FlaskClient
from identity.adapters.orm import sso_sessions
from identity.bootstrap import Identity
from sqlalchemy import select
from werkzeug.test import TestResponse

from shared.audit import audit_log
from tests.integration.identity.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.integration

SESSION_COOKIE = "cio_session"


def _sign_in(client: FlaskClient, username: str, password: str = DEMO_PASSWORD, **headers: str) -> TestResponse:
    return client.post("/api/auth/session", json={"username": username, "password": password}, headers=headers)


def _cookie_attributes(set_cookie: str) -> dict[str, str]:
    """`name=value; HttpOnly; Max-Age=28800; …` as {attribute (lower case): value}."""
    attributes: dict[str, str] = {}
    for part in set_cookie.split(";"):
        name, _, value = part.strip().partition("=")
        attributes[name.lower()] = value
    return attributes


def _session_token(client: FlaskClient) -> str | None:
    """What the gateway asks for each request carrying the cookie: the access token it forwards."""
    return client.get("/sso/session").headers.get("X-Access-Token")


def test_signing_in_sets_an_httponly_session_cookie_and_answers_no_token(client: FlaskClient) -> None:
    response = _sign_in(client, "school.admin")
    assert response.status_code == 204
    assert response.data == b""
    assert response.headers["Cache-Control"] == "no-store"
    attributes = _cookie_attributes(response.headers["Set-Cookie"])
    assert attributes[SESSION_COOKIE]
    assert "httponly" in attributes and attributes["samesite"] == "Lax"
    assert attributes["path"] == "/" and attributes["max-age"] == str(8 * 3600)
    assert "secure" not in attributes, "a plain-http platform (the tests' own) cannot use a Secure cookie"


def test_the_session_cookie_is_secure_behind_https(client: FlaskClient, identity_service: Identity) -> None:
    identity_service.sso.public_base_url = "https://cio.example.edu.cn"
    response = _sign_in(client, "school.admin", Origin="https://cio.example.edu.cn")
    assert response.status_code == 204
    assert "secure" in _cookie_attributes(response.headers["Set-Cookie"])


def test_the_session_carries_the_accounts_grants_and_says_it_is_no_single_sign_on(client: FlaskClient) -> None:
    _sign_in(client, "school.admin")
    token = _session_token(client)
    assert token is not None
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["preferred_username"] == "school.admin"
    assert claims["grants"] == [["school_admin", "/4108/410802/4108020001"]]
    assert "idp" not in claims
    me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json["display_name"] == "解放区第一实验小学校长"
    assert me.json["sso"] is False
    assert me.json["grants"][0]["org_name"] == "解放区第一实验小学"


def test_a_wrong_password_is_401_in_both_languages_and_sets_no_cookie(client: FlaskClient) -> None:
    response = _sign_in(client, "school.admin", "not-the-password")
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json["reason"] == "invalid_credentials"
    assert response.json["detail"] == "The username or password is wrong."
    assert response.json["detail_zh"] == "用户名或密码错误。"
    assert "Set-Cookie" not in response.headers


def test_five_failures_lock_the_account_for_fifteen_minutes_even_with_the_right_password(
    client: FlaskClient,
) -> None:
    statuses = [_sign_in(client, "evaluator", "wrong").status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 423]
    locked = _sign_in(client, "evaluator")
    assert locked.status_code == 423
    assert locked.json["reason"] == "account_locked"
    assert "15" in locked.json["detail"] and "15 分钟" in locked.json["detail_zh"]
    assert "Set-Cookie" not in locked.headers


def test_the_token_endpoint_and_the_session_sign_in_share_one_failure_count(client: FlaskClient) -> None:
    for _ in range(4):
        client.post("/api/auth/token", data={"grant_type": "password", "username": "auditor", "password": "x"})
    assert _sign_in(client, "auditor", "x").status_code == 423


def test_unknown_accounts_are_refused_like_wrong_passwords(client: FlaskClient) -> None:
    unknown = _sign_in(client, "nobody.here", "x")
    known = _sign_in(client, "school.admin", "x")
    assert (unknown.status_code, unknown.json["detail"]) == (known.status_code, known.json["detail"])


def test_missing_fields_are_a_400_naming_each(client: FlaskClient) -> None:
    response = client.post("/api/auth/session", json={"username": ""})
    assert response.status_code == 400
    assert response.json["detail_zh"] == "请输入用户名和密码。"
    assert {e["field"] for e in response.json["errors"]} == {"username", "password"}


def test_a_sign_in_from_another_sites_page_is_refused(client: FlaskClient, identity_service: Identity) -> None:
    response = _sign_in(client, "school.admin", Origin="https://evil.example")
    assert response.status_code == 403
    assert response.json["detail_zh"]
    assert "Set-Cookie" not in response.headers
    with identity_service.session_factory() as session:
        assert session.execute(select(sso_sessions)).first() is None


def test_signing_out_ends_the_local_session_with_no_upstream_to_visit(client: FlaskClient) -> None:
    _sign_in(client, "cio")
    assert _session_token(client) is not None
    cookie = client.get_cookie(SESSION_COOKIE)
    assert cookie is not None
    out = client.post("/sso/logout")
    assert out.status_code == 200
    assert out.json == {"logged_out": True, "upstream_logout_url": None}
    assert client.get_cookie(SESSION_COOKIE) is None, "the browser drops the cookie"
    # The ended session gives no token even to a client that kept the cookie.
    client.set_cookie(SESSION_COOKIE, cookie.value)
    assert _session_token(client) is None


def test_signing_out_from_another_sites_page_is_refused(client: FlaskClient) -> None:
    _sign_in(client, "cio")
    assert client.post("/sso/logout", headers={"Origin": "https://evil.example"}).status_code == 403
    assert _session_token(client) is not None


def test_session_sign_ins_and_refusals_are_audited(client: FlaskClient, identity_service: Identity) -> None:
    _sign_in(client, "county.reviewer", "wrong")
    _sign_in(client, "county.reviewer")
    with identity_service.session_factory() as session:
        rows = session.execute(
            select(audit_log.c.actor, audit_log.c.outcome, audit_log.c.details)
            .where(audit_log.c.action == "login")
            .order_by(audit_log.c.id)
        ).all()
    assert [(r.actor, r.outcome) for r in rows] == [("county.reviewer", "failed"), ("county.reviewer", "ok")]
    assert rows[1].details == {"mode": "session"}
