"""The nginx gateway config: generated from the service declarations, committed copy current, accepted by nginx."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from deploy.nginx import render as render_mod

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_CONF = REPO_ROOT / "deploy" / "nginx" / "nginx.compose.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
needs_nginx = pytest.mark.skipif(NGINX is None, reason="nginx binary not installed")


def _nginx_test(conf: Path, prefix: Path) -> subprocess.CompletedProcess[str]:
    assert NGINX is not None
    return subprocess.run(
        [NGINX, "-t", "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_committed_compose_config_is_up_to_date() -> None:
    fresh = render_mod.render("compose", 8080, None)
    assert COMPOSE_CONF.read_text(encoding="utf-8") == fresh, (
        "deploy/nginx/nginx.compose.conf is stale: run "
        "`python deploy/nginx/render.py compose --out deploy/nginx/nginx.compose.conf`"
    )


@needs_nginx
def test_nginx_accepts_local_config_as_is(tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text(render_mod.render("local", 18080, str(tmp_path)), encoding="utf-8")
    result = _nginx_test(conf, tmp_path)
    assert result.returncode == 0, result.stderr


@needs_nginx
def test_nginx_accepts_compose_config_syntax(tmp_path: Path) -> None:
    """Same text as committed, with /tmp and the compose host names swapped for things that exist here."""
    text = COMPOSE_CONF.read_text(encoding="utf-8").replace(" /tmp/", f" {tmp_path}/")
    text = re.sub(r"server [a-z0-9-]+-web:8000;", "server 127.0.0.1:8000;", text)
    text = text.replace(render_mod.TRUSTED_PROXIES_FILE, str(COMPOSE_CONF.with_name("trusted-proxies.conf")))
    conf = tmp_path / "nginx.conf"
    conf.write_text(text, encoding="utf-8")
    result = _nginx_test(conf, tmp_path)
    assert result.returncode == 0, result.stderr


def test_local_config_writes_only_inside_runtime_dir(tmp_path: Path) -> None:
    text = render_mod.render("local", 18080, str(tmp_path))
    assert "daemon off;" in text
    if os.geteuid() == 0:
        # Workers would otherwise drop to `nobody` and fail to write request-body temp files here.
        assert "\nuser root;" in text
    else:
        assert "\nuser " not in text, "a user directive only works for root"
    for directive in ("pid", "error_log", "access_log", *(f"{k}_temp_path" for k in ("client_body", "proxy"))):
        paths = re.findall(rf"^\s*{directive} (\S+?)[; ]", text, flags=re.MULTILINE)
        assert paths, directive
        assert all(p.startswith(str(tmp_path)) or p == "off" for p in paths), (directive, paths)
    assert "listen 127.0.0.1:18080 default_server;" in text


def test_compose_config_logs_to_stdout_and_uses_container_upstreams() -> None:
    text = COMPOSE_CONF.read_text(encoding="utf-8")
    assert "error_log stderr" in text and "access_log /dev/stdout gateway_json;" in text
    assert "listen 8080 default_server;" in text
    assert not re.search(r"^daemon ", text, flags=re.MULTILINE), "the nginx image already sets daemon off"
    for name in [s.name for s in render_mod.load_services() if s.exists]:
        assert f"server {name}-web:8000;" in text


def test_compose_serves_stub_status_only_on_the_unpublished_listener() -> None:
    text = COMPOSE_CONF.read_text(encoding="utf-8")
    public, _, status = text.partition("listen 8081;")
    # Behind port publishing every client looks private: the public listener answers the path with a 404.
    assert "stub_status" not in public
    assert "location = /nginx_status {" in public and "return 404" in public.split("location = /nginx_status {")[1]
    assert "location = /nginx_status" in status and "stub_status;" in status
    compose = (Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text(encoding="utf-8")
    assert "http://gateway:8081/nginx_status" in compose and '"8081:' not in compose


def test_sessions_are_swapped_for_a_bearer_token_on_api_routes_only() -> None:
    text = COMPOSE_CONF.read_text(encoding="utf-8")
    assert "proxy_pass http://identity_web/sso/session;" in text
    api = text[text.index("location = /api/orgs {") :].split("}", 1)[0]
    assert "auth_request /sso/session;" in api
    check = text[text.index("location = /sso/session {") :].split("}", 1)[0]
    assert "internal;" in check
    for sessionless in ("location /api/auth/ {", "location /sso/ {"):
        block = text[text.index(sessionless) :].split("}", 1)[0]
        assert "auth_request" not in block


def test_routes_of_existing_services_are_proxied_and_others_answer_503(tmp_path: Path) -> None:
    services = [
        render_mod.Service("identity", 8101, 9101, ("/api/auth/", "/api/orgs", "/sso/"), True),
        render_mod.Service("nominations", 8102, 9102, ("/api/rounds",), False),
    ]
    text = render_mod.render("local", 8080, str(tmp_path), services=services)
    blocks = dict(re.findall(r"location ([^{]+?) \{(.*?)\n        \}", text, flags=re.DOTALL))
    for loc in ("/api/auth/", "= /api/orgs", "/api/orgs/", "/sso/", "/openapi/identity/", "= /api/auth/token"):
        assert "proxy_pass http://identity_web;" in blocks[loc], loc
    assert "limit_req zone=login" in blocks["= /api/auth/token"]
    assert "limit_req zone=general" not in blocks["= /api/auth/token"]  # the stricter limit, not both
    for loc in ("/api/auth/", "= /api/orgs", "/sso/", "/openapi/identity/", "= /api/rounds"):
        assert "limit_req zone=general" in blocks[loc], loc
    for loc in ("= /api/rounds", "/api/rounds/", "/openapi/nominations/"):
        assert "return 503;" in blocks[loc] and "proxy_pass" not in blocks[loc], loc
    assert "upstream nominations_web" not in text
    # /api/orgs must not swallow /api/orgsx: only the exact path and the path with a slash.
    assert "location /api/orgs {" not in text
    assert '"title": "Service unavailable"' in blocks["@problem_503"]
    assert "application/problem+json" in blocks["@problem_503"]
    assert "application/problem+json" in blocks["/"] and "return 404" in blocks["/"]


def test_required_gateway_features_are_present(tmp_path: Path) -> None:
    text = render_mod.render("local", 8080, str(tmp_path))
    for needle in (
        "client_max_body_size 20m;",
        "keepalive 32;",
        "proxy_http_version 1.1;",
        'proxy_set_header Connection "";',
        "proxy_set_header X-Request-ID $req_id;",
        "add_header X-Request-ID $req_id always;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_set_header X-Forwarded-Host $fwd_host;",
        "log_format gateway_json escape=json",
        "limit_req_zone $binary_remote_addr zone=general:",
        "limit_req_zone $binary_remote_addr zone=login:",
        "limit_req_status 429;",
        "location = /gateway/health {",
        "stub_status;",
        "deny all;",
    ):
        assert needle in text, needle
    for status in (429, 503, 504):
        assert f"error_page {status} @problem_{status};" in text
    assert "error_page 502 =503 @problem_502;" in text
    # The services' own /metrics and /health/* stay private: no location exposes them.
    assert not re.search(r"location[ =]+/(metrics|health)", text)


def test_unsafe_values_are_refused(tmp_path: Path) -> None:
    bad = [render_mod.Service("identity", 1, 2, ("/api/x; return 200",), True)]
    with pytest.raises(ValueError):
        render_mod.render("local", 8080, str(tmp_path), services=bad)
    with pytest.raises(ValueError):
        render_mod.render("local", 8080, str(tmp_path), rate="lots")
    with pytest.raises(ValueError):
        render_mod.render("local", 8080, None)
    with pytest.raises(ValueError):
        render_mod.render("kubernetes", 8080, None)


def test_forwarded_addresses_are_believed_only_from_listed_proxies(tmp_path: Path) -> None:
    local = render_mod.render("local", 18080, str(tmp_path), trusted_proxies=["10.1.2.3", "fd00::/8"])
    assert "real_ip_header X-Forwarded-For;" in local and "real_ip_recursive on;" in local
    assert "set_real_ip_from 10.1.2.3/32;" in local and "set_real_ip_from fd00::/8;" in local
    assert "set_real_ip_from" not in render_mod.render("local", 18080, str(tmp_path))
    compose = COMPOSE_CONF.read_text(encoding="utf-8")
    assert f"include {render_mod.TRUSTED_PROXIES_FILE};" in compose and "set_real_ip_from" not in compose
    listed = COMPOSE_CONF.with_name("trusted-proxies.conf").read_text(encoding="utf-8")
    assert not [line for line in listed.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    with pytest.raises(ValueError, match="not an address"):
        render_mod.render("local", 18080, str(tmp_path), trusted_proxies=["10.0.0.0/8; allow all"])


def test_名单公示_public_routes_are_sessionless_and_have_their_own_limit() -> None:
    text = COMPOSE_CONF.read_text(encoding="utf-8")
    assert "limit_req_zone $binary_remote_addr zone=public:" in text
    for location in ("location = /api/public/publications {", "location /api/public/publications/ {"):
        block = text[text.index(location) :].split("}", 1)[0]
        assert "limit_req zone=public" in block and "auth_request" not in block
    bureau = text[text.index("location /api/publications/ {") :].split("}", 1)[0]
    assert "auth_request" in bureau and "zone=public" not in bureau
