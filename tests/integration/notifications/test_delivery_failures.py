"""Failing channels: retries with backoff, then dead; the message is kept and an operator retry sends it once."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from flask.testing import FlaskClient
from notifications.adapters.orm import deliveries
from notifications.bootstrap import Notifications
from notifications.service_layer.delivery import dispatch_due
from sqlalchemy import select

from shared.audit import audit_log
from tests.helpers import wait_until
from tests.integration.notifications.conftest import HttpReceiver, SmtpSink, apply, identity_events, task_assigned
from tests.tokens import TestIssuer

pytestmark = pytest.mark.integration

ADMIN = ("platform_admin", "/")


def delivery(service: Notifications, channel: str) -> dict[str, Any]:
    with service.session_factory() as session:
        return dict(session.execute(select(deliveries).where(deliveries.c.channel == channel)).mappings().one())


def run_until_dead(service: Notifications, channel: str) -> list[dt.datetime]:
    """Dispatch whenever due; returns the times of the scheduled retries (to check they back off)."""
    scheduled: list[dt.datetime] = []

    def dead() -> bool:
        dispatch_due(service.uow, service.senders, service.channels.retry)
        row = delivery(service, channel)
        if row["next_attempt_at"] is not None and row["next_attempt_at"] not in scheduled:
            scheduled.append(row["next_attempt_at"])
        return bool(row["status"] == "dead")

    wait_until(dead, timeout=10, interval=0.02, message=f"the {channel} delivery to die")
    return scheduled


def test_failing_smtp_retries_with_backoff_then_dead_and_operator_retry_sends_once(
    notifications_service: Notifications, client: FlaskClient, issuer: TestIssuer, smtp_sink: SmtpSink
) -> None:
    service = notifications_service
    apply(service, *identity_events(), task_assigned())
    smtp_sink.refuse = True
    started = time.monotonic()
    scheduled = run_until_dead(service, "email")
    dead = delivery(service, "email")
    assert dead["attempts"] == 3 and dead["last_error"], dead
    assert len(scheduled) == 2 and time.monotonic() - started >= 0.05 + 0.1  # 0.05 s, then 0.1 s
    assert smtp_sink.received == []

    listed = client.get("/api/deliveries?status=dead", headers=issuer.headers("ops", ADMIN)).json["items"]
    assert [d["id"] for d in listed] == [str(dead["id"])] and listed[0]["attempts"] == 3
    auditor = client.post(f"/api/deliveries/{dead['id']}/retry", headers=issuer.headers("aud", ("auditor", "/")))
    assert auditor.status_code == 403

    smtp_sink.refuse = False
    retried = client.post(f"/api/deliveries/{dead['id']}/retry", headers=issuer.headers("ops", ADMIN))
    assert retried.status_code == 200 and retried.json["status"] == "pending" and retried.json["attempts"] == 0
    again = client.post(f"/api/deliveries/{dead['id']}/retry", headers=issuer.headers("ops", ADMIN))
    assert again.status_code == 409
    assert dispatch_due(service.uow, service.senders, service.channels.retry) == 1
    assert dispatch_due(service.uow, service.senders, service.channels.retry) == 0
    assert len(smtp_sink.received) == 1 and delivery(service, "email")["status"] == "sent"
    with service.session_factory() as session:
        audit = session.execute(select(audit_log.c.action, audit_log.c.actor, audit_log.c.target)).all()
    assert ("delivery.retried", "ops", str(dead["id"])) in [tuple(a) for a in audit]


def test_failing_webhook_retries_then_dead_and_operator_retry_works(
    notifications_service: Notifications, client: FlaskClient, issuer: TestIssuer, http_receiver: HttpReceiver
) -> None:
    service = notifications_service
    apply(service, *identity_events())
    headers = issuer.headers("u-county", ("county_reviewer", "/4108/410802"))
    put = client.put(
        "/api/preferences",
        json={
            "channels": {"task_assigned": ["dingtalk"]},
            "robots": {"dingtalk_token": "tok", "dingtalk_secret": "SECabc"},
        },
        headers={**headers, "If-Match": '"0"'},
    )
    assert put.status_code == 200 and put.json["robots"]["dingtalk_secret"] == "******"
    apply(service, task_assigned())
    http_receiver.statuses = [500, 500, 500]
    run_until_dead(service, "dingtalk")
    dead = delivery(service, "dingtalk")
    assert dead["attempts"] == 3 and "HTTP 500" in dead["last_error"]
    assert len(http_receiver.requests) == 3

    outsider = issuer.headers("ops2", ("platform_admin", "/4108/410821"))
    assert client.post(f"/api/deliveries/{dead['id']}/retry", headers=outsider).status_code == 404
    assert client.post(f"/api/deliveries/{dead['id']}/retry", headers=issuer.headers("ops", ADMIN)).status_code == 200
    assert dispatch_due(service.uow, service.senders, service.channels.retry) == 1
    assert delivery(service, "dingtalk")["status"] == "sent"
    assert len(http_receiver.requests) == 4
    last = http_receiver.requests[-1]
    assert last["path"].startswith("/dingtalk/robot/send?access_token=tok&timestamp=") and "&sign=" in last["path"]
    assert last["body"]["markdown"]["title"].startswith("待审核")
