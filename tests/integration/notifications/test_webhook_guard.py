"""Issue 14, findings 1 and 12: a user's webhook cannot reach into the network, neither when saved
nor when sent, and what a robot key or token is never lands in the delivery log."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from notifications.adapters.orm import deliveries, preferences
from notifications.bootstrap import Notifications
from notifications.service_layer.delivery import dispatch_due
from sqlalchemy import select, update

from tests.integration.notifications.conftest import HttpReceiver, apply, identity_events, task_assigned
from tests.tokens import TestIssuer

pytestmark = pytest.mark.integration

COUNTY_REVIEWER = ("county_reviewer", "/4108/410802")


def put_robots(client: FlaskClient, issuer: TestIssuer, channel: str, robots: dict[str, str]) -> Any:
    headers = issuer.headers("u-county", COUNTY_REVIEWER)
    return client.put(
        "/api/preferences",
        json={"channels": {"task_assigned": [channel]}, "robots": robots},
        headers={**headers, "If-Match": "*"},
    )


def only_delivery(service: Notifications, channel: str) -> dict[str, Any]:
    with service.session_factory() as session:
        return dict(session.execute(select(deliveries).where(deliveries.c.channel == channel)).mappings().one())


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/iam/",  # cloud metadata
        "http://rabbitmq:15672/api/vhosts?method=DELETE",  # the broker's management API, by service name
        "http://guest:guest@127.0.0.1:15672/api/queues",  # Basic credentials in the URL
        "https://oapi.dingtalk.com.attacker.example/robot/send",  # an allowed name as a prefix
    ],
)
def test_preferences_refuse_a_webhook_that_reaches_into_the_network(
    notifications_service: Notifications, client: FlaskClient, issuer: TestIssuer, url: str
) -> None:
    apply(notifications_service, *identity_events())
    answer = put_robots(client, issuer, "webhook", {"webhook_url": url})
    assert answer.status_code == 422 and answer.content_type == "application/problem+json"
    assert [e["field"] for e in answer.json["errors"]] == ["robots.webhook_url"]
    with notifications_service.session_factory() as session:
        assert session.execute(select(preferences)).first() is None  # nothing half written


def test_webhook_stored_before_the_guard_is_refused_at_send_time(
    notifications_service: Notifications, client: FlaskClient, issuer: TestIssuer, http_receiver: HttpReceiver
) -> None:
    """A URL saved before the rules (or a host taken off the list since) is checked again when sent."""
    service = notifications_service
    apply(service, *identity_events())
    allowed = put_robots(client, issuer, "webhook", {"webhook_url": f"{http_receiver.url}/hook"})
    assert allowed.status_code == 200
    with service.session_factory() as session, session.begin():
        internal = {"webhook_url": f"http://localhost:{http_receiver.port}/api/definitions"}
        session.execute(update(preferences).where(preferences.c.user_id == "u-county").values(robots=internal))
    apply(service, task_assigned())
    dispatch_due(service.uow, service.senders, service.channels.retry)
    failed = only_delivery(service, "webhook")
    assert failed["status"] == "pending" and "not on the allowed list" in failed["last_error"]
    assert http_receiver.requests == []


def test_webhook_is_one_fixed_post_even_when_the_url_asks_for_more(
    notifications_service: Notifications, client: FlaskClient, issuer: TestIssuer, http_receiver: HttpReceiver
) -> None:
    """Apprise took ?method=, +Header= and :field= from the URL; now the URL is only where to POST."""
    service = notifications_service
    apply(service, *identity_events())
    url = f"{http_receiver.url}/hook?method=DELETE&+X-Rabbit=guest&:routing_key=evil"
    assert put_robots(client, issuer, "webhook", {"webhook_url": url}).status_code == 200
    apply(service, task_assigned())
    assert dispatch_due(service.uow, service.senders, service.channels.retry) >= 1
    assert only_delivery(service, "webhook")["status"] == "sent"
    (request,) = http_receiver.requests
    assert request["method"] == "POST" and request["path"] == "/hook?method=DELETE&+X-Rabbit=guest&:routing_key=evil"
    assert "X-Rabbit" not in request["headers"] and "Authorization" not in request["headers"]
    assert set(request["body"]) == {"version", "title", "message", "type", "kind"}
    assert "routing_key" not in request["body"] and request["body"]["title"].startswith("待审核")


def test_robot_key_never_appears_in_the_delivery_log(
    notifications_service: Notifications, client: FlaskClient, issuer: TestIssuer, http_receiver: HttpReceiver
) -> None:
    service = notifications_service
    apply(service, *identity_events())
    key = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
    assert put_robots(client, issuer, "wecom", {"wecom_key": key}).status_code == 200
    apply(service, task_assigned())
    http_receiver.answer = {"errcode": 93000, "errmsg": f"invalid webhook url, hint: key={key}"}
    dispatch_due(service.uow, service.senders, service.channels.retry)
    failed = only_delivery(service, "wecom")
    assert failed["status"] == "pending" and "robot refused: 93000" in failed["last_error"]
    assert key not in failed["last_error"] and "******" in failed["last_error"]
    listed = client.get("/api/deliveries?channel=wecom", headers=issuer.headers("ops", ("platform_admin", "/")))
    assert key not in listed.get_data(as_text=True)
