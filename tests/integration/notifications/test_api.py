"""The API's rules: tokens, preferences with If-Match and mandatory kinds, operators' scope."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from notifications.adapters.orm import preferences
from notifications.bootstrap import Notifications
from sqlalchemy import select

from shared.audit import audit_log
from tests.integration.notifications.conftest import apply, identity_events, task_assigned
from tests.tokens import TestIssuer

pytestmark = pytest.mark.integration


def test_every_endpoint_needs_a_token(client: FlaskClient) -> None:
    for path in ("/api/inbox", "/api/preferences", "/api/deliveries"):
        response = client.get(path)
        assert response.status_code == 401 and response.content_type == "application/problem+json"


def test_preferences_default_then_update_with_if_match(
    client: FlaskClient, issuer: TestIssuer, notifications_service: Notifications
) -> None:
    headers = issuer.headers("u-1", ("school_admin", "/4108/410802/4108020001"))
    got = client.get("/api/preferences", headers=headers)
    assert got.status_code == 200 and got.headers["ETag"] == '"0"'
    assert got.json["channels"]["task_overdue"] == ["in_app", "email", "sms"]
    assert got.json["mandatory"]["appointment_revoked"] == ["in_app", "email", "sms"]

    body = {"channels": {"review_decided": ["wecom"]}, "robots": {"wecom_key": "k"}}
    assert client.put("/api/preferences", json=body, headers=headers).status_code == 428
    stale = client.put("/api/preferences", json=body, headers={**headers, "If-Match": '"7"'})
    assert stale.status_code == 412
    ok = client.put("/api/preferences", json=body, headers={**headers, "If-Match": '"0"'})
    assert ok.status_code == 200 and ok.headers["ETag"] == '"1"'
    assert ok.json["channels"]["review_decided"] == ["in_app", "wecom"]
    assert ok.json["channels"]["task_assigned"] == ["in_app", "email"]  # not named: the default
    with notifications_service.session_factory() as session:
        assert session.execute(select(audit_log.c.action).where(audit_log.c.actor == "u-1")).scalars().all() == [
            "preferences.updated"
        ]


def test_mandatory_kinds_cannot_be_switched_off_and_nothing_is_written(
    client: FlaskClient, issuer: TestIssuer, notifications_service: Notifications
) -> None:
    headers = {**issuer.headers("u-1", ("cio", "/4108/410802/4108020001")), "If-Match": '"0"'}
    response = client.put(
        "/api/preferences",
        json={"channels": {"task_overdue": [], "appointment_revoked": ["in_app"], "review_decided": ["email"]}},
        headers=headers,
    )
    assert response.status_code == 422 and response.content_type == "application/problem+json"
    assert {e["field"] for e in response.json["errors"]} == {"channels.task_overdue", "channels.appointment_revoked"}
    bad = client.put("/api/preferences", json={"channels": {"review_decided": ["fax"]}}, headers=headers)
    assert bad.status_code == 422 and bad.json["errors"][0]["field"].startswith("channels")
    with notifications_service.session_factory() as session:
        assert session.execute(select(preferences)).all() == []


def test_delivery_log_is_for_operators_in_scope(
    client: FlaskClient, issuer: TestIssuer, notifications_service: Notifications
) -> None:
    apply(notifications_service, *identity_events(), task_assigned())
    reviewer = issuer.headers("u-county", ("county_reviewer", "/4108/410802"))
    assert client.get("/api/deliveries", headers=reviewer).status_code == 403
    auditor = client.get("/api/deliveries?limit=1", headers=issuer.headers("a", ("auditor", "/")))
    assert auditor.status_code == 200 and len(auditor.json["items"]) == 1 and auditor.json["next_cursor"]
    rest = client.get(
        f"/api/deliveries?limit=10&cursor={auditor.json['next_cursor']}", headers=issuer.headers("a", ("auditor", "/"))
    )
    assert len(rest.json["items"]) == 1  # in_app and email of the one task message
    elsewhere = issuer.headers("b", ("platform_admin", "/4108/410821"))
    assert client.get("/api/deliveries", headers=elsewhere).json["items"] == []
    one = auditor.json["items"][0]["id"]
    assert client.get(f"/api/deliveries/{one}", headers=elsewhere).status_code == 404
    bad = client.get("/api/deliveries?status=lost", headers=issuer.headers("a", ("auditor", "/")))
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "status"
