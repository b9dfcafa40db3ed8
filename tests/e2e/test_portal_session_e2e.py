"""The portal's browser session through the nginx gateway, as the portal's pages use it: sign in with a local
account, then only the HttpOnly cookie (never a token the page could read) carries every API call, until sign-out.
Also Swagger UI's pages, which must work with no internet."""

from __future__ import annotations

import re
import uuid

import pytest
import requests

from tests.e2e.conftest import DEMO_PASSWORD, Stack, token

pytestmark = pytest.mark.e2e

JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.")


class Browser:
    """A cookie jar that sends the portal's Origin on writes, as the browser does for same-origin fetches."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.http = requests.Session()
        self.bodies: list[str] = []

    def call(self, method: str, path: str, **kwargs: object) -> requests.Response:
        headers = {"Origin": self.stack.gateway} if method != "GET" else {}
        response = self.http.request(method, f"{self.stack.gateway}{path}", headers=headers, timeout=10, **kwargs)  # type: ignore[arg-type]
        self.bodies.append(response.text)
        return response

    def sign_in(self, username: str, password: str = DEMO_PASSWORD) -> requests.Response:
        return self.call("POST", "/api/auth/session", json={"username": username, "password": password})


def test_a_local_account_signs_in_and_the_cookie_alone_carries_the_api_calls(stack: Stack) -> None:
    browser = Browser(stack)
    signed_in = browser.sign_in("school.admin")
    assert signed_in.status_code == 204, signed_in.text
    cookie = next(c for c in browser.http.cookies if c.name == "cio_session")
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.path == "/"
    assert "samesite=lax" in signed_in.headers["Set-Cookie"].lower()

    me = browser.call("GET", "/api/me")
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["username"] == "school.admin" and body["sso"] is False
    assert body["grants"] == [
        {
            "role": "school_admin",
            "org_path": "/4108/410802/4108020001",
            "org_code": "4108020001",
            "org_name": "解放区第一实验小学",
        }
    ]
    # Another service, through the same cookie.
    assert browser.call("GET", "/api/inbox").status_code == 200
    assert not [b for b in browser.bodies if JWT.search(b)], "a token reached a response body"


def test_a_session_write_from_another_site_is_refused_and_from_the_portal_goes_through(stack: Stack) -> None:
    browser = Browser(stack)
    assert browser.sign_in("admin").status_code == 204
    body = {"code": "4108029901", "name": "跨站小学", "level": "school", "parent_code": "410802"}
    forged = browser.http.post(
        f"{stack.gateway}/api/orgs", json=body, headers={"Origin": "https://evil.example"}, timeout=10
    )
    assert forged.status_code == 403
    assert browser.call("POST", "/api/orgs", json=body).status_code == 201


def test_five_wrong_passwords_lock_the_account_through_the_gateway(stack: Stack) -> None:
    # An account of this test's own: the demo accounts serve the other tests of the session.
    username, password = f"e2e.lock.{uuid.uuid4().hex[:6]}", "a-long-enough-password"
    created = requests.post(
        f"{stack.gateway}/api/users",
        json={"username": username, "display_name": "锁定测试", "org_code": "4108020001", "password": password},
        headers={"Authorization": f"Bearer {token(stack, 'admin')}"},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    browser = Browser(stack)
    statuses = [browser.sign_in(username, "wrong-password").status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 423]
    locked = browser.sign_in(username, password)
    assert locked.status_code == 423
    assert locked.headers["Content-Type"] == "application/problem+json"
    assert locked.json()["detail_zh"] and locked.json()["detail"]
    assert "cio_session" not in browser.http.cookies
    assert browser.call("GET", "/api/me").status_code == 401


def test_signing_out_ends_the_session(stack: Stack) -> None:
    browser = Browser(stack)
    assert browser.sign_in("cio").status_code == 204
    kept = browser.http.cookies.get("cio_session")
    out = browser.call("POST", "/sso/logout")
    assert out.json() == {"logged_out": True, "upstream_logout_url": None}
    assert browser.call("GET", "/api/me").status_code == 401
    # Even a client that kept the cookie gets nothing from it any more.
    replay = requests.get(f"{stack.gateway}/api/me", cookies={"cio_session": str(kept)}, timeout=10)
    assert replay.status_code == 401


@pytest.mark.parametrize("service", ["identity", "nominations", "approvals", "training", "notifications", "governance"])
def test_swagger_ui_pages_load_their_files_from_the_gateway(stack: Stack, service: str) -> None:
    page = requests.get(f"{stack.gateway}/openapi/{service}/docs", timeout=10)
    assert page.status_code == 200
    references = re.findall(r"""(?:src|href)="([^"]+)\"""", page.text)
    assert references and all(r.startswith("/openapi/swagger-ui/") for r in references), references
    for reference in references:
        asset = requests.get(f"{stack.gateway}{reference}", timeout=10)
        assert asset.status_code == 200, reference
        assert asset.headers["Content-Type"] in ("text/css", "application/javascript"), reference
