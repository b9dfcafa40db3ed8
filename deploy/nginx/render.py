"""Render the nginx gateway config from the services' declarations (deploy/service_catalog.py).

Generated rather than hand-written so the routes, the services that exist and the two run modes
(local without Docker, docker compose) can never drift apart. Targets:

  local    upstreams 127.0.0.1:<web_port>; everything nginx writes (pid, temp files, logs) stays in
           the runtime dir, so it runs as an ordinary user:
             nginx -p <runtime dir> -c <runtime dir>/nginx.conf -e <runtime dir>/error.log
  compose  upstreams <name>-web:8000, listens on 8080, logs to stdout/stderr; the output
           deploy/nginx/nginx.compose.conf is committed and a test checks it is up to date.

Besides the API the gateway serves, on the same origin, the portal's built files at `/` (a single-page app:
client routes fall back to index.html) and Swagger UI's own assets at /openapi/swagger-ui/ (no CDN).

Usage:
  python deploy/nginx/render.py local --out .run/nginx/nginx.conf --runtime-dir .run/nginx [--port 8080]
      [--portal-dir portal/dist] [--swagger-ui-dir deploy/swagger-ui/node_modules/swagger-ui-dist]
  python deploy/nginx/render.py compose --out deploy/nginx/nginx.compose.conf
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from deploy.service_catalog import Service, load_services

TARGETS = ("local", "compose")
DEFAULT_PORT = 8080
COMPOSE_WEB_PORT = 8000
# In containers /nginx_status has a listener of its own that is never published: behind Docker's port
# publishing every outside client shows up with a private (bridge) address, so an address rule is not enough.
COMPOSE_STATUS_PORT = 8081
DEFAULT_RATE = "50r/s"
# The limit protects the services, so it is on the API locations only. The portal's files are nginx's own and
# cheap: a school whose teachers share one address (NAT) loads some sixty of them per person on a cold cache, and
# a limited one fails the page ("Failed to fetch dynamically imported module").
GENERAL_LIMIT = "limit_req zone=general burst=100 nodelay;"
DEFAULT_LOGIN_RATE = "30r/m"
# Pages anyone may use without signing in (名单公示 and its objections): sessionless, and a stricter limit per
# client address than the general one, since their writes come from people nobody has identified.
PUBLIC_PREFIX = "/api/public/"
DEFAULT_PUBLIC_RATE = "30r/m"
# Password sign-ins, rate limited per client address: the token endpoint and the portal's session sign-in.
LOGIN_PATHS = ("/api/auth/token", "/api/auth/session")
# Browser sessions from single sign-on: nginx asks identity for the session's access token.
SESSION_SERVICE = "identity"
# The same path as identity's endpoint, but an internal location: only auth_request reaches it, and from
# outside it is a 404 (it answers a bearer token for a cookie, which a page must never read).
SESSION_CHECK = "/sso/session"
SESSION_COOKIE = "cio_session"
# Routes that never take a session: the token endpoint and JWKS, and the sign-in flow itself.
SESSIONLESS_ROUTES = ("/api/auth/", "/sso/", PUBLIC_PREFIX)
MAX_BODY_MB = 20
MAX_BODY = f"{MAX_BODY_MB}m"

REPO_ROOT = Path(__file__).resolve().parents[2]
# Where the built portal (`npm run build` in portal/) and swagger-ui-dist (deploy/swagger-ui/, from its lock
# file) are: in the repository for the local target, in the gateway image (Dockerfile's `gateway` stage) for compose.
LOCAL_PORTAL_DIR = REPO_ROOT / "portal" / "dist"
LOCAL_SWAGGER_UI_DIR = REPO_ROOT / "deploy" / "swagger-ui" / "node_modules" / "swagger-ui-dist"
COMPOSE_PORTAL_DIR = "/usr/share/nginx/portal"
COMPOSE_SWAGGER_UI_DIR = "/usr/share/nginx/swagger-ui"
# The path services point OPENAPI_SWAGGER_UI_URL at (shared/web.py).
SWAGGER_UI_PATH = "/openapi/swagger-ui/"
# The portal's pages: scripts and everything else only from this origin, never inline (Vite emits no inline
# script); styles may be inline because Element Plus sets style attributes; photos preview from blob: URLs.
PORTAL_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
# Paths that are never the portal's: an unknown one is a problem+json 404, not the portal's index.html.
NOT_PORTAL = ("/api/", "/openapi/", "/health/")
# The static files' types (the local target has no /etc/nginx/mime.types of its own to include).
STATIC_TYPES = {
    "text/html": "html",
    "text/css": "css",
    "application/javascript": "js mjs",
    "application/json": "json map",
    "image/svg+xml": "svg",
    "image/png": "png",
    "image/jpeg": "jpg jpeg",
    "image/x-icon": "ico",
    "image/webp": "webp",
    "font/woff2": "woff2",
    "font/woff": "woff",
    "font/ttf": "ttf",
    "text/plain": "txt",
}
GZIP_TYPES = "text/css application/javascript application/json image/svg+xml font/ttf text/plain"

# Networks allowed to read /nginx_status: loopback and the private ranges a compose network or a
# cluster pod network uses (the nginx exporter scrapes from there).
PRIVATE_NETWORKS = ("127.0.0.1", "::1", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")

# Errors nginx itself produces (upstream down, rate limit, body too big...), answered as RFC 9457
# problem+json like the services' own errors. Upstream responses pass through untouched.
PROBLEMS: dict[int, tuple[str, str]] = {
    400: ("Bad request", "The gateway could not read the request."),
    403: ("Forbidden", "Not allowed from here: this address, or a cross-site page writing with a session."),
    404: ("Not found", "No route matches this path."),
    408: ("Request timeout", "The request was not received in time."),
    413: ("Payload too large", f"The request body exceeds {MAX_BODY_MB} MB."),
    414: ("URI too long", "The request URI is too long."),
    431: ("Request header fields too large", "A request header field, or the whole header, is too long."),
    429: ("Too many requests", "Request rate limit exceeded; retry later."),
    500: ("Internal server error", "The gateway failed to handle the request."),
    502: (
        "Service unavailable",
        "The service behind this path did not answer: it is restarting or unreachable. Retry later; a write sent"
        " again with the same Idempotency-Key is done once.",
    ),
    503: ("Service unavailable", "$problem_detail"),
    504: ("Gateway timeout", "The service behind this path did not answer in time."),
}
# nginx's 502 (the upstream refused the connection, or dropped it: a worker killed or restarting) is answered as
# 503 with Retry-After. It is the same passing state as a service not yet up, and a client told 502 cannot know
# it may retry; the services make writes safe to repeat with Idempotency-Key.
ANSWERED_AS = {502: 503}
RETRY_AFTER = {429: "10", 502: "5", 503: "30"}
# Errors nginx finds while still reading the request line or header: there is no URI yet, and a named location
# cannot be entered without one ("empty URI in redirect to named location", a bare 500), so these go to a URI of
# the gateway's own. 494 is nginx's "request header too large", answered as 431.
EARLY_PROBLEMS = (400, 414, 431)
PROBLEM_URI = "/gateway/problem/"
# nginx reads a request line and each header field into one of these buffers: longer ones are its 414 or 400
# (problem+json above). 8k keeps every request it passes within gunicorn's limits (deploy/gunicorn: 8190 bytes
# per line or field), so gunicorn never answers a bare-text 400 of its own behind the gateway.
HEADER_BUFFER = "8k"

# Who may tell the gateway the client's address in X-Forwarded-For (set_real_ip_from): nobody by default, since
# locally and with compose clients connect straight to nginx. The containers read the list from a file beside
# nginx.conf (TRUSTED_PROXIES_FILE), so an operator lists a load balancer there; Kubernetes puts the Ingress
# controllers' pod network in it.
TRUSTED_PROXIES_FILE = "/etc/nginx/trusted-proxies.conf"

_SAFE_PATH = re.compile(r"^/[A-Za-z0-9/_.-]*$")
_SAFE_RATE = re.compile(r"^[0-9]+r/[sm]$")
_SAFE_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_SAFE_TEXT = re.compile(r"^[$A-Za-z0-9 .,;:()_/-]*$")
_SAFE_DIR = re.compile(r"^/[A-Za-z0-9/_.+-]*$")


def problem_body(status: int, title: str, detail: str) -> str:
    """A problem+json body as an nginx single-quoted string, carrying the request id.

    `detail` may be an nginx variable (e.g. "$problem_detail") whose value is JSON-safe.
    """
    body = json.dumps(
        {
            "type": "about:blank",
            "title": title,
            "status": status,
            "detail": "__DETAIL__",
            "request_id": "__REQUEST_ID__",
        },
        ensure_ascii=True,
    )
    if not _SAFE_TEXT.match(detail):
        raise ValueError(f"problem detail needs JSON escaping: {detail!r}")
    return "'" + body.replace("__DETAIL__", detail).replace("__REQUEST_ID__", "$req_id") + "'"


def _locations_for(route: str) -> list[str]:
    """`/api/orgs` matches itself and `/api/orgs/...` but not `/api/orgsx`; `/sso/` is a plain prefix."""
    if not _SAFE_PATH.match(route):
        raise ValueError(f"unsafe route declared: {route!r}")
    if route.endswith("/"):
        return [f"location {route}"]
    return [f"location = {route}", f"location {route}/"]


def _block(location: str, route: str, extra: Sequence[str] = ()) -> dict[str, Any]:
    """One proxied location: its own directives, and the general limit unless it has a stricter one."""
    lines = list(extra)
    if not any(line.startswith("limit_req ") for line in extra):
        lines.append(GENERAL_LIMIT)
    return {"location": location, "route": route, "lines": lines}


def _sessions_served(catalog: Sequence[Service]) -> bool:
    return any(s.name == SESSION_SERVICE and s.exists for s in catalog)


def _session_lines(route: str, catalog: Sequence[Service]) -> list[str]:
    """An API location swaps a session cookie for a bearer token before proxying (see SESSION_CHECK)."""
    if not _sessions_served(catalog) or route.startswith(SESSIONLESS_ROUTES):
        return []
    return [
        f"auth_request {SESSION_CHECK};",
        "auth_request_set $session_token $upstream_http_x_access_token;",
        # A dead session's cookie is cleared; add_header here replaces the server's, so X-Request-ID again.
        "auth_request_set $session_cookie_reset $upstream_http_set_cookie;",
        "add_header Set-Cookie $session_cookie_reset always;",
        "add_header X-Request-ID $req_id always;",
    ]


def _service_blocks(catalog: Sequence[Service]) -> list[dict[str, Any]]:
    """Each service's locations: the password sign-ins under the login limit, its routes (with the session swap
    where a browser may come with a cookie, the public limit on the pages without sign-in), its OpenAPI."""
    out = []
    for service in catalog:
        blocks = []
        for route in service.routes:
            for login_path in LOGIN_PATHS:
                if route != "/" and login_path.startswith(route):
                    blocks.append(
                        _block(f"location = {login_path}", login_path, ["limit_req zone=login burst=10 nodelay;"])
                    )
            session = _session_lines(route, catalog)
            if route.startswith(PUBLIC_PREFIX):
                session = [*session, "limit_req zone=public burst=10 nodelay;"]
            blocks += [_block(location, route, session) for location in _locations_for(route)]
        openapi = f"/openapi/{service.name}/"
        blocks.append(_block(f"location {openapi}", openapi))
        out.append({"name": service.name, "exists": service.exists, "blocks": blocks})
    return out


def _problems() -> list[dict[str, Any]]:
    """nginx's own errors: how each is routed (error_page), where it is answered and with what."""
    out = []
    for status, (title, detail) in PROBLEMS.items():
        answered = ANSWERED_AS.get(status, status)
        if status in EARLY_PROBLEMS:
            error_page, location = f"{status} {PROBLEM_URI}{status}", f"= {PROBLEM_URI}{status}"
        elif status in ANSWERED_AS:
            error_page, location = f"{status} ={answered} @problem_{status}", f"@problem_{status}"
        else:
            error_page, location = f"{status} @problem_{status}", f"@problem_{status}"
        out.append(
            {
                "status": status,
                "error_page": error_page,
                "location": location,
                "early": status in EARLY_PROBLEMS,
                "answered": answered,
                "retry_after": RETRY_AFTER.get(status),
                "body": problem_body(answered, title, detail),
            }
        )
    return out


