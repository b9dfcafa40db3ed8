"""A notifications service on a PostgreSQL database of the test's own (copied from a template migrated
once per session), tokens from tests.tokens.TestIssuer, a local SMTP sink (aiosmtpd) and a local
HTTP receiver for webhooks, and helpers to publish identity's events."""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
import pytest
from aiosmtpd.controller import Controller
from flask.testing import FlaskClient
from notifications.adapters.channels import SmtpSettings
from notifications.bootstrap import ChannelSettings, Notifications, bootstrap
from notifications.domain.model import RetryPolicy
from notifications.entrypoints.web import create_app

from shared.bus.envelope import CloudEvent
from shared.config import BusSettings, load_settings
from shared.migrations import service_dir, upgrade
from tests.conftest import database_url
from tests.infrastructure import Infrastructure
from tests.tokens import TestIssuer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def notifications_template(infra: Infrastructure) -> Iterator[str]:
    name = f"cio_test_notif_tmpl_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(infra.pg, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    upgrade(service_dir("notifications"), database_url(infra.pg, name))
    try:
        yield name
    finally:
        with psycopg.connect(infra.pg, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class SmtpSink:
    """A real SMTP server on a free port; `refuse` makes it answer 554 to every message."""

    port: int
    received: list[Any] = field(default_factory=list)
    refuse: bool = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return "554 5.7.1 rejected by the test"
        self.received.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink(port=free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


@dataclass
class HttpReceiver:
    """A local HTTP server that records every POST; `statuses` are answered in order, then 200."""

    port: int
    requests: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    answer: dict[str, Any] = field(default_factory=lambda: {"errcode": 0, "errmsg": "ok"})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver(port=free_port())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            receiver.requests.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "headers": dict(self.headers.items()),
                    "body": json.loads(body or b"{}"),
                }
            )
            status = receiver.statuses.pop(0) if receiver.statuses else 200
            payload = json.dumps(receiver.answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        # Any other method is recorded too, so a test sees a request the worker should never have made.
        do_DELETE = do_PUT = do_PATCH = do_GET = do_POST

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", receiver.port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def issuer() -> TestIssuer:
    return TestIssuer()


@pytest.fixture
def notifications_service(
    infra: Infrastructure,
    notifications_template: str,
    bus_settings: BusSettings,
    issuer: TestIssuer,
    smtp_sink: SmtpSink,
    http_receiver: HttpReceiver,
) -> Iterator[Notifications]:
    name = f"cio_test_notif_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(infra.pg, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{notifications_template}"')
    settings = load_settings("notifications", database_url=database_url(infra.pg, name))
    settings = replace(settings, bus=bus_settings)
    channels = ChannelSettings(
        smtp=SmtpSettings(host="127.0.0.1", port=smtp_sink.port),
        wecom_base_url=http_receiver.url + "/wecom",
        dingtalk_base_url=http_receiver.url + "/dingtalk",
        retry=RetryPolicy(max_attempts=3, base_seconds=0.05, max_seconds=0.2),
        # The local receiver stands in for the robot hosts: loopback is trusted here, as an operator
        # would trust an internal relay; tests/unit/notifications/test_outbound.py covers the refusals.
        webhook_trusted_networks=("127.0.0.0/8",),
    )
    service = bootstrap(settings, verifier=issuer.verifier(), channels=channels)
    try:
        yield service
    finally:
        service.engine.dispose()
        with psycopg.connect(infra.pg, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def client(notifications_service: Notifications) -> FlaskClient:
    return create_app(notifications_service).test_client()


# -- the demo tree as identity publishes it -------------------------------------------------------
CITY, COUNTY, COUNTY2 = "/4108", "/4108/410802", "/4108/410821"
SCHOOL, SCHOOL2, SCHOOL3 = "/4108/410802/4108020001", "/4108/410821/4108210001", "/4108/410802/4108020002"
ORGS = [
    ("4108", "焦作市教育局", "city", None, CITY),
    ("410802", "解放区教育局", "county", "4108", COUNTY),
    ("410821", "修武县教育局", "county", "4108", COUNTY2),
    ("4108020001", "解放区第一实验小学", "school", "410802", SCHOOL),
    ("4108020002", "解放区第二实验小学", "school", "410802", SCHOOL3),
    ("4108210001", "修武县城关小学", "school", "410821", SCHOOL2),
]
# user id → (display name, e-mail, locale, role, org path)
USERS = {
    "u-county": ("解放区审核员", "county@example.com", "zh-CN", "county_reviewer", COUNTY),
    "u-county2": ("修武县审核员", "county2@example.com", "zh-CN", "county_reviewer", COUNTY2),
    "u-city": ("City Reviewer", "city@example.com", "en", "city_reviewer", CITY),
    "u-school": ("学校管理员", "school@example.com", "zh-CN", "school_admin", SCHOOL),
    "u-school3": ("二小管理员", "school3@example.com", "zh-CN", "school_admin", SCHOOL3),
}


def identity_events() -> list[CloudEvent]:
    events = [
        CloudEvent(
            type="identity.org.upserted",
            source="/cio/identity",
            subject=code,
            data={"code": code, "name": name, "level": level, "parent_code": parent, "path": path},
        )
        for code, name, level, parent, path in ORGS
    ]
    for user_id, (display, email, locale, role, path) in USERS.items():
        user = {
            "user_id": user_id,
            "username": user_id,
            "display_name": display,
            "org_code": path.rsplit("/", 1)[1],
            "phone": "13800138000",
            "email": email,
            "locale": locale,
            "is_active": True,
        }
        events.append(CloudEvent(type="identity.user.provisioned", source="/cio/identity", data={"user": user}))
        events.append(
            CloudEvent(
                type="identity.role.granted",
                source="/cio/identity",
                subject=user_id,
                data={
                    "grant_id": f"g-{user_id}",
                    "user_id": user_id,
                    "role": role,
                    "org_code": path.rsplit("/", 1)[1],
                    "org_path": path,
                    "source": "manual",
                    "granted_by": "admin",
                },
            )
        )
    return events


def task_assigned(task_id: str = "t-1", due_at: str = "2030-10-20T17:00:00+08:00") -> CloudEvent:
    return CloudEvent(
        type="approvals.task.assigned",
        source="/cio/approvals",
        subject=task_id,
        data={
            "task_id": task_id,
            "case_id": "c-1",
            "nomination_id": "n-1",
            "stage_index": 0,
            "stage_name": "县区教育局审核",
            "role": "county_reviewer",
            "org_code": "410802",
            "org_path": COUNTY,
            "due_at": due_at,
            "school_org_path": SCHOOL,
        },
    )


def apply(service: Notifications, *events: CloudEvent) -> None:
    """Apply events through the real consumer code path (inbox row and effects in one transaction)."""
    consumer = service.consumer()
    for event in events:
        assert consumer.process(event.to_json()) in ("processed", "duplicate", "ignored")


Headers = Callable[..., dict[str, str]]
