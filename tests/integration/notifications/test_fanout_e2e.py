"""End to end with real RabbitMQ and PostgreSQL: events published to the exchange reach the right inboxes
once, and the delivery worker sends e-mail to a real SMTP server and WeCom messages to a local robot."""

from __future__ import annotations

import email
from email.header import decode_header, make_header

import pytest
from flask.testing import FlaskClient
from notifications.adapters.orm import deliveries, messages
from notifications.bootstrap import Notifications
from notifications.service_layer.delivery import dispatch_due
from sqlalchemy import func, select

from shared.bus.envelope import CloudEvent
from tests.helpers import wait_until
from tests.integration.conftest import Background, Broker
from tests.integration.notifications.conftest import (
    SCHOOL,
    HttpReceiver,
    SmtpSink,
    identity_events,
    task_assigned,
)
from tests.tokens import TestIssuer

pytestmark = pytest.mark.integration


def inbox_rows(service: Notifications, recipient: str | None = None) -> list[tuple[str, str, str]]:
    with service.session_factory() as session:
        query = select(messages.c.recipient_id, messages.c.kind, messages.c.subject)
        if recipient:
            query = query.where(messages.c.recipient_id == recipient)
        return [tuple(r) for r in session.execute(query.order_by(messages.c.created_at))]  # type: ignore[misc]


def test_published_events_reach_each_county_reviewer_once_and_go_out_by_email_and_wecom(
    notifications_service: Notifications,
    broker: Broker,
    background: Background,
    client: FlaskClient,
    issuer: TestIssuer,
    smtp_sink: SmtpSink,
    http_receiver: HttpReceiver,
) -> None:
    service = notifications_service
    spec = broker.consuming_queue("notifications", service.notifier.routing_keys)
    consumer = background.start_consumer(service.consumer(queue=spec.name))
    for event in identity_events():
        broker.publish(event.type, event.to_json(), event.id)

    # The county reviewer wants review tasks on WeCom as well (her group robot's key).
    headers = issuer.headers("u-county", ("county_reviewer", "/4108/410802"))
    wait_until(lambda: client.get("/api/preferences", headers=headers).status_code == 200)
    put = client.put(
        "/api/preferences",
        json={"channels": {"task_assigned": ["email", "wecom"]}, "robots": {"wecom_key": "robot-key-1"}},
        headers={**headers, "If-Match": '"0"'},
    )
    assert put.status_code == 200, put.json

    submitted = CloudEvent(
        type="nominations.nomination.submitted",
        source="/cio/nominations",
        subject="n-1",
        data={
            "nomination_id": "n-1",
            "round_id": "r-1",
            "policy_id": "jiaozuo-2022",
            "school_org_code": "4108020001",
            "school_org_path": SCHOOL,
            "school_name": "解放区第一实验小学",
            "candidate_user_id": "u-candidate",
            "candidate_name": "张三",
            "submitted_by": "u-school",
            "submitted_at": "2030-10-01T09:00:00+08:00",
            "revision": 1,
        },
    )
    assigned = task_assigned()
    for event in (submitted, assigned, assigned):  # the task event twice: same id, redelivered
        broker.publish(event.type, event.to_json(), event.id)
    wait_until(lambda: len(inbox_rows(service, "u-county")) >= 2, timeout=15, message="the reviewer's messages")
    wait_until(lambda: broker.count(spec.name) == 0 and not consumer._buffer, message="the queue to drain")
    # A replay of the same event id (e.g. shovelled back from parking) adds nothing either.
    consumer.process(assigned.to_json())

    rows = inbox_rows(service)
    assert [(r[0], r[1]) for r in rows] == [("u-county", "nomination_submitted"), ("u-county", "task_assigned")]
    assert rows[1][2] == "待审核：解放区第一实验小学 首席信息官推荐"  # school name from the submitted event

    inbox = client.get("/api/inbox", headers=headers).json
    assert inbox["unread_count"] == 2 and len(inbox["items"]) == 2
    assert (
        client.get("/api/inbox", headers=issuer.headers("u-county2", ("county_reviewer", "/4108/410821"))).json["items"]
        == []
    )

    with service.session_factory() as session:
        channels = session.execute(
            select(deliveries.c.channel, deliveries.c.status)
            .where(deliveries.c.kind == "task_assigned")
            .order_by(deliveries.c.channel)
        ).all()
    assert [tuple(c) for c in channels] == [("email", "pending"), ("in_app", "sent"), ("wecom", "pending")]

    sent = dispatch_due(service.uow, service.senders, service.channels.retry)
    assert sent == 3  # two e-mails (submission, task) and one WeCom message
    assert dispatch_due(service.uow, service.senders, service.channels.retry) == 0

    subjects = sorted(
        str(make_header(decode_header(email.message_from_bytes(e.content)["Subject"]))) for e in smtp_sink.received
    )
    assert subjects == ["待审核：解放区第一实验小学 首席信息官推荐", "新的首席信息官推荐：解放区第一实验小学"]
    assert all(e.rcpt_tos == ["county@example.com"] for e in smtp_sink.received)
    html = next(
        part.get_payload(decode=True).decode()
        for part in email.message_from_bytes(smtp_sink.received[-1].content).walk()
        if part.get_content_type() == "text/html"
    )
    assert "解放区审核员，您好" in html

    assert len(http_receiver.requests) == 1
    robot = http_receiver.requests[0]
    assert robot["path"] == "/wecom/cgi-bin/webhook/send?key=robot-key-1"
    assert robot["body"]["msgtype"] == "markdown"
    assert robot["body"]["markdown"]["content"].startswith("**待审核：解放区第一实验小学 首席信息官推荐**\n")

    first = inbox["items"][0]["id"]
    marked = client.post(f"/api/inbox/{first}/read", headers=headers)
    assert marked.status_code == 200 and marked.json == {"marked": 1, "unread_count": 1}
    other = client.post(f"/api/inbox/{first}/read", headers=issuer.headers("u-county2", ("county_reviewer", "/x")))
    assert other.status_code == 404
    with service.session_factory() as session:
        total = session.execute(select(func.count()).select_from(deliveries)).scalar_one()
    assert total == 5  # submission: in_app, email; task: in_app, email, wecom; nothing doubled
