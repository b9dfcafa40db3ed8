"""The rendered local gateway, run for real on loopback in front of a stub service and a stand-in portal build.

Checks what text assertions cannot: nginx's own errors come out as problem+json, request ids flow
both ways, private paths stay private, the login limit bites, the portal is served as a single-page app
with its caching and security headers. Loopback only, about a second.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from deploy.nginx import render as render_mod

REPO_ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx binary not installed")


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


INDEX_HTML = b'<!doctype html><html><head><script type="module" src="/assets/index-4f2a.js"></script></head></html>'
# Big enough to be worth compressing (gzip_min_length).
APP_JS = b"export const greeting = '\xe4\xbd\xa0\xe5\xa5\xbd';\n" * 100


def _portal_build(root: Path) -> Path:
    """What `npm run build` leaves in portal/dist: index.html and content-hashed files under assets/."""
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_bytes(INDEX_HTML)
    (root / "assets" / "index-4f2a.js").write_bytes(APP_JS)
    (root / "favicon.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>', encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    with _running_gateway(tmp_path_factory) as gw:
        yield gw


@pytest.fixture(scope="module")
def gateway_behind_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """The gateway with a load balancer in front of it on loopback, whose X-Forwarded-For it believes."""
    with _running_gateway(tmp_path_factory, trusted_proxies=["127.0.0.1"]) as gw:
        yield gw


@contextlib.contextmanager
def _running_gateway(
    tmp_path_factory: pytest.TempPathFactory,
    trusted_proxies: list[str] | None = None,
    rate: str = render_mod.DEFAULT_RATE,
) -> Iterator[Gateway]:
    """nginx rendered for the local target, with a built portal and Swagger UI's files, in front of a stub."""
    runtime = tmp_path_factory.mktemp("gateway")
    portal = _portal_build(tmp_path_factory.mktemp("dist"))
    swagger_ui = tmp_path_factory.mktemp("swagger-ui")
    (swagger_ui / "swagger-ui.css").write_text(".swagger-ui{}", encoding="utf-8")
    stub = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    services = [
        render_mod.Service(
            "identity",
            stub.server_address[1],
            0,
            ("/api/auth/", "/api/orgs", "/sso/", "/api/public/publications"),
            True,
        ),
        render_mod.Service("approvals", _free_port(), 0, ("/api/cases",), True),  # nothing listens: 503 (nginx's 502)
        render_mod.Service("training", 1, 0, ("/api/trainings",), False),
    ]
    port = _free_port()
    conf = runtime / "nginx.conf"
    conf.write_text(
        render_mod.render(
            "local",
            port,
            str(runtime),
            services=services,
            trusted_proxies=trusted_proxies or [],
            rate=rate,
            portal_dir=portal,
            swagger_ui_dir=swagger_ui,
        ),
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
    """Never the portal's page for an API path: a client of the API gets problem+json, not HTML."""
    for path in ("/api/orgsx", "/metrics", "/health/ready", "/api/unknown", "/openapi/unknown/openapi.json"):
        _assert_problem(gateway.request(path), 404, "Not found")


def _assert_portal_headers(resp: Response) -> None:
    csp = dict(d.strip().split(" ", 1) for d in resp.headers["Content-Security-Policy"].split(";"))
    assert csp["default-src"] == "'self'" and csp["script-src"] == "'self'", "no inline or foreign scripts"
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Request-ID"]


def test_the_portal_is_served_at_the_root_and_revalidated(gateway: Gateway) -> None:
    resp = gateway.request("/")
    assert resp.status == 200 and resp.body == INDEX_HTML
    assert resp.headers["Content-Type"].startswith("text/html")
    assert resp.headers["Cache-Control"] == "no-cache"
    _assert_portal_headers(resp)
    icon = gateway.request("/favicon.svg")
    assert icon.headers["Content-Type"] == "image/svg+xml" and icon.headers["Cache-Control"] == "no-cache"


def test_client_routes_of_the_portal_answer_its_index(gateway: Gateway) -> None:
    for path in ("/login", "/school/rounds/42", "/review/tasks?stage=county"):
        resp = gateway.request(path)
        assert resp.status == 200 and resp.body == INDEX_HTML, path
        assert resp.headers["Cache-Control"] == "no-cache"
        _assert_portal_headers(resp)


def test_hashed_assets_are_cached_for_a_year_and_gzipped(gateway: Gateway) -> None:
    resp = gateway.request("/assets/index-4f2a.js", headers={"Accept-Encoding": "gzip"})
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "application/javascript"
    assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert resp.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in resp.headers["Vary"]
    assert gzip.decompress(resp.body) == APP_JS
    _assert_portal_headers(resp)


def test_the_portals_files_are_not_rate_limited_but_the_api_is(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A school's teachers behind one NAT address each load some sixty files of the portal on a cold cache: none
    may be refused, or the page fails to load a chunk; the services behind the API keep their per-address limit.
    At one request a minute past the burst of 100, 150 requests of each kind tell the two apart at any speed."""
    with _running_gateway(tmp_path_factory, rate="1r/m") as slow:
        files = [slow.request(path).status for _ in range(75) for path in ("/assets/index-4f2a.js", "/school/x")]
        assert set(files) == {200}
        api = [slow.request("/api/orgs").status for _ in range(150)]
        assert api.count(200) <= 101 and api.count(429) >= 49


def test_a_missing_asset_is_404_not_the_index(gateway: Gateway) -> None:
    """A stale page asking for an asset of an older build must fail loudly, not get HTML as JavaScript."""
    _assert_problem(gateway.request("/assets/index-0000.js"), 404, "Not found")


def test_api_answers_are_not_given_the_portals_headers(gateway: Gateway) -> None:
    resp = gateway.request("/api/orgs")
    assert "Content-Security-Policy" not in resp.headers and "Content-Encoding" not in resp.headers


def test_swagger_ui_files_are_served_by_the_gateway(gateway: Gateway) -> None:
    resp = gateway.request("/openapi/swagger-ui/swagger-ui.css")
    assert resp.status == 200 and resp.body == b".swagger-ui{}"
    assert resp.headers["Content-Type"] == "text/css"


def test_service_not_deployed_yet_answers_503_problem(gateway: Gateway) -> None:
    resp = gateway.request("/api/trainings/7")
    _assert_problem(resp, 503, "Service unavailable")
    assert "training" in str(resp.json()["detail"])


def test_an_unreachable_or_dropped_upstream_answers_503_with_retry_after(gateway: Gateway) -> None:
    """A service restarting, or a worker killed with the request in flight, is a passing state the client may retry
    (writes carry an Idempotency-Key): 503 with Retry-After, never a 502 it cannot act on."""
    resp = gateway.request("/api/cases")
    _assert_problem(resp, 503, "Service unavailable")
    assert resp.headers["Retry-After"] == "5"
    assert "Idempotency-Key" in json.loads(resp.body)["detail"]


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


def test_the_portals_password_sign_in_is_rate_limited_like_the_token_endpoint(gateway: Gateway) -> None:
    statuses = [gateway.request("/api/auth/session", method="POST", data=b"{}").status for _ in range(15)]
    assert 429 in statuses
    _assert_problem(gateway.request("/api/auth/session", method="POST", data=b"{}"), 429, "Too many requests")


def test_名单公示_the_public_page_needs_no_session_and_is_rate_limited(gateway: Gateway) -> None:
    """Anyone may read a published list and object without signing in; their writes are limited per address
    more strictly than the general limit, like the sign-ins."""
    first = gateway.request("/api/public/publications", headers={"Cookie": "cio_session=abc"})
    assert first.status == 200
    assert "authorization" not in first.upstream_headers()  # no session is swapped for a token here
    statuses = [
        gateway.request("/api/public/publications/x/objections", method="POST", data=b"{}").status for _ in range(15)
    ]
    assert 429 in statuses
    _assert_problem(
        gateway.request("/api/public/publications/x/objections", method="POST", data=b"{}"), 429, "Too many requests"
    )
