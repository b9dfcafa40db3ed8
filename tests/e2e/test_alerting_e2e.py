"""An alert reaches people: a real Prometheus fires it, the real Alertmanager (Debian's prometheus-alertmanager)
with the production routing tree of deploy/alertmanager/render.py delivers it to a local SMTP relay (aiosmtpd,
signed in with the relay's password), to a local stand-in of the WeCom API (gettoken, then message/send) and to
the platform inbox webhook with a client-credentials token from (a stand-in of) identity, and the resolve
follows on all three.

Only the timings are shortened (seconds instead of minutes); the routes, receivers and inhibition are the ones
production renders. The alert rules are a small file of the test's own with the platform's alert names and
labels, over a gauge the test sets, so it can fire and resolve them at will.

The second test runs the inbox path against the real services: identity and notifications (web, worker, the
gateway) on databases of its own, Alertmanager signing in as identity's `alertmanager` client, and the demo
tree's platform_admin reading the alert and its resolve in the inbox.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import email
import email.policy
import json
import os
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from deploy.alertmanager import render
from tests.conftest import ROOT, fresh_vhost
from tests.e2e.conftest import Stack, _run_processes, free_port, nginx_render, server_databases, token
from tests.helpers import wait_until
from tests.infrastructure import Infrastructure
from tests.ops.test_ops_tools import require

pytestmark = pytest.mark.e2e

SMTP_USER, SMTP_PASSWORD = "cio-alerts", "relay-password"
WECOM_CORP, WECOM_SECRET, WECOM_TOKEN = "ww-e2e-corp", "wecom-app-secret", "wecom-access-token"
CLIENT_SECRET, ACCESS_TOKEN = "alertmanager-client-secret", "e2e-access-token"


FAST = render.Timing(
    group_wait="1s",
    page_wait="1s",
    group_interval="2s",
    repeat="1h",
    page_repeat="1h",
    ticket_repeat="1h",
    warning_repeat="1h",
)


@dataclass
class Sinks:
    """What each receiver got, in arrival order."""

    mails: list[EmailMessage] = field(default_factory=list)
    wecom: list[dict[str, Any]] = field(default_factory=list)
    wecom_tokens: list[dict[str, str]] = field(default_factory=list)
    webhook: list[dict[str, Any]] = field(default_factory=list)
    webhook_auth: list[str] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    gauges: dict[str, float] = field(default_factory=dict)


class Relay:
    """The SMTP relay: accepts mail only after AUTH with the relay's password."""

    def __init__(self, sinks: Sinks) -> None:
        self.sinks = sinks

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        assert session.authenticated, "Alertmanager must sign in to the relay"
        raw = envelope.original_content or b""
        self.sinks.mails.append(email.message_from_bytes(raw, policy=email.policy.default))
        return "250 OK"


