"""Single sign-on through the gateway against real identity providers the tests start (no protocol mocks):
oidc-provider as the city's OIDC provider and its education-cloud OAuth2 variant, django-cas-server as CAS.

Each flow is what a browser does: `/sso/<provider>/login` at the gateway, the provider's own login pages
(driven over HTTP by tests/idp), the callback, then `/api/me` with only the session cookie.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pika
import pytest
import requests
import yaml

from tests.e2e.conftest import Stack, free_port, running_stack, token
from tests.helpers import wait_until
from tests.idp.fixtures import CasIdp, OidcIdp, pkce_pair, query_params, start_oidc_idp
from tests.infrastructure import Infrastructure

pytestmark = pytest.mark.e2e

SCHOOL = "1503020001"  # 海勃湾区第一中学 in the demo tree, under 150302 海勃湾区教育局
SCHOOL_PATH = "/1503/150302/1503020001"
OIDC_SECRET = "oidc-client-secret-" + uuid.uuid4().hex
EDU_SECRET = "edu-client-secret-" + uuid.uuid4().hex
OTHER_SECRET = "other-client-secret-" + uuid.uuid4().hex
OTHER_CALLBACK = "http://other.example/callback"


def teacher(name: str = "张明", **changes: Any) -> dict[str, Any]:
    """A principal of the demo school as the digital base describes them."""
    claims = {
        "name": name,
        "preferred_username": "zhangming",
        "email": "zhangming@school1.wuhai.example",
        "email_verified": True,
        "phone_number": "13800001001",
        "org_code": SCHOOL,
        "org_name": "海勃湾区第一中学",
        "parent_org_code": "150302",
        "identity_type": "teacher",
        "is_principal": True,
        "user_org": [
            {"org_code": "150302", "org_name": "海勃湾区教育局", "org_type": 1, "parent_code": "1503"},
            {
                "org_code": SCHOOL,
                "org_name": "海勃湾区第一中学",
                "org_type": 2,
                "parent_code": "150302",
                "is_principal": True,
                "is_main": 1,
            },
        ],
        "account_status": "active",
    }
    claims.update(changes)
    return claims


def cas_teacher(name: str, **changes: Any) -> dict[str, Any]:
    """The attributes the CAS server releases for a principal of the demo school."""
    return {
        "display_name": name,
        "mail": "wangwu@school1.wuhai.example",
        "mobile": "13800001002",
        "org_code": SCHOOL,
        "org_name": "海勃湾区第一中学",
        "identity_type": "teacher",
        "is_principal": True,
        **changes,
    }


class TokenSwap:
    """A man in the middle on the token endpoint: forwards to the real provider and, when armed, puts
    another (genuinely signed) id_token in the answer, as a token-substitution attack would."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.substitute: str | None = None
        swap = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type")}
                answer = requests.post(swap.upstream, data=body, headers=headers, timeout=10)
                payload = answer.content
                if swap.substitute and answer.status_code == 200:
                    data = answer.json()
                    data["id_token"] = swap.substitute
                    payload = json.dumps(data).encode()
                self.send_response(answer.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *_args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/token"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Sso:
    stack: Stack
    oidc: OidcIdp
    cas: CasIdp
    swap: TokenSwap

    @property
    def gateway(self) -> str:
        return self.stack.gateway

    def start(self, provider: str, browser: requests.Session, **params: str) -> str:
        """`/sso/<provider>/login` in `browser`; the upstream URL it redirects to."""
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        response = browser.get(f"{self.gateway}/sso/{provider}/login{query}", allow_redirects=False, timeout=10)
        assert response.status_code == 302, response.text
        return response.headers["Location"]

    def callback(self, browser: requests.Session, location: str, **kwargs: Any) -> requests.Response:
        assert location.startswith(self.gateway), location
        return browser.get(location, allow_redirects=False, timeout=15, **kwargs)

    def sign_in(self, provider: str, login: str, **params: str) -> tuple[requests.Session, requests.Session]:
        """A full browser sign-in; returns (platform browser, the provider's session of the same user)."""
        browser = requests.Session()
        upstream = requests.Session()
        location = self.oidc.sign_in(self.start(provider, browser, **params), login, session=upstream)
        response = self.callback(browser, location)
        assert response.status_code == 302, response.text
        assert "cio_session" in browser.cookies
        return browser, upstream

    def me(self, browser: requests.Session) -> requests.Response:
        return browser.get(f"{self.gateway}/api/me", timeout=10)


def _providers_file(path: Path, oidc: OidcIdp, cas: CasIdp, swap: TokenSwap, dead_port: int) -> Path:
    meta = oidc.discovery
    oidc_entry = {
        "name": "乌海市教育数字基座",
        "protocol": "oidc",
        "issuer": oidc.issuer,
        "client_id": "cio-platform",
        "client_secret_env": "CITY_OIDC_SECRET",
        "mapping": "standard-oidc",
        "org_scope": ["1503"],  # 乌海市: the base speaks for its own city only
    }
    providers = [
        {"id": "city-oidc", **oidc_entry},
        # The same client behind a token endpoint the test can tamper with.
        {
            "id": "city-oidc-mitm",
            **oidc_entry,
            "discovery": False,
            "endpoints": {
                "authorization_endpoint": meta["authorization_endpoint"],
                "token_endpoint": swap.url,
                "userinfo_endpoint": meta["userinfo_endpoint"],
                "jwks_uri": meta["jwks_uri"],
            },
        },
        {"id": "city-oidc-down", **oidc_entry, "issuer": f"http://127.0.0.1:{dead_port}"},
        {
            "id": "edu-cloud",
            "name": "教育云",
            "protocol": "oauth2",
            "client_id": "edu-cloud-app",
            "client_secret_env": "EDU_CLOUD_SECRET",
            "scopes": ["profile"],
            "token_auth_method": "client_secret_post",
            "endpoints": {
                "authorization_endpoint": meta["authorization_endpoint"],
                "token_endpoint": meta["token_endpoint"],
                "userinfo_endpoint": f"{oidc.issuer}/uias/oauth/userinfo",
            },
            "userinfo": {
                "token_in": "query",
                "path": "data",
                "success": {"claim": "code", "equals": 0},
                "message": "msg",
            },
            "mapping": "education-cloud",
            "org_scope": ["1503"],
        },
        {
            "id": "city-cas",
            "name": "统一身份认证（CAS）",
            "protocol": "cas",
            "server_url": cas.base_url,
            "mapping": "cas-attributes",
            "org_scope": ["1503"],
        },
        {
            "id": "city-cas-json",
            "name": "统一身份认证（CAS JSON）",
            "protocol": "cas",
            "server_url": cas.base_url,
            "response_format": "json",
            "mapping": "cas-attributes",
            "org_scope": ["1503"],
        },
    ]
    path.write_text(yaml.safe_dump({"providers": providers}, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def oidc_idp(
    oidc_idp_clients: list[dict[str, Any]],
    oidc_idp_accounts: dict[str, dict[str, Any]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OidcIdp]:
    """This module's own OIDC provider, not the session's: the module rotates the provider's signing keys, disables
    accounts and registers clients whose callbacks die with its stack, and none of that should reach the provider
    other modules use (nor their clients, registered for stacks long stopped, reach this one)."""
    with start_oidc_idp(oidc_idp_clients, oidc_idp_accounts, workdir=tmp_path_factory.mktemp("oidc-idp-sso")) as idp:
        yield idp


@pytest.fixture(scope="module")
def sso(
    infra: Infrastructure,
    oidc_idp: OidcIdp,
    cas_idp: CasIdp,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Sso]:
    """Identity and the gateway, configured with the test providers; the clients registered at them."""
    run = tmp_path_factory.mktemp("sso")
    port = free_port()
    gateway = f"http://127.0.0.1:{port}"
    callbacks = [f"{gateway}/sso/{p}/callback" for p in ("city-oidc", "city-oidc-mitm", "city-oidc-down")]
    oidc_idp.add_client(
        "cio-platform",
        OIDC_SECRET,
        callbacks,
        post_logout_redirect_uris=[f"{gateway}/"],
        backchannel_logout_uri=f"{gateway}/sso/city-oidc/backchannel-logout",
    )
    oidc_idp.add_client(
        "edu-cloud-app",
        EDU_SECRET,
        [f"{gateway}/sso/edu-cloud/callback"],
        require_pkce=False,
        token_endpoint_auth_method="client_secret_post",
    )
    oidc_idp.add_client("other-app", OTHER_SECRET, [OTHER_CALLBACK])
    oidc_idp.set_account("w-1001", teacher())
    swap = TokenSwap(oidc_idp.discovery["token_endpoint"])
    cas_idp.set_user("wangwu", "wangwu-pw", cas_teacher("王五"))
    providers = _providers_file(run / "providers.yaml", oidc_idp, cas_idp, swap, free_port())
    env = {
        "SSO_PROVIDERS_FILE": str(providers),
        "CITY_OIDC_SECRET": OIDC_SECRET,
        "EDU_CLOUD_SECRET": EDU_SECRET,
        # The test providers speak plain HTTP on loopback; Authlib refuses that unless told.
        "AUTHLIB_INSECURE_TRANSPORT": "1",
    }
    try:
        with running_stack(infra, run, only={"identity"}, gateway_port=port, extra_env=env) as stack:
            yield Sso(stack, oidc_idp, cas_idp, swap)
    finally:
        swap.close()


def _grants(response: requests.Response) -> set[tuple[str, str]]:
    assert response.status_code == 200, response.text
    return {(g["role"], g["org_path"]) for g in response.json()["grants"]}


def _admin(sso: Sso) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(sso.stack, 'admin')}"}


def _id_token_for(oidc: OidcIdp, client_id: str, secret: str, redirect_uri: str, login: str, nonce: str) -> str:
    """A real id_token from a code flow done by hand (for another client, or another sign-in)."""
    verifier, challenge = pkce_pair()
    params = {
        "client_id": client_id,
        "response_type": "code",
        "scope": "openid profile",
        "redirect_uri": redirect_uri,
        "state": uuid.uuid4().hex,
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    url = f"{oidc.discovery['authorization_endpoint']}?{urllib.parse.urlencode(params)}"
    code = query_params(oidc.sign_in(url, login))["code"]
    answer = requests.post(
        oidc.discovery["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        },
        auth=(client_id, secret),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id_token"])


# -- OIDC -----------------------------------------------------------------------------------------------------
def test_first_oidc_sign_in_provisions_the_user_in_their_school_with_the_mapped_role(sso: Sso) -> None:
    browser = requests.Session()
    upstream = sso.start("city-oidc", browser, return_to="/portal/nominations")
    query = query_params(upstream)
    assert query["code_challenge_method"] == "S256" and query["nonce"] and query["state"]
    location = sso.oidc.sign_in(upstream, "w-1001")
    landed = sso.callback(browser, location)
    assert landed.status_code == 302 and landed.headers["Location"] == "/portal/nominations"
    cookie = next(c for c in browser.cookies if c.name == "cio_session")
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.path == "/"
    assert "samesite=lax" in landed.headers["Set-Cookie"].lower()

    me = sso.me(browser)
    assert _grants(me) == {("school_admin", SCHOOL_PATH)}
    body = me.json()
    assert body["display_name"] == "张明" and body["org_code"] == SCHOOL
    assert body["username"] == "zhangming@city-oidc"
    assert body["sso"] is True and body["sso_provider"] == "city-oidc", "the portal signs out upstream too"

    user = requests.get(f"{sso.gateway}/api/users/{body['id']}", headers=_admin(sso), timeout=10).json()
    assert user["org_code"] == SCHOOL and user["external_id"] == "w-1001"


def test_just_in_time_provisioning_publishes_the_user_org_and_grant_events(sso: Sso) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(sso.stack.amqp_url))
    channel = connection.channel()
    queue = f"e2e.sso.{uuid.uuid4().hex[:8]}"
    channel.exchange_declare("cio.events", "topic", durable=True)
    channel.queue_declare(queue, exclusive=True)
    channel.queue_bind(queue, "cio.events", "identity.#")
    try:
        sso.oidc.set_account("t-7001", teacher("吴十", org_code="1503020070", org_name="海勃湾区第七十小学"))
        browser, _ = sso.sign_in("city-oidc", "t-7001")
        user_id = sso.me(browser).json()["id"]
        seen: dict[str, dict[str, Any]] = {}

        def all_seen() -> bool:
            while True:
                method, _properties, body = channel.basic_get(queue, auto_ack=True)
                if method is None:
                    break
                event = json.loads(body)
                if event["subject"] in (user_id, "1503020070"):
                    seen[event["type"]] = event["data"]
            return {"identity.org.upserted", "identity.user.provisioned", "identity.role.granted"} <= set(seen)

        wait_until(all_seen, 15, 0.1, "the provisioning events on the bus")
        assert seen["identity.user.provisioned"]["user"]["external_id"] == "t-7001"
        assert seen["identity.org.upserted"]["path"] == "/1503/150302/1503020070"
        granted = seen["identity.role.granted"]
        assert (granted["role"], granted["source"]) == ("school_admin", "sso:city-oidc")
    finally:
        connection.close()


def test_second_sign_in_updates_a_changed_name_and_keeps_grants_given_by_hand(sso: Sso) -> None:
    first, _ = sso.sign_in("city-oidc", "w-1001")
    user_id = sso.me(first).json()["id"]
    granted = requests.post(
        f"{sso.gateway}/api/users/{user_id}/grants",
        headers=_admin(sso),
        json={"role": "training_admin", "org_code": SCHOOL},
        timeout=10,
    )
    assert granted.status_code == 201, granted.text

    sso.oidc.set_account("w-1001", teacher("张明明", is_principal=False))
    try:
        second, _ = sso.sign_in("city-oidc", "w-1001")
        me = sso.me(second)
        assert me.json()["id"] == user_id  # linked by external id: one user, not two
        assert me.json()["display_name"] == "张明明"
        # The mapping no longer gives school_admin (not principal any more); the hand-given grant stays.
        assert _grants(me) == {("training_admin", SCHOOL_PATH)}
    finally:
        sso.oidc.set_account("w-1001", teacher())
    again, _ = sso.sign_in("city-oidc", "w-1001")
    assert _grants(sso.me(again)) == {("training_admin", SCHOOL_PATH), ("school_admin", SCHOOL_PATH)}


def test_a_forged_state_is_refused(sso: Sso) -> None:
    browser = requests.Session()
    location = sso.oidc.sign_in(sso.start("city-oidc", browser), "w-1001")
    forged = location.replace(f"state={query_params(location)['state']}", "state=forged-by-an-attacker")
    refused = sso.callback(browser, forged)
    assert refused.status_code == 400
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert refused.json()["reason"] == "state_mismatch" and "重新登录" in refused.json()["detail_zh"]
    assert "cio_session" not in browser.cookies


def test_an_answer_naming_another_issuer_is_refused(sso: Sso) -> None:
    browser = requests.Session()
    location = sso.oidc.sign_in(sso.start("city-oidc", browser), "w-1001")
    mixed_up = location.replace(urllib.parse.quote(sso.oidc.issuer, safe=""), "https%3A%2F%2Fevil.example")
    assert mixed_up != location
    refused = sso.callback(browser, mixed_up)
    assert refused.status_code == 401 and "another identity provider" in refused.json()["detail"]


def test_a_callback_started_in_another_browser_is_refused(sso: Sso) -> None:
    attacker = requests.Session()
    location = sso.oidc.sign_in(sso.start("city-oidc", attacker), "w-1001")
    victim = requests.Session()  # login CSRF: the attacker's code and state pushed into the victim's browser
    refused = sso.callback(victim, location)
    assert refused.status_code == 400 and refused.json()["reason"] == "state_mismatch"


def test_a_replayed_code_is_refused(sso: Sso) -> None:
    browser = requests.Session()
    location = sso.oidc.sign_in(sso.start("city-oidc", browser), "w-1001")
    assert sso.callback(browser, location).status_code == 302
    # The same callback again: its state is spent.
    assert sso.callback(browser, location).json()["reason"] == "state_mismatch"
    # The old code under a fresh sign-in's state: the provider refuses the code.
    fresh = query_params(sso.oidc.sign_in(sso.start("city-oidc", browser), "w-1001"))
    replay = f"{sso.gateway}/sso/city-oidc/callback?" + urllib.parse.urlencode(
        {"code": query_params(location)["code"], "state": fresh["state"], "iss": fresh["iss"]}
    )
    refused = sso.callback(browser, replay)
    assert refused.status_code == 401 and refused.json()["reason"] == "upstream_refused"


def test_an_id_token_for_another_client_is_refused(sso: Sso) -> None:
    sso.swap.substitute = _id_token_for(sso.oidc, "other-app", OTHER_SECRET, OTHER_CALLBACK, "w-1001", "n")
    try:
        browser = requests.Session()
        location = sso.oidc.sign_in(sso.start("city-oidc-mitm", browser), "w-1001")
        refused = sso.callback(browser, location)
    finally:
        sso.swap.substitute = None
    assert refused.status_code == 401
    assert refused.json()["reason"] == "invalid_response" and "another client" in refused.json()["detail"]


def test_an_id_token_with_another_nonce_is_refused(sso: Sso) -> None:
    # A genuine id_token of this very client, but from another sign-in (its nonce is not this one's).
    callback = f"{sso.gateway}/sso/city-oidc-mitm/callback"
    sso.swap.substitute = _id_token_for(sso.oidc, "cio-platform", OIDC_SECRET, callback, "w-1001", "old-nonce")
    try:
        browser = requests.Session()
        location = sso.oidc.sign_in(sso.start("city-oidc-mitm", browser), "w-1001")
        refused = sso.callback(browser, location)
    finally:
        sso.swap.substitute = None
    assert refused.status_code == 401 and "nonce" in refused.json()["detail"]
    # Unarmed, the same provider entry signs in: the refusal was about the token, nothing else.
    browser = requests.Session()
    location = sso.oidc.sign_in(sso.start("city-oidc-mitm", browser), "w-1001")
    assert sso.callback(browser, location).status_code == 302


def test_the_upstream_signing_key_rotates_and_sign_in_goes_on(sso: Sso) -> None:
    sso.sign_in("city-oidc", "w-1001")  # the JWKS is cached now
    sso.oidc.rotate_keys(retire_old=True)

    def signed_in() -> bool:
        # An unknown kid makes identity fetch the JWKS again (at most every few seconds).
        browser = requests.Session()
        location = sso.oidc.sign_in(sso.start("city-oidc", browser), "w-1001")
        return sso.callback(browser, location).status_code == 302 and sso.me(browser).status_code == 200

    wait_until(signed_in, 20, 0.5, "sign-in with the provider's new key")


def test_backchannel_logout_from_the_provider_ends_the_platform_session(sso: Sso) -> None:
    browser, upstream = sso.sign_in("city-oidc", "w-1001")
    other_browser, _ = sso.sign_in("city-oidc", "w-1001")
    assert sso.me(browser).status_code == 200
    sso.oidc.logout(upstream, client_id="cio-platform")
    wait_until(lambda: sso.me(browser).status_code == 401, 10, 0.1, "session ended by back-channel logout")
    assert "cio_session" not in browser.cookies  # the gateway cleared the dead cookie
    refused = sso.me(browser)
    assert refused.status_code == 401 and refused.headers["Content-Type"].startswith("application/problem+json")
    # A dead cookie does not stop a request at the gateway: it reaches the service without a token (so public
    # paths still answer), and the service says a sign-in is needed.
    dead = requests.Session()
    dead.cookies.set("cio_session", "ended-long-ago", domain="127.0.0.1")
    answer = dead.get(f"{sso.gateway}/api/me", timeout=10)
    assert answer.status_code == 401 and answer.json()["instance"] == "/api/me"
    # The person signed out at the provider: their other browser session here ends with it.
    assert sso.me(other_browser).status_code == 401


def test_a_forged_logout_token_is_refused(sso: Sso) -> None:
    browser, _ = sso.sign_in("city-oidc", "w-1001")
    forged = requests.post(
        f"{sso.gateway}/sso/city-oidc/backchannel-logout",
        data={"logout_token": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ0LTEwMDEifQ."},
        timeout=10,
    )
    assert forged.status_code == 400
    assert sso.me(browser).status_code == 200


def test_a_cross_site_write_with_the_session_cookie_is_refused(sso: Sso) -> None:
    browser, _ = sso.sign_in("city-oidc", "w-1001")
    body = {"code": "x1", "name": "跨站", "level": "school", "parent_code": SCHOOL}
    forged = browser.post(f"{sso.gateway}/api/orgs", json=body, headers={"Origin": "https://evil.example"}, timeout=10)
    assert forged.status_code == 403 and "cross-site" in forged.json()["detail"]
    # A read from anywhere, and a write from the platform's own pages, go through to identity.
    assert browser.get(f"{sso.gateway}/api/me", headers={"Origin": "https://evil.example"}, timeout=10).ok
    ours = browser.post(f"{sso.gateway}/api/orgs", json=body, headers={"Origin": sso.gateway}, timeout=10)
    assert ours.status_code != 403 and ours.json().get("instance") == "/api/orgs"


def test_sign_out_ends_the_session_and_points_to_the_provider_logout(sso: Sso) -> None:
    browser, _ = sso.sign_in("city-oidc", "w-1001")
    out = browser.post(f"{sso.gateway}/sso/logout", timeout=10)
    assert out.status_code == 200 and out.json()["logged_out"] is True
    assert out.json()["upstream_logout_url"].startswith(sso.oidc.discovery["end_session_endpoint"])
    assert "id_token_hint=" in out.json()["upstream_logout_url"]
    assert sso.me(browser).status_code == 401


def test_api_clients_get_tokens_instead_of_a_cookie(sso: Sso) -> None:
    client = requests.Session()
    location = sso.oidc.sign_in(sso.start("city-oidc", client, mode="token"), "w-1001")
    answer = sso.callback(client, location)
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    tokens = answer.json()
    assert tokens["refresh_token"] and "cio_session" not in client.cookies
    me = requests.get(
        f"{sso.gateway}/api/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=10
    )
    assert me.json()["username"] == "zhangming@city-oidc"


def test_a_user_who_denies_at_the_provider_is_told_so(sso: Sso) -> None:
    browser = requests.Session()
    location = sso.oidc.deny(sso.start("city-oidc", browser), "w-1001")
    refused = sso.callback(browser, location)
    assert refused.status_code == 403 and refused.json()["reason"] == "user_denied"
    page = sso.callback(browser, location, headers={"Accept": "text/html"})
    assert page.headers["Content-Type"].startswith("text/html")
    assert "取消了授权" in page.text and "Request id" in page.text


def test_an_unreachable_provider_is_explained(sso: Sso) -> None:
    down = requests.get(f"{sso.gateway}/sso/city-oidc-down/login", allow_redirects=False, timeout=15)
    assert down.status_code == 502 and down.json()["reason"] == "upstream_down"
    assert "暂时无法访问" in down.json()["detail_zh"]


def test_a_user_of_a_unit_outside_the_tree_is_refused(sso: Sso) -> None:
    sso.oidc.set_account("t-9009", teacher("赵六", org_code="9999990001", parent_org_code="999999"))
    browser = requests.Session()
    refused = sso.callback(browser, sso.oidc.sign_in(sso.start("city-oidc", browser), "t-9009"))
    assert refused.status_code == 403 and refused.json()["reason"] == "no_org"


def test_an_unknown_school_under_a_known_bureau_is_created_in_the_tree(sso: Sso) -> None:
    sso.oidc.set_account("t-9010", teacher("钱七", org_code="1503020077", org_name="海勃湾区第七十七小学"))
    browser, _ = sso.sign_in("city-oidc", "t-9010")
    assert _grants(sso.me(browser)) == {("school_admin", "/1503/150302/1503020077")}
    org = requests.get(f"{sso.gateway}/api/orgs/1503020077", headers=_admin(sso), timeout=10).json()
    assert org["name"] == "海勃湾区第七十七小学" and org["level"] == "school"


def test_a_disabled_upstream_account_is_refused(sso: Sso) -> None:
    sso.oidc.set_account("t-9011", teacher("孙八", account_status="disabled"))
    browser = requests.Session()
    refused = sso.callback(browser, sso.oidc.sign_in(sso.start("city-oidc", browser), "t-9011"))
    assert refused.status_code == 403 and refused.json()["reason"] == "account_disabled"


@pytest.mark.parametrize("return_to", ["https://evil.example/", "/\t/evil.example/x", "/\n/x", "//evil.example"])
def test_a_return_to_off_the_platform_is_ignored(sso: Sso, return_to: str) -> None:
    browser = requests.Session()
    location = sso.oidc.sign_in(sso.start("city-oidc", browser, return_to=return_to), "w-1001")
    assert sso.callback(browser, location).headers["Location"] == "/"


def test_the_session_swap_is_not_reachable_from_a_browser(sso: Sso) -> None:
    browser, _ = sso.sign_in("city-oidc", "w-1001")
    answer = browser.get(f"{sso.gateway}/sso/session", timeout=10)
    assert answer.status_code == 404 and "X-Access-Token" not in answer.headers
    assert sso.me(browser).status_code == 200  # the gateway itself still swaps the cookie for a token


# -- the education-cloud OAuth2 variant -----------------------------------------------------------------------
def test_education_cloud_sign_in_maps_user_org_to_roles_in_each_org(sso: Sso) -> None:
    sso.oidc.set_account("ec-3001", teacher("周九", preferred_username="zhoujiu"))
    browser, _ = sso.sign_in("edu-cloud", "ec-3001")
    me = sso.me(browser)
    assert _grants(me) == {("county_reviewer", "/1503/150302"), ("school_admin", SCHOOL_PATH)}
    assert me.json()["org_code"] == SCHOOL  # the main org (is_main) is home
    assert me.json()["username"] == "ec-3001@edu-cloud"

    sso.oidc.set_account("ec-3001", teacher("周久", preferred_username="zhoujiu"))
    again, _ = sso.sign_in("edu-cloud", "ec-3001")
    assert sso.me(again).json()["display_name"] == "周久"
    assert sso.me(again).json()["id"] == me.json()["id"]


def test_education_cloud_forged_state_and_replayed_code_are_refused(sso: Sso) -> None:
    browser = requests.Session()
    location = sso.oidc.sign_in(sso.start("edu-cloud", browser), "w-1001")
    forged = location.replace(f"state={query_params(location)['state']}", "state=x")
    assert sso.callback(browser, forged).json()["reason"] == "state_mismatch"
    fresh = query_params(sso.oidc.sign_in(sso.start("edu-cloud", browser), "w-1001"))
    assert sso.callback(browser, location.replace(query_params(location)["state"], fresh["state"])).status_code == 302
    # That code was used just now; under yet another state the provider refuses it.
    newest = query_params(sso.oidc.sign_in(sso.start("edu-cloud", browser), "w-1001"))
    replay = location.replace(query_params(location)["state"], newest["state"])
    assert sso.callback(browser, replay).json()["reason"] == "upstream_refused"


def test_no_token_or_code_reaches_the_logs(sso: Sso) -> None:
    browser = requests.Session()
    location = sso.oidc.sign_in(sso.start("city-oidc", browser), "w-1001")
    assert sso.callback(browser, location).status_code == 302
    code = query_params(location)["code"]
    session = next(c.value for c in browser.cookies if c.name == "cio_session")
    logs = "".join(p.read_text(errors="replace") for p in Path(sso.stack.logs).glob("*.log"))
    nginx_logs = "".join(p.read_text(errors="replace") for p in Path(sso.stack.logs).parent.glob("nginx/*.log"))
    for secret in (code, session):
        assert secret not in logs and secret not in nginx_logs


# -- CAS ------------------------------------------------------------------------------------------------------
def _cas_sign_in(
    sso: Sso, provider: str = "city-cas", user: str = "wangwu"
) -> tuple[requests.Session, requests.Session]:
    browser, upstream = requests.Session(), requests.Session()
    location = sso.cas.sign_in(sso.start(provider, browser), user, f"{user}-pw", session=upstream)
    assert "ticket=ST-" in location
    landed = sso.callback(browser, location)
    assert landed.status_code == 302, landed.text
    return browser, upstream


@pytest.mark.parametrize("provider", ["city-cas", "city-cas-json"])
def test_first_cas_sign_in_provisions_the_user_and_the_second_updates_the_name(sso: Sso, provider: str) -> None:
    user = f"cas-{provider}"
    sso.cas.set_user(user, f"{user}-pw", cas_teacher("王五"))
    browser, _ = _cas_sign_in(sso, provider, user)
    me = sso.me(browser)
    assert _grants(me) == {("school_admin", SCHOOL_PATH)}
    assert me.json()["display_name"] == "王五" and me.json()["username"] == f"{user}@{provider}"

    sso.cas.set_user(user, f"{user}-pw", cas_teacher("王五六"))
    again, _ = _cas_sign_in(sso, provider, user)
    assert sso.me(again).json()["display_name"] == "王五六"
    assert sso.me(again).json()["id"] == me.json()["id"]


def test_a_cas_ticket_for_another_service_is_refused(sso: Sso) -> None:
    browser = requests.Session()
    login = sso.start("city-cas", browser)
    our_service = query_params(login)["service"]
    foreign = sso.cas.ticket_for(sso.cas.other_service, "wangwu", "wangwu-pw")
    refused = sso.callback(browser, f"{our_service}&ticket={foreign}")
    assert refused.status_code == 401 and refused.json()["reason"] == "upstream_refused"
    assert "another service" in refused.json()["detail"]


def test_a_forged_cas_state_is_refused(sso: Sso) -> None:
    browser = requests.Session()
    location = sso.cas.sign_in(sso.start("city-cas", browser), "wangwu", "wangwu-pw")
    forged = location.replace(query_params(location)["state"], "forged")
    refused = sso.callback(browser, forged)
    assert refused.status_code == 400 and refused.json()["reason"] == "state_mismatch"


def test_a_replayed_cas_ticket_is_refused(sso: Sso) -> None:
    browser = requests.Session()
    location = sso.cas.sign_in(sso.start("city-cas", browser), "wangwu", "wangwu-pw")
    assert sso.callback(browser, location).status_code == 302
    assert sso.callback(browser, location).json()["reason"] == "state_mismatch"


def test_cas_single_logout_ends_the_platform_session(sso: Sso) -> None:
    browser, upstream = _cas_sign_in(sso)
    assert sso.me(browser).status_code == 200
    sso.cas.logout(upstream)
    wait_until(lambda: sso.me(browser).status_code == 401, 10, 0.1, "session ended by CAS single logout")


def test_cas_single_logout_revokes_the_refresh_token_of_an_api_client(sso: Sso) -> None:
    client, upstream = requests.Session(), requests.Session()
    location = sso.cas.sign_in(sso.start("city-cas", client, mode="token"), "wangwu", "wangwu-pw", session=upstream)
    tokens = sso.callback(client, location).json()
    sso.cas.logout(upstream)  # the CAS server sends its logoutRequest before it answers
    form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    refreshed = requests.post(f"{sso.gateway}/api/auth/token", data=form, timeout=10)
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"


def test_cas_sign_out_points_to_the_cas_logout(sso: Sso) -> None:
    browser, _ = _cas_sign_in(sso)
    # The sign-out link on our own page (a browser says so in Sec-Fetch-Site).
    out = browser.get(
        f"{sso.gateway}/sso/logout", headers={"Sec-Fetch-Site": "same-origin"}, allow_redirects=False, timeout=10
    )
    assert out.status_code == 302 and out.headers["Location"].startswith(f"{sso.cas.base_url}/logout?service=")
    assert sso.me(browser).status_code == 401
