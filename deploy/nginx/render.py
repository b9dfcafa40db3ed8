"""Render the nginx gateway config from deploy/services.yaml.

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


def _problem_return(status: int, title: str, detail: str, indent: str) -> list[str]:
    lines = [
        # No file types here: a problem for /assets/x.js or /openapi/x.json is still problem+json.
        f"{indent}types {{ }}",
        f"{indent}default_type application/problem+json;",
        f"{indent}add_header X-Request-ID $req_id always;",
        f'{indent}add_header Cache-Control "no-store" always;',
    ]
    if status in RETRY_AFTER:
        lines.append(f"{indent}add_header Retry-After {RETRY_AFTER[status]} always;")
    answered = ANSWERED_AS.get(status, status)
    lines.append(f"{indent}return {answered} {problem_body(answered, title, detail)};")
    return lines


def _locations_for(route: str) -> list[str]:
    """`/api/orgs` matches itself and `/api/orgs/...` but not `/api/orgsx`; `/sso/` is a plain prefix."""
    if not _SAFE_PATH.match(route):
        raise ValueError(f"unsafe route in services.yaml: {route!r}")
    if route.endswith("/"):
        return [f"location {route}"]
    return [f"location = {route}", f"location {route}/"]


def _service_block(
    service: Service, location: str, route: str, extra: Sequence[str] = (), indent: str = "        "
) -> list[str]:
    inner = indent + "    "
    lines = [f"{indent}{location} {{", f"{inner}set $service {service.name};", f"{inner}set $route {route};"]
    lines += [f"{inner}{line}" for line in extra]
    if not any(line.startswith("limit_req ") for line in extra):
        lines.append(f"{inner}{GENERAL_LIMIT}")
    if service.exists:
        lines.append(f"{inner}proxy_pass http://{service.name}_web;")
    else:
        # Answered by @problem_503, whose detail names $service.
        lines.append(f"{inner}return 503;")
    lines.append(f"{indent}}}")
    return lines


def _status_location(indent: str) -> list[str]:
    """stub_status for the nginx prometheus exporter, to loopback and private networks only."""
    lines = [f"{indent}# For the nginx prometheus exporter only.", f"{indent}location = /nginx_status {{"]
    lines += [f"{indent}    access_log off;", f"{indent}    stub_status;"]
    lines += [f"{indent}    allow {net};" for net in PRIVATE_NETWORKS]
    lines += [f"{indent}    deny all;", f"{indent}}}", ""]
    return lines


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


def trusted_proxy_lines(networks: Sequence[str]) -> list[str]:
    """`set_real_ip_from` for each proxy network, validated (a typo must not become an nginx syntax error)."""
    lines = []
    for value in networks:
        try:
            network = ipaddress.ip_network(value.strip(), strict=False)
        except ValueError as exc:
            raise ValueError(f"not an address or network: {value!r}") from exc
        lines.append(f"set_real_ip_from {network};")
    return lines


def _real_ip(target: str, trusted_proxies: Sequence[str]) -> list[str]:
    """The client is the last address in X-Forwarded-For not added by a trusted proxy; limits and logs use it."""
    lines = [
        "    # The real client: rate limits ($binary_remote_addr), logs and X-Real-IP use it. X-Forwarded-For is",
        "    # believed only from the trusted proxies, so a client cannot pick its own address (and bucket).",
        "    real_ip_header X-Forwarded-For;",
        "    real_ip_recursive on;",
    ]
    if target == "local":
        lines += [f"    {line}" for line in trusted_proxy_lines(trusted_proxies)]
    else:
        lines.append(f"    include {TRUSTED_PROXIES_FILE};")
    return lines


def _limit_key(target: str, unlimited_clients: Sequence[str]) -> list[str]:
    """An empty key is not counted by limit_req: the listed addresses (a test harness's client) get one."""
    if not unlimited_clients:
        return []
    if target != "local":
        raise ValueError("unlimited_clients is for the local target's test stacks only")
    lines = [
        "    # Test harness only: these client addresses are not rate limited (an empty key is not counted).",
        "    geo $limit_exempt {",
        "        default 0;",
    ]
    for value in unlimited_clients:
        try:
            address = ipaddress.ip_address(value.strip())
        except ValueError as exc:
            raise ValueError(f"not an address: {value!r}") from exc
        lines.append(f"        {address} 1;")
    lines += [
        "    }",
        "    map $limit_exempt $limit_key {",
        '        1 "";',
        "        default $binary_remote_addr;",
        "    }",
        "",
    ]
    return lines


def _static_dir(path: str | Path) -> str:
    text = os.path.abspath(path)
    if not _SAFE_DIR.match(text):
        raise ValueError(f"static files directory has characters nginx cannot take unquoted: {text!r}")
    return text.rstrip("/")


def _static_common(root: str, indent: str) -> list[str]:
    """What every static location shares: its root and gzip (API answers are left as the services send them)."""
    return [
        f"{indent}root {root};",
        f"{indent}gzip on;",
        f"{indent}gzip_vary on;",
        f"{indent}gzip_min_length 512;",
        f"{indent}gzip_types {GZIP_TYPES};",
    ]


def _portal_headers(cache_control: str, indent: str) -> list[str]:
    """add_header in a location replaces the server's, so X-Request-ID is repeated with the security headers."""
    return [
        f"{indent}add_header X-Request-ID $req_id always;",
        f'{indent}add_header Cache-Control "{cache_control}" always;',
        f'{indent}add_header Content-Security-Policy "{PORTAL_CSP}" always;',
        f"{indent}add_header X-Content-Type-Options nosniff always;",
        f"{indent}add_header Referrer-Policy same-origin always;",
        f"{indent}add_header X-Frame-Options DENY always;",
    ]


def _portal_locations(target: str, portal_dir: str | None, swagger_ui_dir: str | None) -> list[str]:
    """The portal at `/` and Swagger UI's assets; without a portal, `/` is a problem+json 404 (API only)."""
    ind, inner = "        ", "            "
    out: list[str] = []
    if swagger_ui_dir:
        root = _static_dir(swagger_ui_dir)
        out += [
            "        # Swagger UI's own files for the services' /openapi/<service>/docs pages (no CDN).",
            f"        location {SWAGGER_UI_PATH} {{",
            f"            alias {root}/;",
            *_static_common(root, inner)[1:],
            inner + "add_header X-Request-ID $req_id always;",
            inner + 'add_header Cache-Control "public, max-age=86400" always;',
            inner + "add_header X-Content-Type-Options nosniff always;",
            "        }",
            "",
        ]
    if not portal_dir:
        return [
            *out,
            "        # Everything else, including the services' /metrics and /health/*, is not public.",
            "        location / {",
            *_problem_return(404, *PROBLEMS[404], inner),
            "        }",
            "",
        ]
    root = _static_dir(portal_dir)
    out += ["        # Unknown API paths (and the services' /health/*) answer problem+json, never the portal's page."]
    for prefix in NOT_PORTAL:
        out += [f"{ind}location {prefix} {{", *_problem_return(404, *PROBLEMS[404], inner), f"{ind}}}"]
    # In containers stub_status has a listener of its own; here its path is a 404 like any private one, since
    # the Ingress routes `/` (and so every path) to this listener.
    exact = ("/metrics", "/nginx_status") if target == "compose" else ("/metrics",)
    for path in exact:
        out += [f"{ind}location = {path} {{", *_problem_return(404, *PROBLEMS[404], inner), f"{ind}}}"]
    out.append("")
    out += [
        "        # The portal (portal/dist): hashed build output cached for a year, index.html revalidated every time,",
        "        # client routes (/school/rounds...) answered by index.html.",
        "        location /assets/ {",
        *_static_common(root, inner),
        *_portal_headers("public, max-age=31536000, immutable", inner),
        inner + "try_files $uri =404;",
        "        }",
        "        location / {",
        *_static_common(root, inner),
        *_portal_headers("no-cache", inner),
        inner + "try_files $uri /index.html;",
        "        }",
        "",
    ]
    return out


def _local_user() -> list[str]:
    """Started as root (a container or CI), nginx would run its workers as `nobody`, who cannot write the
    runtime dir's temp files (request bodies over the buffer): keep them as the user who owns the dir."""
    if os.geteuid() != 0:
        return []
    return ["user root;"]


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
    """The nginx.conf text for `target` ("local" or "compose").

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
            raise ValueError(f"unsafe service name in services.yaml: {service.name!r}")

    if target == "local":
        if not runtime_dir:
            raise ValueError("the local target needs a runtime_dir")
        rt = os.path.abspath(runtime_dir)
        if any(c in rt for c in " ;{}'\"$#"):
            raise ValueError(f"runtime dir path has characters nginx cannot take unquoted: {rt!r}")
        head = [
            "# Local (no Docker) gateway: run as an ordinary user, supervised in the foreground:",
            f"#   nginx -p {rt} -c {rt}/nginx.conf -e {rt}/error.log",
            "daemon off;",
            "worker_processes 2;",
            f"pid {rt}/nginx.pid;",
            *_local_user(),
            f"error_log {rt}/error.log warn;",
        ]
        temp_root = rt
        access_log = f"{rt}/access.log"
        worker_connections = 1024
        listen = f"{listen_host}:{port}"
        upstream_addr = {s.name: f"127.0.0.1:{s.web_port}" for s in catalog}
    else:
        head = [
            "# docker compose gateway (nginx:1.27-alpine starts it with -g 'daemon off;').",
            "# Writes only under /tmp, so it also runs as a non-root user.",
            "worker_processes auto;",
            "pid /tmp/nginx.pid;",
            "error_log stderr warn;",
        ]
        temp_root = "/tmp"  # noqa: S108 - the container's own /tmp
        portal_dir = portal_dir or COMPOSE_PORTAL_DIR
        swagger_ui_dir = swagger_ui_dir or COMPOSE_SWAGGER_UI_DIR
        access_log = "/dev/stdout"
        worker_connections = 4096
        listen = str(DEFAULT_PORT)
        upstream_addr = {s.name: f"{s.name}-web:{COMPOSE_WEB_PORT}" for s in catalog}

    limit_key = "$limit_key" if unlimited_clients else "$binary_remote_addr"
    out = [
        "# GENERATED by deploy/nginx/render.py from deploy/services.yaml; do not edit by hand.",
        *head,
        "",
        "events {",
        f"    worker_connections {worker_connections};",
        "}",
        "",
        "http {",
        "    server_tokens off;",
        "    default_type application/octet-stream;",
        "    # Types of the static files (portal, Swagger UI); proxied answers keep the services' Content-Type.",
        "    types {",
        *[f"        {mime} {exts};" for mime, exts in STATIC_TYPES.items()],
        "    }",
        "    tcp_nodelay on;",
        "    keepalive_timeout 65s;",
        f"    client_max_body_size {MAX_BODY};",
        "    client_body_buffer_size 128k;",
        f"    large_client_header_buffers 4 {HEADER_BUFFER};",
        "",
    ]
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        out.append(f"    {kind}_temp_path {temp_root}/nginx_{kind}_temp;")
    out += ["", *_real_ip(target, trusted_proxies)]
    out += [
        "",
        "    # Keep a well-formed client X-Request-ID (so a trace spans client and services); else make one.",
        "    map $http_x_request_id $req_id {",
        "        default $request_id;",
        '        "~^[A-Za-z0-9._:-]{1,128}$" $http_x_request_id;',
        "    }",
        "    # Only nginx answers 503 itself for a service that is not deployed yet (rate limits are 429).",
        "    map $service $problem_detail {",
        '        "-" "The service behind this path is not available.";',
        '        default "The $service service is not deployed yet.";',
        "    }",
        "    # SSO browser sessions: only a request with the session cookie and no Authorization header is looked",
        "    # up; the access token identity answers with becomes its bearer token. A client's own token wins.",
        "    map $http_authorization $session_lookup {",
        f'        "" $cookie_{SESSION_COOKIE};',
        '        default "";',
        "    }",
        '    map "$http_authorization|$session_token" $upstream_authorization {',
        '        "~^\\|(?<session_bearer>.+)$" "Bearer $session_bearer";',
        "        default $http_authorization;",
        "    }",
        "    # Host with the port, so services build correct absolute URLs behind the gateway.",
        "    map $http_host $fwd_host {",
        "        default $http_host;",
        '        "" $host;',
        "    }",
        "",
        "    # $uri, not $request_uri: query strings may carry SSO codes and tickets.",
        "    log_format gateway_json escape=json",
        '        \'{"time":"$time_iso8601","request_id":"$req_id","remote_addr":"$remote_addr",\'',
        '        \'"method":"$request_method","path":"$uri","status":$status,\'',
        '        \'"body_bytes_sent":$body_bytes_sent,"request_time":$request_time,\'',
        '        \'"upstream_addr":"$upstream_addr","upstream_status":"$upstream_status",\'',
        '        \'"upstream_response_time":"$upstream_response_time",\'',
        '        \'"service":"$service","route":"$route","user_agent":"$http_user_agent"}\';',
        f"    access_log {access_log} gateway_json;",
        "",
        *_limit_key(target, unlimited_clients),
        "    # Per client address: a general limit, and a much stricter one on the password sign-ins.",
        f"    limit_req_zone {limit_key} zone=general:10m rate={rate};",
        f"    limit_req_zone {limit_key} zone=login:10m rate={login_rate};",
        f"    limit_req_zone {limit_key} zone=public:10m rate={public_rate};",
        "    limit_req_status 429;",
        "    limit_req_log_level warn;",
        "",
        "    proxy_http_version 1.1;",
        '    proxy_set_header Connection "";',
        "    proxy_set_header Host $fwd_host;",
        "    proxy_set_header X-Request-ID $req_id;",
        "    proxy_set_header X-Real-IP $remote_addr;",
        "    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "    proxy_set_header X-Forwarded-Proto $scheme;",
        "    proxy_set_header X-Forwarded-Host $fwd_host;",
        "    proxy_set_header Authorization $upstream_authorization;",
        "    # The gateway adds X-Request-ID itself; hiding the service's copy avoids a duplicate header.",
        "    proxy_hide_header X-Request-ID;",
        "    proxy_hide_header X-Powered-By;",
        "    proxy_connect_timeout 5s;",
        "    proxy_send_timeout 60s;",
        "    proxy_read_timeout 60s;",
        "    proxy_intercept_errors off;",
        "",
    ]
    for service in catalog:
        if not service.exists:
            continue
        out += [
            f"    upstream {service.name}_web {{",
            f"        server {upstream_addr[service.name]};",
            "        keepalive 32;",
            "        # Shorter than gunicorn's keepalive (75 s), so nginx closes idle connections first.",
            "        keepalive_timeout 60s;",
            "        keepalive_requests 1000;",
            "    }",
            "",
        ]
    missing = [s.name for s in catalog if not s.exists]
    out += [
        "    server {",
        f"        listen {listen} default_server;",
        "        server_name _;",
        '        set $service "-";',
        '        set $route "-";',
        '        set $session_token "";',
        "        add_header X-Request-ID $req_id always;",
        "",
    ]
    for status in PROBLEMS:
        if status in EARLY_PROBLEMS:
            out.append(f"        error_page {status} {PROBLEM_URI}{status};")
        elif status in ANSWERED_AS:
            out.append(f"        error_page {status} ={ANSWERED_AS[status]} @problem_{status};")
        else:
            out.append(f"        error_page {status} @problem_{status};")
    out.append(f"        error_page 494 =431 {PROBLEM_URI}431;")
    out += [
        "",
        "        location = /gateway/health {",
        "            access_log off;",
        "            default_type application/json;",
        '            return 200 \'{"status":"ok"}\';',
        "        }",
        "",
    ]
    if target == "local":
        out += _status_location("        ")
    if missing:
        out.append(f"        # Not deployed yet (no services/<name>/ directory): {', '.join(missing)}.")
    if _sessions_served(catalog):
        out += [
            "        # Asked (auth_request) by every API location: 204 without a session cookie (nothing to do), else",
            "        # identity's answer: 204 with X-Access-Token for a live session, 204 clearing the cookie for an",
            "        # ended one, 403 for a cross-site write. Internal: a browser asking for it gets a 404.",
            f"        location = {SESSION_CHECK} {{",
            "            internal;",
            '            if ($session_lookup = "") {',
            "                return 204;",
            "            }",
            f"            proxy_pass http://{SESSION_SERVICE}_web/sso/session;",
            "            proxy_pass_request_body off;",
            '            proxy_set_header Content-Length "";',
            '            proxy_set_header Authorization "";',
            '            proxy_set_header Connection "";',
            "            proxy_set_header Host $fwd_host;",
            "            proxy_set_header X-Request-ID $req_id;",
            "            proxy_set_header X-Real-IP $remote_addr;",
            "            proxy_set_header X-Original-Method $request_method;",
            "        }",
            "",
        ]

    for service in catalog:
        out.append(f"        # {service.name}")
        for route in service.routes:
            for login_path in LOGIN_PATHS:
                if route != "/" and login_path.startswith(route):
                    out += _service_block(
                        service,
                        f"location = {login_path}",
                        login_path,
                        extra=["limit_req zone=login burst=10 nodelay;"],
                    )
            session = _session_lines(route, catalog)
            if route.startswith(PUBLIC_PREFIX):
                session = [*session, "limit_req zone=public burst=10 nodelay;"]
            for location in _locations_for(route):
                out += _service_block(service, location, route, extra=session)
        openapi = f"/openapi/{service.name}/"
        out += _service_block(service, f"location {openapi}", openapi)
        out.append("")

    out += _portal_locations(
        target, str(portal_dir) if portal_dir else None, str(swagger_ui_dir) if swagger_ui_dir else None
    )
    for status, (title, detail) in PROBLEMS.items():
        where = f"= {PROBLEM_URI}{status}" if status in EARLY_PROBLEMS else f"@problem_{status}"
        out += [
            f"        location {where} {{",
            *(["            internal;"] if status in EARLY_PROBLEMS else []),
            *_problem_return(status, title, detail, "            "),
            "        }",
        ]
    out += ["    }"]
    if target == "compose":
        out += [
            "",
            f"    # The exporter's own listener ({COMPOSE_STATUS_PORT}): compose does not publish it, the Ingress does",
            "    # not route it.",
            "    server {",
            f"        listen {COMPOSE_STATUS_PORT};",
            "        server_name _;",
            *_status_location("        "),
            "        location / {",
            "            return 404;",
            "        }",
            "    }",
        ]
    out += ["}", ""]
    return "\n".join(out)


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