def trusted_proxy_lines(networks: Sequence[str]) -> list[str]:
    """The proxy networks, validated (a typo must not become an nginx syntax error)."""
    out = []
    for value in networks:
        try:
            out.append(str(ipaddress.ip_network(value.strip(), strict=False)))
        except ValueError as exc:
            raise ValueError(f"not an address or network: {value!r}") from exc
    return out


def _unlimited(target: str, unlimited_clients: Sequence[str]) -> list[str]:
    """Addresses left out of the limits (an empty key is not counted): a test harness's client, local only."""
    if unlimited_clients and target != "local":
        raise ValueError("unlimited_clients is for the local target's test stacks only")
    out = []
    for value in unlimited_clients:
        try:
            out.append(str(ipaddress.ip_address(value.strip())))
        except ValueError as exc:
            raise ValueError(f"not an address: {value!r}") from exc
    return out


def _static_dir(path: str | Path) -> str:
    text = os.path.abspath(path)
    if not _SAFE_DIR.match(text):
        raise ValueError(f"static files directory has characters nginx cannot take unquoted: {text!r}")
    return text.rstrip("/")


TEMPLATE = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    undefined=StrictUndefined,
    autoescape=False,  # noqa: S701 - nginx configuration, not HTML; every value is validated above
).get_template("nginx.conf.j2")


