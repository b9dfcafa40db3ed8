"""Alertmanager's webhook (POST /api/alerts/alertmanager): alerts, firing and resolved, reach the platform's
operators' inbox; only Alertmanager's client may post; a re-sent alert adds nothing; a bad payload names
its fields and writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from notifications.adapters.orm import deliveries, messages
from notifications.bootstrap import Notifications
from sqlalchemy import func, select

from shared.bus.envelope import CloudEvent
from tests.integration.notifications.conftest import apply, identity_events
from tests.tokens import TestIssuer

pytestmark = pytest.mark.integration

URL = "/api/alerts/alertmanager"
ALERTMANAGER = ("alertmanager", "/")


def operator_events() -> list[CloudEvent]:
    """One platform operator (platform_admin at the root) besides the demo tree's reviewers."""
    user = {"user_id": "u-ops", "username": "ops", "display_name": "值班运维", "email": "ops@example.com"}
    return [
        CloudEvent(type="identity.user.provisioned", source="/cio/identity", data={"user": user}),
        CloudEvent(
            type="identity.role.granted",
            source="/cio/identity",
            subject="u-ops",
            data={"grant_id": "g-ops", "user_id": "u-ops", "role": "platform_admin", "org_path": "/"},
        ),
    ]


def payload(status: str = "firing", **alert: Any) -> dict[str, Any]:
    """What Alertmanager posts (webhook version 4) for one TargetDown alert of approvals."""
    one = {
        "status": status,
        "labels": {"alertname": "TargetDown", "severity": "page", "service": "approvals", "job": "web"},
        "annotations": {"summary": "web target approvals-web:8000 is down"},
        "startsAt": "2026-12-04T08:00:00.000Z",
        "endsAt": "2026-12-04T08:12:00.000Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph",
        "fingerprint": "5b7ad3a1c2e4f6d8",
        **alert,
    }
    return {
        "version": "4",
        "groupKey": '{}/{severity=~"page|warning|ticket"}:{alertname="TargetDown", service="approvals"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "platform-inbox",
        "groupLabels": {"alertname": "TargetDown", "service": "approvals"},
        "commonLabels": one["labels"],
        "commonAnnotations": one["annotations"],
        "externalURL": "http://alertmanager:9093",
        "alerts": [one],
    }


def inbox(client: FlaskClient, issuer: TestIssuer, user: str, role: str, path: str) -> list[dict[str, Any]]:
    response = client.get("/api/inbox", headers=issuer.headers(user, (role, path)))
    assert response.status_code == 200
    body = response.get_json()
    items: list[dict[str, Any]] = body["items"]
    return items


def test_a_firing_alert_and_its_resolve_reach_the_operators_inbox_only(
    client: FlaskClient, issuer: TestIssuer, notifications_service: Notifications
) -> None:
    apply(notifications_service, *identity_events(), *operator_events())
    headers = issuer.headers("client:alertmanager", ALERTMANAGER)

    fired = client.post(URL, json=payload(), headers=headers)
    assert fired.status_code == 200 and fired.json == {"received": 1, "messages": 1}
    (message,) = inbox(client, issuer, "u-ops", "platform_admin", "/")
    assert message["kind"] == "platform_alert" and message["event_type"] == "platform.alert.firing"
    assert message["subject"] == "【告警】TargetDown（approvals）"
    assert "web target approvals-web:8000 is down" in message["body"]
    # Nobody else: the reviewers of the demo tree hold no platform role.
    assert inbox(client, issuer, "u-city", "city_reviewer", "/4108") == []

    resolved = client.post(URL, json=payload("resolved"), headers=headers)
    assert resolved.status_code == 200 and resolved.json == {"received": 1, "messages": 1}
    newest = inbox(client, issuer, "u-ops", "platform_admin", "/")[0]
    assert newest["subject"] == "【已恢复】TargetDown（approvals）"
    assert "2026-12-04T08:12:00+00:00" in newest["body"]
    with notifications_service.session_factory() as session:
        channels = session.execute(select(deliveries.c.channel, deliveries.c.status)).all()
    # The inbox, and DingTalk skipped until the operator saves a robot.
    assert sorted(channels) == [("dingtalk", "skipped")] * 2 + [("in_app", "sent")] * 2


def test_alertmanager_re_sending_the_same_alert_adds_no_message(
    client: FlaskClient, issuer: TestIssuer, notifications_service: Notifications
) -> None:
    apply(notifications_service, *operator_events())
    headers = issuer.headers("client:alertmanager", ALERTMANAGER)
    assert client.post(URL, json=payload(), headers=headers).json == {"received": 1, "messages": 1}
    assert client.post(URL, json=payload(), headers=headers).json == {"received": 1, "messages": 0}
    restarted = payload(startsAt="2026-12-04T09:30:00.000Z")  # fired again later: a new alert
    assert client.post(URL, json=restarted, headers=headers).json == {"received": 1, "messages": 1}


def test_only_alertmanager_s_client_may_post_alerts(
    client: FlaskClient, issuer: TestIssuer, notifications_service: Notifications
) -> None:
    apply(notifications_service, *operator_events())
    anonymous = client.post(URL, json=payload())
    assert anonymous.status_code == 401 and anonymous.content_type == "application/problem+json"
    admin = client.post(URL, json=payload(), headers=issuer.headers("u-ops", ("platform_admin", "/")))
    assert admin.status_code == 403
    below_the_root = client.post(URL, json=payload(), headers=issuer.headers("client:x", ("alertmanager", "/4108")))
    assert below_the_root.status_code == 403
    with notifications_service.session_factory() as session:
        assert session.execute(select(func.count()).select_from(messages)).scalar_one() == 0


def test_a_malformed_payload_names_each_field_and_writes_nothing(
    client: FlaskClient, issuer: TestIssuer, notifications_service: Notifications
) -> None:
    apply(notifications_service, *operator_events())
    body = payload()
    body["version"] = "3"
    body["alerts"][0].update(status="pending", fingerprint="not hex", startsAt="yesterday")
    response = client.post(URL, json=body, headers=issuer.headers("client:alertmanager", ALERTMANAGER))
    assert response.status_code == 422 and response.content_type == "application/problem+json"
    fields = {e["field"] for e in response.get_json()["errors"]}
    assert {"version", "alerts.0.status", "alerts.0.fingerprint", "alerts.0.startsAt"} <= fields, fields
    with notifications_service.session_factory() as session:
        assert session.execute(select(func.count()).select_from(messages)).scalar_one() == 0
