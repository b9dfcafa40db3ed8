"""The rendered local gateway, run for real on loopback in front of a stub service.

Checks what text assertions cannot: nginx's own errors come out as problem+json, request ids flow
both ways, private paths stay private, the login limit bites. Loopback only, about a second.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx binary not installed")


def _load(relative: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location("gwb_" + relative.replace("/", "_")[:-3], REPO_ROOT / relative)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


render_mod = _load("deploy/nginx/render.py")


class _Echo(BaseHTTPRequestHandler):
    """Stands in for a service: answers with what it received."""

    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = json.dumps({"path": self.path, "method": self.command, "headers": dict(self.headers)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Request-ID", "from-service")
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, object]:
        return dict(json.loads(self.body))

    def upstream_headers(self) -> dict[str, str]:
        """The headers the stub service received, with lower-case names."""
        return {k.lower(): v for k, v in json.loads(self.body)["headers"].items()}


@dataclass
class Gateway:
    base: str

    def request(
        self, path: str, method: str = "GET", headers: dict[str, str] | None = None, data: bytes | None = None
    ) -> Response:
        req = urllib.request.Request(  # noqa: S310 - loopback http URL built by the test
            self.base + path, method=method, headers=headers or {}, data=data
        )
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:  # noqa: S310 - loopback test URL
                return Response(resp.status, dict(resp.headers), resp.read())
        except urllib.error.HTTPError as err:
            return Response(err.code, dict(err.headers), err.read())


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    with _running_gateway(tmp_path_factory.mktemp("gateway")) as gw:
        yield gw


@pytest.fixture(scope="module")
def gateway_behind_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """The gateway with a load balancer in front of it on loopback, whose X-Forwarded-For it believes."""
    with _running_gateway(tmp_path_factory.mktemp("gateway-proxied"), trusted_proxies=["127.0.0.1"]) as gw:
        yield gw


@contextlib.contextmanager
def _running_gateway(runtime: Path, trusted_proxies: list[str] | None = None) -> Iterator[Gateway]:
    stub = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    services = [
        render_mod.Service("identity", stub.server_address[1], 0, ("/api/auth/", "/api/orgs", "/sso/"), True),
        render_mod.Service("approvals", _free_port(), 0, ("/api/cases",), True),  # nothing listens: 502
        render_mod.Service("training", 1, 0, ("/api/trainings",), False),
    ]
    port = _free_port()
    conf = runtime / "nginx.conf"
    conf.write_text(
        render_mod.render("local", port, str(runtime), services=services, trusted_proxies=trusted_proxies or []),
        encoding="utf-8",
    )
    assert NGINX is not None
    proc = subprocess.Popen(
        [NGINX, "-p", str(runtime), "-c", str(conf), "-e", str(runtime / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    gw = Gateway(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                if gw.request("/gateway/health").status == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"nginx did not start: {proc.stderr.read() if proc.stderr else b''!r}")
            time.sleep(0.05)
        yield gw
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        stub.shutdown()


def _assert_problem(resp: Response, status: int, title: str) -> None:
    assert resp.status == status
    assert resp.headers["Content-Type"] == "application/problem+json"
    body = resp.json()
    assert body["status"] == status and body["title"] == title
    assert body["request_id"] == resp.headers["X-Request-ID"]


def test_routes_reach_the_service_with_forwarding_headers(gateway: Gateway) -> None:
    for path in ("/api/orgs", "/api/orgs/42?x=1", "/api/auth/.well-known/jwks.json", "/sso/oidc/login"):
        resp = gateway.request(path)
        assert resp.status == 200, path
        seen = resp.json()
        assert seen["path"] == path
        headers = resp.upstream_headers()
        assert headers["x-forwarded-for"] == "127.0.0.1"
        assert headers["x-forwarded-proto"] == "http"
        assert headers["x-forwarded-host"] == gateway.base.removeprefix("http://")
        assert headers["x-request-id"] == resp.headers["X-Request-ID"]


def test_client_request_id_is_kept_and_a_bad_one_replaced(gateway: Gateway) -> None:
    resp = gateway.request("/api/orgs", headers={"X-Request-ID": "trace-123"})
    assert resp.headers["X-Request-ID"] == "trace-123"
    assert resp.upstream_headers()["x-request-id"] == "trace-123"
    assert "from-service" not in str(resp.headers)
    forged = gateway.request("/api/orgs", headers={"X-Request-ID": 'a"b'})
    assert len(forged.headers["X-Request-ID"]) == 32 and '"' not in forged.headers["X-Request-ID"]


def test_prefixes_do_not_overmatch_and_unknown_paths_are_404(gateway: Gateway) -> None:
    for path in ("/api/orgsx", "/", "/metrics", "/health/ready", "/api/unknown"):
        _assert_problem(gateway.request(path), 404, "Not found")


def test_service_not_deployed_yet_answers_503_problem(gateway: Gateway) -> None:
    resp = gateway.request("/api/trainings/7")
    _assert_problem(resp, 503, "Service unavailable")
    assert "training" in str(resp.json()["detail"])


def test_unreachable_upstream_answers_502_problem(gateway: Gateway) -> None:
    _assert_problem(gateway.request("/api/cases"), 502, "Bad gateway")


def test_too_large_body_answers_413_problem(gateway: Gateway) -> None:
    resp = gateway.request("/api/orgs", method="POST", data=b"x" * (21 * 1024 * 1024))
    _assert_problem(resp, 413, "Payload too large")


def test_stub_status_is_served_to_loopback(gateway: Gateway) -> None:
    resp = gateway.request("/nginx_status")
    assert resp.status == 200 and b"Active connections" in resp.body


def test_token_endpoint_is_rate_limited_with_429_problem(gateway: Gateway) -> None:
    statuses = [gateway.request("/api/auth/token", method="POST", data=b"{}").status for _ in range(15)]
    assert statuses[0] == 200
    assert 429 in statuses
    resp = gateway.request("/api/auth/token", method="POST", data=b"{}")
    _assert_problem(resp, 429, "Too many requests")
    assert resp.headers["Retry-After"]


def test_the_session_check_is_reachable_only_by_the_gateway_itself(gateway: Gateway) -> None:
    """/sso/session answers a bearer token for a session cookie: a page that could call it could read it."""
    for path in ("/sso/session", "/sso/session?x=1"):
        resp = gateway.request(path, headers={"Cookie": "cio_session=abc"})
        _assert_problem(resp, 404, "Not found")
    # The gateway's own auth_request still reaches it (the stub answers 200 to it, so the request goes on).
    assert gateway.request("/api/orgs", headers={"Cookie": "cio_session=abc"}).status == 200


def test_a_client_cannot_choose_its_own_address_with_x_forwarded_for(gateway: Gateway) -> None:
    resp = gateway.request("/api/orgs", headers={"X-Forwarded-For": "203.0.113.9"})
    assert resp.upstream_headers()["x-real-ip"] == "127.0.0.1"


def test_behind_a_trusted_proxy_each_client_has_its_own_address_and_login_bucket(
    gateway_behind_proxy: Gateway,
) -> None:
    seen = gateway_behind_proxy.request("/api/orgs", headers={"X-Forwarded-For": "198.51.100.7, 203.0.113.9"})
    assert seen.upstream_headers()["x-real-ip"] == "203.0.113.9"  # the address the trusted proxy saw

    def login(client: str) -> int:
        headers = {"X-Forwarded-For": client}
        return gateway_behind_proxy.request("/api/auth/token", method="POST", data=b"{}", headers=headers).status

    noisy = [login("203.0.113.66") for _ in range(15)]
    assert 429 in noisy
    assert login("203.0.113.77") == 200  # another client behind the same proxy still signs in