def render(
    target: str,
    port: int = DEFAULT_PORT,
    runtime_dir: str | None = None,
    *,
    services: Sequence[Service] | None = None,
    listen_host: str = "127.0.0.1",
    rate: str = DEFAULT_RATE,
    login_rate: str = DEFAULT_LOGIN_RATE,
    public_rate: str = DEFAULT_PUBLIC_RATE,
    trusted_proxies: Sequence[str] = (),
    portal_dir: str | Path | None = None,
    swagger_ui_dir: str | Path | None = None,
    unlimited_clients: Sequence[str] = (),
) -> str:
    """The nginx.conf text for `target` ("local" or "compose"), from nginx.conf.j2.

    For "local", `port` and `listen_host` set the listen address, `runtime_dir` (required)
    receives pid, temp files and logs, and `trusted_proxies` lists who may set X-Forwarded-For.
    For "compose" these are fixed (8080, stdout/stderr, the proxies in TRUSTED_PROXIES_FILE).
    `portal_dir` (the built portal) and `swagger_ui_dir` (swagger-ui-dist) are served when given; for
    "compose" they default to where the gateway image has them.
    `unlimited_clients` (local only, for the test harnesses): addresses the rate limits leave out, e.g. a
    loopback address the fuzzing client connects from; nothing is left out when it is empty (always so for
    compose and Kubernetes).
    """
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; expected one of {TARGETS}")
    if not (_SAFE_RATE.match(rate) and _SAFE_RATE.match(login_rate) and _SAFE_RATE.match(public_rate)):
        raise ValueError("rates look like 50r/s or 30r/m")
    catalog = list(services) if services is not None else load_services()
    for service in catalog:
        if not _SAFE_NAME.match(service.name):
            raise ValueError(f"unsafe service name in deploy/services.yaml: {service.name!r}")

    context: dict[str, Any]
    if target == "local":
        if not runtime_dir:
            raise ValueError("the local target needs a runtime_dir")
        rt = os.path.abspath(runtime_dir)
        if any(c in rt for c in " ;{}'\"$#"):
            raise ValueError(f"runtime dir path has characters nginx cannot take unquoted: {rt!r}")
        context = {
            "runtime_dir": rt,
            # Started as root (a container or CI), nginx would run its workers as `nobody`, who cannot write the
            # runtime dir's temp files (request bodies over the buffer): keep them as the user who owns the dir.
            "run_as_root": os.geteuid() == 0,
            "temp_root": rt,
            "access_log": f"{rt}/access.log",
            "worker_connections": 1024,
            "listen": f"{listen_host}:{port}",
            "trusted_proxies": trusted_proxy_lines(trusted_proxies),
            "upstream_address": lambda s: f"127.0.0.1:{s.web_port}",
        }
    else:
        portal_dir = portal_dir or COMPOSE_PORTAL_DIR
        swagger_ui_dir = swagger_ui_dir or COMPOSE_SWAGGER_UI_DIR
        context = {
            "temp_root": "/tmp",  # noqa: S108 - the container's own /tmp
            "access_log": "/dev/stdout",
            "worker_connections": 4096,
            "listen": str(DEFAULT_PORT),
            "upstream_address": lambda s: f"{s.name}-web:{COMPOSE_WEB_PORT}",
        }
    unlimited = _unlimited(target, unlimited_clients)
    problems = _problems()
    return TEMPLATE.render(
        **context,
        target=target,
        static_types=STATIC_TYPES,
        max_body=MAX_BODY,
        header_buffer=HEADER_BUFFER,
        trusted_proxies_file=TRUSTED_PROXIES_FILE,
        session_cookie=SESSION_COOKIE,
        unlimited_clients=unlimited,
        limit_key="$limit_key" if unlimited else "$binary_remote_addr",
        rate=rate,
        login_rate=login_rate,
        public_rate=public_rate,
        upstreams=[{"name": s.name, "address": context["upstream_address"](s)} for s in catalog if s.exists],
        problems=problems,
        problem_uri=PROBLEM_URI,
        not_found_problem=next(p for p in problems if p["status"] == 404),
        private_networks=PRIVATE_NETWORKS,
        missing=[s.name for s in catalog if not s.exists],
        sessions_served=_sessions_served(catalog),
        session_check=SESSION_CHECK,
        session_service=SESSION_SERVICE,
        service_blocks=_service_blocks(catalog),
        swagger_ui_path=SWAGGER_UI_PATH,
        swagger_ui_root=_static_dir(swagger_ui_dir) if swagger_ui_dir else None,
        portal_root=_static_dir(portal_dir) if portal_dir else None,
        not_portal=NOT_PORTAL,
        private_exact_paths=("/metrics", "/nginx_status") if target == "compose" else ("/metrics",),
        gzip_types=GZIP_TYPES,
        portal_csp=PORTAL_CSP,
        compose_status_port=COMPOSE_STATUS_PORT,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=TARGETS)
    parser.add_argument("--out", required=True, help="file to write")
    parser.add_argument("--runtime-dir", help="local target: directory for pid, temp files and logs")
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("GATEWAY_PORT", DEFAULT_PORT)),
        help="local target: listen port (default $GATEWAY_PORT or 8080)",
    )
    parser.add_argument(
        "--host", default=os.environ.get("GATEWAY_HOST", "127.0.0.1"), help="local target: listen address"
    )
    parser.add_argument("--rate", default=os.environ.get("GATEWAY_RATE", DEFAULT_RATE))
    parser.add_argument("--login-rate", default=os.environ.get("GATEWAY_LOGIN_RATE", DEFAULT_LOGIN_RATE))
    parser.add_argument("--public-rate", default=os.environ.get("GATEWAY_PUBLIC_RATE", DEFAULT_PUBLIC_RATE))
    parser.add_argument(
        "--trusted-proxies",
        default=os.environ.get("GATEWAY_TRUSTED_PROXIES", ""),
        help="local target: comma-separated proxies whose X-Forwarded-For is believed (default none)",
    )
    parser.add_argument(
        "--portal-dir",
        help="the built portal (default: local "
        f"{LOCAL_PORTAL_DIR.relative_to(REPO_ROOT)}, compose {COMPOSE_PORTAL_DIR})",
    )
    parser.add_argument(
        "--swagger-ui-dir",
        help="swagger-ui-dist's files (default: local "
        f"{LOCAL_SWAGGER_UI_DIR.relative_to(REPO_ROOT)}, compose {COMPOSE_SWAGGER_UI_DIR})",
    )
    args = parser.parse_args(argv)

    if args.target == "local":
        if not args.runtime_dir:
            parser.error("local needs --runtime-dir")
        Path(args.runtime_dir).mkdir(parents=True, exist_ok=True)
        text = render(
            "local",
            args.port,
            args.runtime_dir,
            listen_host=args.host,
            rate=args.rate,
            login_rate=args.login_rate,
            public_rate=args.public_rate,
            trusted_proxies=[p for p in args.trusted_proxies.split(",") if p.strip()],
            portal_dir=args.portal_dir or LOCAL_PORTAL_DIR,
            swagger_ui_dir=args.swagger_ui_dir or LOCAL_SWAGGER_UI_DIR,
        )
    else:
        text = render("compose", DEFAULT_PORT, None, portal_dir=args.portal_dir, swagger_ui_dir=args.swagger_ui_dir)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
