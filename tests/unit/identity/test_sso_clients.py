"""Protocol clients without a network: parameter renames, CAS answers (XML, JSON) and single-logout requests."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from identity.adapters.sso_config import parse_providers
from identity.adapters.upstream import CasClient, OAuth2VariantClient, UpstreamError

from tests.helpers import SHUTDOWN_POLL

CAS_SUCCESS = """<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">
  <cas:authenticationSuccess>
    <cas:user>wangwu</cas:user>
    <cas:attributes>
      <cas:display_name>王五</cas:display_name>
      <cas:memberOf>teachers</cas:memberOf>
      <cas:memberOf>principals</cas:memberOf>
      <cas:attribute name="org_code" value="4108210001"/>
    </cas:attributes>
  </cas:authenticationSuccess>
</cas:serviceResponse>"""

CAS_FAILURE = """<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">
  <cas:authenticationFailure code="INVALID_SERVICE">ticket not for this service</cas:authenticationFailure>
</cas:serviceResponse>"""

SLO = """<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"
  xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="x" Version="2.0" IssueInstant="2026-12-01T00:00:00Z">
  <saml:NameID>@NOT_USED@</saml:NameID><samlp:SessionIndex>ST-12-abc</samlp:SessionIndex></samlp:LogoutRequest>"""


def _provider(**entry: Any) -> Any:
    base = {"id": "p", "name": "P", "mapping": "standard-oidc", "org_scope": ["1503"]}
    return next(iter(parse_providers({"providers": [{**base, **entry}]}).values()))


def _cas(fmt: str = "xml") -> CasClient:
    return CasClient(_provider(protocol="cas", server_url="https://cas.example.cn/cas", response_format=fmt))


def test_cas_success_reads_user_and_attributes_in_both_styles() -> None:
    info = _cas()._from_xml(CAS_SUCCESS)
    assert info == {
        "user": "wangwu",
        "attributes": {"display_name": "王五", "memberOf": ["teachers", "principals"], "org_code": "4108210001"},
    }


def test_cas_failure_is_a_refusal_naming_the_code() -> None:
    with pytest.raises(UpstreamError) as refused:
        _cas()._from_xml(CAS_FAILURE)
    assert refused.value.reason == "upstream_refused" and "INVALID_SERVICE" in refused.value.en


def test_cas_json_answers() -> None:
    ok = {"serviceResponse": {"authenticationSuccess": {"user": "u1", "attributes": {"mail": ["a@b.cn"]}}}}
    assert _cas("json")._from_json(json.dumps(ok)) == {"user": "u1", "attributes": {"mail": ["a@b.cn"]}}
    bad = {"serviceResponse": {"authenticationFailure": {"code": "INVALID_TICKET", "description": "used"}}}
    with pytest.raises(UpstreamError, match="INVALID_TICKET"):
        _cas("json")._from_json(json.dumps(bad))


def test_cas_xml_with_entities_is_not_expanded() -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    with pytest.raises(UpstreamError) as refused:
        _cas()._from_xml(bomb)
    assert refused.value.reason == "invalid_response"
    assert CasClient.session_index(bomb) is None


def test_single_logout_request_names_the_service_ticket() -> None:
    assert CasClient.session_index(SLO) == "ST-12-abc"
    assert CasClient.session_index("not xml") is None


class _Platform(BaseHTTPRequestHandler):
    """A stand-in token endpoint that records what it was sent (only the renames are under test here)."""

    seen: list[dict[str, Any]] = []  # noqa: RUF012 - shared by the handler instances of one server

    def do_POST(self) -> None:
        form = urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        self.seen.append({k: v[0] for k, v in form.items()})
        body = json.dumps({"code": 0, "data": {"access_token": "tok-1"}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        return


@pytest.fixture
def platform() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Platform)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": SHUTDOWN_POLL}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _variant(base: str) -> OAuth2VariantClient:
    return OAuth2VariantClient(
        _provider(
            protocol="oauth2",
            client_id="app-1",
            client_secret_env="HOME",
            mapping="education-cloud",
            params={"client_id": "appId", "client_secret": "appSecret", "redirect_uri": "redirectUrl"},
            token_auth_method="client_secret_post",
            token_path="data.access_token",
            endpoints={
                "authorization_endpoint": f"{base}/oauth/authorize?lang=zh",
                "token_endpoint": f"{base}/oauth/token",
                "userinfo_endpoint": f"{base}/oauth/userinfo",
            },
        )
    )


def test_the_variant_uses_the_platforms_parameter_names(platform: str) -> None:
    client = _variant(platform)
    url = client.authorization_url("https://cio.example.cn/sso/p/callback", "st-1", None)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert query == {
        "lang": "zh",
        "response_type": "code",
        "appId": "app-1",
        "redirectUrl": "https://cio.example.cn/sso/p/callback",
        "state": "st-1",
    }
    _Platform.seen.clear()
    assert client.exchange("code-9", "https://cio.example.cn/sso/p/callback", None) == "tok-1"
    sent = _Platform.seen[0]
    assert sent["appId"] == "app-1" and sent["code"] == "code-9" and "appSecret" in sent
    assert "client_id" not in sent and "client_secret" not in sent


def test_an_unreachable_platform_is_upstream_down() -> None:
    with pytest.raises(UpstreamError) as down:
        _variant("http://127.0.0.1:9").exchange("c", "https://x/cb", None)
    assert down.value.reason == "upstream_down"