def authenticate(server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
    ok = (
        isinstance(data, LoginPassword) and data.login == SMTP_USER.encode() and data.password == SMTP_PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


def http_stand_in(sinks: Sinks) -> ThreadingHTTPServer:
    """WeCom's API (qyapi.weixin.qq.com/cgi-bin/), the platform inbox webhook and the scraped gauges, on one port."""

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, body: dict[str, Any] | str, content_type: str = "application/json") -> None:
            data = (json.dumps(body) if isinstance(body, dict) else body).encode()
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            if url.path == "/metrics":
                lines = [f"{name} {value}" for name, value in sinks.gauges.items()]
                self._reply("\n".join(lines) + "\n", "text/plain; version=0.0.4")
            elif url.path == "/cgi-bin/gettoken":
                query = dict(urllib.parse.parse_qsl(url.query))
                sinks.wecom_tokens.append(query)
                ok = query == {"corpid": WECOM_CORP, "corpsecret": WECOM_SECRET}
                self._reply({"errcode": 0, "errmsg": "ok", "access_token": WECOM_TOKEN} if ok else {"errcode": 40001})
            else:
                self.send_error(404)

        def do_POST(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            if url.path == "/api/auth/token":  # identity's token endpoint: client credentials, basic auth
                form = dict(urllib.parse.parse_qsl(raw.decode()))
                sinks.token_requests.append({**form, "authorization": self.headers.get("Authorization", "")})
                self._reply({"access_token": ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 300})
                return
            body = json.loads(raw)
            if url.path == "/cgi-bin/message/send":
                if dict(urllib.parse.parse_qsl(url.query)).get("access_token") != WECOM_TOKEN:
                    self._reply({"errcode": 42001, "errmsg": "access_token expired"})
                    return
                sinks.wecom.append(body)
                self._reply({"errcode": 0, "errmsg": "ok"})
            elif url.path == "/api/alerts/alertmanager":
                sinks.webhook_auth.append(self.headers.get("Authorization", ""))
                sinks.webhook.append(body)
                self._reply({"received": len(body["alerts"])})
            else:
                self.send_error(404)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test reports what matters."""
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@dataclass
class Alerting:
    sinks: Sinks
    alertmanager: str
    prometheus: str


def _process(cmd: list[str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT)


@pytest.fixture
def alerting(tmp_path: Path) -> Iterator[Alerting]:
    sinks = Sinks(gauges={"cio_e2e_target_up": 1, "cio_e2e_error_ratio": 0})
    http = http_stand_in(sinks)
    http_base = f"http://127.0.0.1:{http.server_address[1]}"
    smtp_port = free_port()
    relay = Controller(
        Relay(sinks),
        hostname="127.0.0.1",
        port=smtp_port,
        authenticator=authenticate,
        auth_require_tls=False,  # the relay is on this host; Go's PLAIN auth allows 127.0.0.1 without TLS
        # PLAIN only: aiosmtpd's LOGIN challenges ("User Name\0") are not the "Username:" real relays send.
        auth_exclude_mechanism=["LOGIN"],
    )
    relay.start()
    (tmp_path / "smtp-password").write_text(SMTP_PASSWORD, encoding="utf-8")
    (tmp_path / "client-secret").write_text(CLIENT_SECRET, encoding="utf-8")
    env = {
        "ALERT_SMTP_SMARTHOST": f"127.0.0.1:{smtp_port}",
        "ALERT_SMTP_FROM": "cio-alerts@example.org",
        "ALERT_SMTP_USERNAME": SMTP_USER,
        "ALERT_SMTP_PASSWORD_FILE": str(tmp_path / "smtp-password"),
        "ALERT_SMTP_REQUIRE_TLS": "false",
        "ALERT_EMAIL_ONCALL": "oncall@example.org",
        "ALERT_EMAIL_OPS": "ops@example.org",
        "WECOM_CORP_ID": WECOM_CORP,
        "WECOM_AGENT_ID": "1000002",
        "WECOM_API_SECRET": WECOM_SECRET,
        "WECOM_TO_PARTY_ONCALL": "2",
        "WECOM_API_URL": f"{http_base}/cgi-bin/",
        "ALERT_WEBHOOK_URL": f"{http_base}/api/alerts/alertmanager",
        "ALERT_WEBHOOK_TOKEN_URL": f"{http_base}/api/auth/token",
        "ALERT_WEBHOOK_CLIENT_SECRET_FILE": str(tmp_path / "client-secret"),
    }
    am_config = tmp_path / "alertmanager.yml"
    am_config.write_text(render.render("local", env, FAST), encoding="utf-8")
    am_port, prom_port = free_port(), free_port()
    # The platform's alert names and labels, over gauges the test sets; `for` 0 so they fire on evaluation.
    rules = {
        "groups": [
            {
                "name": "e2e",
                "rules": [
                    {
                        "alert": "TargetDown",
                        "expr": "cio_e2e_target_up == 0",
                        "labels": {"severity": "page", "service": "approvals"},
                        "annotations": {"summary": "approvals web target is down"},
                    },
                    {
                        "alert": "HighErrorRatio",
                        "expr": "cio_e2e_error_ratio > 0.05",
                        "labels": {"severity": "page", "service": "approvals"},
                        "annotations": {"summary": "approvals: requests fail with 5xx"},
                    },
                ],
            }
        ]
    }
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    prom_config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(tmp_path / "rules.yml")],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]},
        "scrape_configs": [{"job_name": "e2e", "static_configs": [{"targets": [http_base.removeprefix("http://")]}]}],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(prom_config), encoding="utf-8")
    alertmanager = _process(
        [
            require("prometheus-alertmanager"),
            f"--config.file={am_config}",
            f"--storage.path={tmp_path / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{am_port}",
            "--cluster.listen-address=",  # a single instance: no gossip port to collide on
        ],
        tmp_path / "alertmanager.log",
    )
    prometheus = _process(
        [
            require("prometheus"),
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'prom-data'}",
            f"--web.listen-address=127.0.0.1:{prom_port}",
            "--rules.alert.resend-delay=1s",
        ],
        tmp_path / "prometheus.log",
    )
    try:
        for base in (f"http://127.0.0.1:{am_port}", f"http://127.0.0.1:{prom_port}"):
            wait_until(partial(_ready, f"{base}/-/ready"), timeout=30, message=f"{base} ready")
        yield Alerting(sinks, f"http://127.0.0.1:{am_port}", f"http://127.0.0.1:{prom_port}")
    finally:
        for proc in (prometheus, alertmanager):
            proc.terminate()
            proc.wait(timeout=20)
        relay.stop()
        http.shutdown()


def _ready(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


def _alert_states(alertmanager: str) -> dict[str, dict[str, Any]]:
    alerts = requests.get(f"{alertmanager}/api/v2/alerts", timeout=5).json()
    return {a["labels"]["alertname"]: a["status"] for a in alerts}


def _both_alerts(alertmanager: str) -> dict[str, dict[str, Any]] | None:
    states = _alert_states(alertmanager)
    return states if len(states) == 2 else None


def _mail_text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    return f"{message['Subject']}\n{body.get_content() if body else ''}"


def test_a_down_target_pages_by_mail_wecom_and_inbox_silences_its_symptom_and_the_resolve_follows(
    alerting: Alerting,
) -> None:
    sinks = alerting.sinks
    sinks.gauges.update(cio_e2e_target_up=0, cio_e2e_error_ratio=0.5)

    # Both alerts reach Alertmanager; the down target inhibits the same service's error ratio.
    states = wait_until(
        lambda: _both_alerts(alerting.alertmanager), timeout=30, interval=0.5, message="both alerts in Alertmanager"
    )
    assert states is not None and states["TargetDown"]["state"] == "active"
    wait_until(
        lambda: _alert_states(alerting.alertmanager)["HighErrorRatio"]["inhibitedBy"],
        timeout=10,
        interval=0.5,
        message="HighErrorRatio inhibited by TargetDown",
    )

    # The on-call's mail (through the relay, signed in), WeCom (token fetched with the app's secret) and the inbox.
    wait_until(lambda: sinks.mails and sinks.wecom and sinks.webhook, timeout=30, interval=0.5, message="deliveries")
    firing_mail = sinks.mails[0]
    assert firing_mail["To"] == "oncall@example.org"
    assert "FIRING" in firing_mail["Subject"] and "TargetDown" in firing_mail["Subject"]
    assert "approvals" in _mail_text(firing_mail)
    assert sinks.wecom_tokens[0] == {"corpid": WECOM_CORP, "corpsecret": WECOM_SECRET}
    wecom = sinks.wecom[0]
    assert wecom["toparty"] == "2" and wecom["agentid"] == "1000002" and wecom["msgtype"] == "text"
    assert "TargetDown" in wecom["text"]["content"] and "Firing" in wecom["text"]["content"]
    # The inbox webhook: a client-credentials token from identity first, then the post with it.
    assert sinks.token_requests[0]["grant_type"] == "client_credentials"
    basic = base64.b64encode(f"alertmanager:{CLIENT_SECRET}".encode()).decode()
    assert sinks.token_requests[0]["authorization"] == f"Basic {basic}"
    assert sinks.webhook_auth[0] == f"Bearer {ACCESS_TOKEN}"
    assert sinks.webhook[0]["status"] == "firing" and sinks.webhook[0]["receiver"] == "platform-inbox"
    assert [a["labels"]["alertname"] for a in sinks.webhook[0]["alerts"]] == ["TargetDown"]
    # The inhibited symptom reached nobody.
    everything = [_mail_text(m) for m in sinks.mails] + [w["text"]["content"] for w in sinks.wecom]
    everything += [json.dumps(w) for w in sinks.webhook]
    assert not any("HighErrorRatio" in text for text in everything)

    # Recovery: the target is back, the errors stop; each receiver hears the resolve.
    sinks.gauges.update(cio_e2e_target_up=1, cio_e2e_error_ratio=0)
    wait_until(
        lambda: any("RESOLVED" in m["Subject"] for m in sinks.mails),
        timeout=60,
        interval=0.5,
        message="the resolved mail",
    )
    wait_until(
        lambda: any("Resolved" in w["text"]["content"] for w in sinks.wecom),
        timeout=30,
        interval=0.5,
        message="the resolved WeCom message",
    )
    wait_until(
        lambda: any(w["status"] == "resolved" for w in sinks.webhook),
        timeout=30,
        interval=0.5,
        message="the resolved webhook call",
    )
    resolved = next(m for m in sinks.mails if "RESOLVED" in m["Subject"])
    assert "TargetDown" in resolved["Subject"] and resolved["To"] == "oncall@example.org"


@pytest.fixture
def platform(infra: Infrastructure, tmp_path: Path) -> Iterator[tuple[Stack, dict[str, str]]]:
    """Identity and notifications running (web, worker, gateway) on server databases whose URLs the test knows."""
    with contextlib.ExitStack() as resources:
        amqp_url = resources.enter_context(fresh_vhost(infra))
        urls = resources.enter_context(server_databases(infra))
        run = tmp_path / "stack"
        run.mkdir()
        stack = resources.enter_context(
            contextlib.contextmanager(_run_processes)(
                infra,
                amqp_url,
                run,
                urls,
                {"identity", "notifications"},
                None,
                None,
                nginx_render.LOCAL_PORTAL_DIR,
            )
        )
        yield stack, urls


def test_alertmanager_signs_in_as_identity_s_client_and_the_operators_inbox_shows_the_alert_and_its_resolve(
    platform: tuple[Stack, dict[str, str]], tmp_path: Path
) -> None:
    """The inbox webhook against the real services: Alertmanager gets a client-credentials token from identity
    (client `alertmanager`, role alertmanager at /) and posts to notifications, which tells platform_admin."""
    stack, urls = platform
    secret = "alertmanager-e2e-client-secret"
    register = subprocess.run(
        [
            sys.executable,
            "-m",
            "identity.entrypoints.cli",
            "create-client",
            "alertmanager",
            "Alertmanager",
            "--grant",
            "alertmanager:/",
            "--secret",
            secret,
        ],
        env={**os.environ, "SERVICE_NAME": "identity", "DATABASE_URL": urls["identity"]},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert register.returncode == 0, register.stderr
    (tmp_path / "client-secret").write_text(secret, encoding="utf-8")
    env = {
        "ALERT_SMTP_SMARTHOST": f"127.0.0.1:{free_port()}",  # nothing listens: only the inbox is checked here
        "ALERT_SMTP_FROM": "cio-alerts@example.org",
        "ALERT_SMTP_REQUIRE_TLS": "false",
        "ALERT_EMAIL_ONCALL": "oncall@example.org",
        "WECOM_CORP_ID": WECOM_CORP,
        "WECOM_AGENT_ID": "1000002",
        "WECOM_API_SECRET": WECOM_SECRET,
        "WECOM_TO_PARTY_ONCALL": "2",
        "WECOM_API_URL": f"http://127.0.0.1:{free_port()}/cgi-bin/",
        "ALERT_WEBHOOK_URL": f"{stack.web['notifications']}/api/alerts/alertmanager",
        "ALERT_WEBHOOK_TOKEN_URL": f"{stack.web['identity']}/api/auth/token",
        "ALERT_WEBHOOK_CLIENT_SECRET_FILE": str(tmp_path / "client-secret"),
    }
    config = tmp_path / "alertmanager.yml"
    config.write_text(render.render("local", env, FAST), encoding="utf-8")
    port = free_port()
    alertmanager = _process(
        [
            require("prometheus-alertmanager"),
            f"--config.file={config}",
            f"--storage.path={tmp_path / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        tmp_path / "alertmanager.log",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(partial(_ready, f"{base}/-/ready"), timeout=30, message="Alertmanager ready")
        admin = {"Authorization": f"Bearer {token(stack, 'admin')}"}

        def subjects() -> list[str]:
            response = requests.get(f"{stack.gateway}/api/inbox", headers=admin, timeout=10)
            assert response.status_code == 200, response.text
            return [m["subject"] for m in response.json()["items"]]

        # The demo tree's admin (platform_admin at /) reaches notifications' directory through identity's events.
        alert = {
            "labels": {"alertname": "OutboxStalled", "severity": "page", "service": "approvals"},
            "annotations": {"summary": "approvals: oldest unpublished outbox row is 6m old"},
            "startsAt": dt.datetime.now(dt.UTC).isoformat(),
        }
        wait_until(lambda: _post_alert(base, alert), timeout=10, message="alert accepted")
        wait_until(
            lambda: "【告警】OutboxStalled（approvals）" in subjects(),
            timeout=60,
            interval=0.5,
            message="the firing alert in admin's inbox",
        )
        alert["endsAt"] = dt.datetime.now(dt.UTC).isoformat()
        wait_until(lambda: _post_alert(base, alert), timeout=10, message="resolve accepted")
        wait_until(
            lambda: "【已恢复】OutboxStalled（approvals）" in subjects(),
            timeout=60,
            interval=0.5,
            message="the resolve in admin's inbox",
        )
        # A reviewer, who holds no platform role, got nothing.
        reviewer = {"Authorization": f"Bearer {token(stack, 'city.reviewer')}"}
        items = requests.get(f"{stack.gateway}/api/inbox", headers=reviewer, timeout=10).json()["items"]
        assert not [m for m in items if m["kind"] == "platform_alert"]
    finally:
        alertmanager.terminate()
        alertmanager.wait(timeout=20)


def _post_alert(base: str, alert: dict[str, Any]) -> bool:
    return requests.post(f"{base}/api/v2/alerts", json=[alert], timeout=5).status_code == 200
