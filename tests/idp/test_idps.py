"""The test identity providers behave like real ones: tests of the fixtures and drivers only."""

from __future__ import annotations

import contextlib
import http.server
import threading
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import requests

from tests.idp.fixtures import OTHER_SERVICE, CasIdp, OidcIdp, pkce_pair, query_params

CALLBACK = "http://127.0.0.1:59999/sso/city/callback"
AFTER_LOGOUT = "http://127.0.0.1:59999/signed-out"


class _Recorder(http.server.BaseHTTPRequestHandler):
    """A stand-in RP endpoint: records every POST (path, headers, form body)."""

    received: list[dict[str, Any]]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        self.server.received.append(  # type: ignore[attr-defined]
            {"path": self.path, "content_type": self.headers.get("Content-Type", ""), "body": body}
        )
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the bench and the test print what matters."""


@contextlib.contextmanager
def recording_server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.received  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


def wait_until(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def new_client(idp: OidcIdp, **kwargs: Any) -> tuple[str, str]:
    client_id = f"cio-{uuid.uuid4().hex[:8]}"
    secret = "secret-" + uuid.uuid4().hex
    idp.add_client(client_id, secret, [CALLBACK], post_logout_redirect_uris=[AFTER_LOGOUT], **kwargs)
    return client_id, secret


def authorize_url(idp: OidcIdp, client_id: str, **params: str) -> str:
    query = {"client_id": client_id, "response_type": "code", "redirect_uri": CALLBACK, **params}
    return idp.discovery["authorization_endpoint"] + "?" + urllib.parse.urlencode(query)


def redeem(idp: OidcIdp, client_id: str, secret: str, code: str, verifier: str | None) -> requests.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    if verifier:
        data["code_verifier"] = verifier
    return requests.post(idp.discovery["token_endpoint"], data=data, auth=(client_id, secret), timeout=10)


def verify_id_token(idp: OidcIdp, token: str, client_id: str) -> dict[str, Any]:
    jwks = jwt.PyJWKClient(idp.discovery["jwks_uri"], cache_jwk_set=False)
    key = jwks.get_signing_key_from_jwt(token)
    claims: dict[str, Any] = jwt.decode(token, key.key, algorithms=["RS256"], audience=client_id, issuer=idp.issuer)
    return claims


# ---------------------------------------------------------------------------------------------------------------
# OIDC


def test_discovery_answers_like_a_real_provider(oidc_idp: OidcIdp) -> None:
    response = requests.get(oidc_idp.discovery_url, timeout=10)
    assert response.status_code == 200
    meta = response.json()
    assert meta["issuer"] == oidc_idp.issuer
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert {"client_secret_basic", "client_secret_post"} <= set(meta["token_endpoint_auth_methods_supported"])
    assert {"openid", "profile", "email", "phone"} <= set(meta["scopes_supported"])
    assert {"org_code", "org_name", "identity_type", "is_principal", "user_org", "account_status"} <= set(
        meta["claims_supported"]
    )
    assert meta["backchannel_logout_supported"] is True and meta["backchannel_logout_session_supported"] is True
    assert meta["end_session_endpoint"].startswith(oidc_idp.issuer)
    keys = requests.get(meta["jwks_uri"], timeout=10).json()["keys"]
    assert keys and all("d" not in k for k in keys)  # public halves only


def test_code_flow_with_pkce_gives_an_id_token_for_the_client_and_nonce(oidc_idp: OidcIdp) -> None:
    client_id, secret = new_client(oidc_idp)
    verifier, challenge = pkce_pair()
    nonce, state = uuid.uuid4().hex, uuid.uuid4().hex
    url = authorize_url(
        oidc_idp,
        client_id,
        scope="openid profile email phone",
        state=state,
        nonce=nonce,
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    location = oidc_idp.sign_in(url, "t-1001")
    assert location.startswith(CALLBACK + "?")
    params = query_params(location)
    assert params["state"] == state and params["iss"] == oidc_idp.issuer and params["code"]

    tokens = redeem(oidc_idp, client_id, secret, params["code"], verifier)
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    claims = verify_id_token(oidc_idp, body["id_token"], client_id)
    assert claims["aud"] == client_id and claims["nonce"] == nonce and claims["sub"] == "t-1001"
    assert claims["name"] == "张明" and claims["user_org"][0]["org_type"] == 2

    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    userinfo = requests.get(oidc_idp.discovery["userinfo_endpoint"], headers=bearer, timeout=10)
    assert userinfo.status_code == 200 and userinfo.json()["phone_number"] == "13800001001"

    # The code is single-use, and replaying it revokes what it gave (RFC 6749 4.1.2), as real providers do.
    replay = redeem(oidc_idp, client_id, secret, params["code"], verifier)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert requests.get(oidc_idp.discovery["userinfo_endpoint"], headers=bearer, timeout=10).status_code == 401


def test_pkce_is_required_and_checked(oidc_idp: OidcIdp) -> None:
    client_id, secret = new_client(oidc_idp)
    no_pkce = oidc_idp.sign_in(authorize_url(oidc_idp, client_id, scope="openid", state="s"), "t-1001")
    assert query_params(no_pkce)["error"] == "invalid_request"

    _, challenge = pkce_pair()
    url = authorize_url(
        oidc_idp, client_id, scope="openid", state="s", code_challenge=challenge, code_challenge_method="S256"
    )
    code = query_params(oidc_idp.sign_in(url, "t-1001"))["code"]
    wrong = redeem(oidc_idp, client_id, secret, code, pkce_pair()[0])
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"


def test_denied_sign_in_sends_access_denied(oidc_idp: OidcIdp) -> None:
    client_id, _ = new_client(oidc_idp)
    _, challenge = pkce_pair()
    url = authorize_url(
        oidc_idp, client_id, scope="openid", state="st", code_challenge=challenge, code_challenge_method="S256"
    )
    for location in (oidc_idp.deny(url), oidc_idp.deny(url, "t-1001")):
        params = query_params(location)
        assert location.startswith(CALLBACK) and params["error"] == "access_denied" and params["state"] == "st"


def test_changed_account_is_seen_by_the_next_sign_in(oidc_idp: OidcIdp) -> None:
    client_id, secret = new_client(oidc_idp)
    sub = f"u-{uuid.uuid4().hex[:6]}"
    oidc_idp.set_account(sub, {"name": "王老师", "org_code": "150302001"})
    names = []
    for name in (None, "王芳"):
        if name:
            oidc_idp.set_account(sub, {"name": name, "org_code": "150302001"})
        verifier, challenge = pkce_pair()
        url = authorize_url(
            oidc_idp,
            client_id,
            scope="openid profile",
            state="s",
            nonce="n",
            code_challenge=challenge,
            code_challenge_method="S256",
        )
        code = query_params(oidc_idp.sign_in(url, sub))["code"]
        token = redeem(oidc_idp, client_id, secret, code, verifier).json()["id_token"]
        names.append(verify_id_token(oidc_idp, token, client_id)["name"])
    assert names == ["王老师", "王芳"]


def test_key_rotation_signs_with_a_new_key(oidc_idp: OidcIdp) -> None:
    client_id, secret = new_client(oidc_idp)
    kids = []
    for rotate in (False, True):
        if rotate:
            new_kid = oidc_idp.rotate_keys()
        verifier, challenge = pkce_pair()
        url = authorize_url(
            oidc_idp, client_id, scope="openid", nonce="n", code_challenge=challenge, code_challenge_method="S256"
        )
        code = query_params(oidc_idp.sign_in(url, "t-1001"))["code"]
        token = redeem(oidc_idp, client_id, secret, code, verifier).json()["id_token"]
        kids.append(jwt.get_unverified_header(token)["kid"])
        verify_id_token(oidc_idp, token, client_id)
    assert kids[0] != kids[1] == new_kid
    published = [k["kid"] for k in requests.get(oidc_idp.discovery["jwks_uri"], timeout=10).json()["keys"]]
    assert published[0] == new_kid and kids[0] in published


def test_education_cloud_userinfo_with_plain_oauth2_code_flow(oidc_idp: OidcIdp) -> None:
    # Like the education-cloud platforms: no openid scope (so no id_token), no PKCE, client_secret_post.
    client_id, secret = new_client(oidc_idp, require_pkce=False, token_endpoint_auth_method="client_secret_post")
    url = authorize_url(oidc_idp, client_id, scope="profile", state="edu")
    params = query_params(oidc_idp.sign_in(url, "t-1001"))
    assert params["state"] == "edu"
    response = requests.post(
        oidc_idp.discovery["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": CALLBACK,
            "client_id": client_id,
            "client_secret": secret,
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert "id_token" not in tokens and tokens["token_type"] == "Bearer"
    access_token = tokens["access_token"]

    userinfo_url = f"{oidc_idp.issuer}/uias/oauth/userinfo"
    by_query = requests.get(userinfo_url, params={"access_token": access_token}, timeout=10)
    by_header = requests.get(userinfo_url, headers={"Authorization": f"Bearer {access_token}"}, timeout=10)
    for answer in (by_query, by_header):
        assert answer.status_code == 200
        body = answer.json()
        assert body["code"] == 0 and body["msg"] == "success"
        data = body["data"]
        assert data["userId"] == "t-1001" and data["realName"] == "张明" and data["mobile"] == "13800001001"
        assert data["user_org"][0] == {
            "org_code": "150302001",
            "org_name": "乌海市第一中学",
            "org_type": 2,
            "parent_code": "150300",
            "is_principal": True,
        }
        assert data["status"] == "active"

    for bad in ({"access_token": "not-a-token"}, {}):
        answer = requests.get(userinfo_url, params=bad, timeout=10)
        assert answer.status_code == 200 and answer.json() == {"code": 40001, "msg": "invalid token"}


def test_backchannel_logout_reaches_the_rp_with_sid(oidc_idp: OidcIdp) -> None:
    with recording_server() as (rp, received):
        client_id, secret = new_client(oidc_idp, backchannel_logout_uri=f"{rp}/sso/city/backchannel-logout")
        session = requests.Session()
        verifier, challenge = pkce_pair()
        url = authorize_url(
            oidc_idp,
            client_id,
            scope="openid profile",
            state="s",
            nonce="n",
            code_challenge=challenge,
            code_challenge_method="S256",
        )
        code = query_params(oidc_idp.sign_in(url, "b-2001", session=session))["code"]
        id_token = redeem(oidc_idp, client_id, secret, code, verifier).json()["id_token"]
        sid = verify_id_token(oidc_idp, id_token, client_id)["sid"]

        location = oidc_idp.logout(session, AFTER_LOGOUT, id_token_hint=id_token, state="bye")
        assert location == f"{AFTER_LOGOUT}?state=bye"
        wait_until(lambda: received)  # the provider sends it before answering; this only guards the thread

    [call] = received
    assert call["path"] == "/sso/city/backchannel-logout"
    assert call["content_type"].startswith("application/x-www-form-urlencoded")
    logout_token = urllib.parse.parse_qs(call["body"])["logout_token"][0]
    jwks = jwt.PyJWKClient(oidc_idp.discovery["jwks_uri"], cache_jwk_set=False)
    claims = jwt.decode(
        logout_token,
        jwks.get_signing_key_from_jwt(logout_token).key,
        algorithms=["RS256"],
        audience=client_id,
        issuer=oidc_idp.issuer,
    )
    assert claims["sid"] == sid and claims["sub"] == "b-2001"
    assert "http://schemas.openid.net/event/backchannel-logout" in claims["events"]
    assert "nonce" not in claims

    # The provider's session is gone: the same browser must sign in again.
    _, challenge = pkce_pair()
    again = authorize_url(oidc_idp, client_id, scope="openid", code_challenge=challenge, code_challenge_method="S256")
    assert "error" in query_params(oidc_idp.deny(again, session=session))


@pytest.mark.parametrize("scope", ["openid", "profile"])
def test_unknown_login_is_not_signed_in(oidc_idp: OidcIdp, scope: str) -> None:
    client_id, _ = new_client(oidc_idp)
    _, challenge = pkce_pair()
    url = authorize_url(oidc_idp, client_id, scope=scope, code_challenge=challenge, code_challenge_method="S256")
    with pytest.raises(AssertionError):
        oidc_idp.sign_in(url, "nobody-" + uuid.uuid4().hex)


# ---------------------------------------------------------------------------------------------------------------
# CAS

CAS = "{http://www.yale.edu/tp/cas}"


def parse_xml(data: bytes | str) -> ET.Element:
    return ET.fromstring(data)  # noqa: S314 - the answer of the test's own provider


def cas_success(response: requests.Response) -> tuple[str, dict[str, list[str]]]:
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/xml")
    root = parse_xml(response.content)
    success = root.find(f"{CAS}authenticationSuccess")
    assert success is not None, response.text
    attributes: dict[str, list[str]] = {}
    released = success.find(f"{CAS}attributes")
    for element in released if released is not None else []:
        attributes.setdefault(element.tag.removeprefix(CAS), []).append(element.text or "")
    return success.findtext(f"{CAS}user") or "", attributes


def cas_failure_code(response: requests.Response) -> str | None:
    failure = parse_xml(response.content).find(f"{CAS}authenticationFailure")
    return None if failure is None else failure.get("code")


def platform_service(port: int = 59999) -> str:
    return f"http://127.0.0.1:{port}/sso/cas/callback?next=%2Fme"


def test_cas_ticket_validates_with_attributes_for_its_service_only(cas_idp: CasIdp) -> None:
    service = platform_service()
    session = requests.Session()
    location = cas_idp.sign_in(cas_idp.login_url(service), "zhangming", "zhangming-pw", session=session)
    assert location.startswith(service + "&ticket=ST-")
    ticket = query_params(location)["ticket"]

    user, attributes = cas_success(cas_idp.validate(service, ticket))
    assert user == "zhangming"
    assert attributes["display_name"] == ["张明"] and attributes["org_code"] == ["150302001"]
    assert attributes["is_principal"] == ["true"] and attributes["identity_type"] == ["teacher"]
    assert attributes["mail"] == ["zhangming@school1.wuhai.example"] and attributes["mobile"] == ["13800001001"]
    # A service ticket is single-use.
    assert cas_failure_code(cas_idp.validate(service, ticket)) == "INVALID_TICKET"

    # A ticket issued to another service is refused for the platform's.
    other = cas_idp.ticket_for(OTHER_SERVICE, "zhangming", "zhangming-pw")
    assert cas_failure_code(cas_idp.validate(service, other)) == "INVALID_SERVICE"
    # The other service's pattern releases no attributes.
    other = cas_idp.ticket_for(OTHER_SERVICE, "zhangming", "zhangming-pw")
    user, attributes = cas_success(cas_idp.validate(OTHER_SERVICE, other))
    assert user == "zhangming" and "display_name" not in attributes

    # Single sign-on: the same browser gets a ticket without the form.
    again = cas_idp.sign_in(cas_idp.login_url(service), "zhangming", "ignored", session=session)
    assert cas_success(cas_idp.validate(service, query_params(again)["ticket"]))[1]["isFromNewLogin"] == ["false"]


def test_cas_json_format(cas_idp: CasIdp) -> None:
    service = platform_service()
    ticket = cas_idp.ticket_for(service, "lihua", "lihua-pw")
    answer = cas_idp.validate(service, ticket, format="JSON")
    assert answer.headers["Content-Type"].startswith("application/json")
    success = answer.json()["serviceResponse"]["authenticationSuccess"]
    assert success["user"] == "lihua" and success["attributes"]["org_name"] == ["乌海市教育局"]
    failure = cas_idp.validate(service, ticket, format="JSON").json()["serviceResponse"]["authenticationFailure"]
    assert failure["code"] == "INVALID_TICKET"


def test_cas_refuses_bad_credentials_and_unknown_services(cas_idp: CasIdp) -> None:
    with pytest.raises(AssertionError, match="credentials"):
        cas_idp.sign_in(cas_idp.login_url(platform_service()), "zhangming", "wrong")
    with pytest.raises(AssertionError, match="not allowed"):
        cas_idp.sign_in(cas_idp.login_url("http://unregistered.example/"), "zhangming", "zhangming-pw")


def test_cas_changed_attributes_are_released_at_the_next_sign_in(cas_idp: CasIdp) -> None:
    username = f"wang-{uuid.uuid4().hex[:6]}"
    service = platform_service()
    names = []
    for name in ("王老师", "王芳"):
        cas_idp.set_user(username, "pw", {"display_name": name, "org_code": "150302001", "roles": ["a", "b"]})
        _, attributes = cas_success(cas_idp.validate(service, cas_idp.ticket_for(service, username, "pw")))
        names.append(attributes["display_name"][0])
        assert attributes["roles"] == ["a", "b"]  # multi-valued
    assert names == ["王老师", "王芳"]
    cas_idp.set_user(username, "pw", {}, disabled=True)
    with pytest.raises(AssertionError, match="credentials"):
        cas_idp.ticket_for(service, username, "pw")


def test_cas_logout_sends_a_logout_request_to_the_service(cas_idp: CasIdp) -> None:
    with recording_server() as (rp, received):
        service = f"{rp}/sso/cas/callback"
        session = requests.Session()
        ticket = query_params(cas_idp.sign_in(cas_idp.login_url(service), "lihua", "lihua-pw", session=session))[
            "ticket"
        ]
        cas_success(cas_idp.validate(service, ticket))
        assert cas_idp.logout(session) == f"{cas_idp.base_url}/logout"
        wait_until(lambda: received)  # sent before the logout page answers; this only guards the thread

    [call] = received
    assert call["path"] == "/sso/cas/callback"
    assert call["content_type"].startswith("application/x-www-form-urlencoded")
    request = parse_xml(urllib.parse.parse_qs(call["body"])["logoutRequest"][0])
    assert request.tag == "{urn:oasis:names:tc:SAML:2.0:protocol}LogoutRequest"
    assert request.findtext("{urn:oasis:names:tc:SAML:2.0:protocol}SessionIndex") == ticket

    # The CAS sign-on is over: the same browser sees the form again.
    with pytest.raises(AssertionError, match="did not redirect"):
        cas_idp.sign_in(cas_idp.login_url(service), "lihua", "wrong", session=session)
