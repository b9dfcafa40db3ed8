"""The daily digest with a real SMTP server: e-mail of kinds that may be switched off waits for the
user's local send time and goes out as one message per user and date; mandatory kinds go at once."""

from __future__ import annotations

import datetime as dt
import email
from collections.abc import Callable
from email.header import decode_header, make_header
from email.message import Message

import pytest
from flask.testing import FlaskClient
from notifications.adapters.orm import deliveries, preferences
from notifications.bootstrap import Notifications
from notifications.domain.model import Preferences
from notifications.service_layer.delivery import dispatch_due
from notifications.service_layer.digest import send_digests
from sqlalchemy import select

from shared.bus.envelope import CloudEvent
from tests.integration.notifications.conftest import COUNTY, SCHOOL, SmtpSink, apply, identity_events, task_assigned
from tests.tokens import TestIssuer

pytestmark = pytest.mark.integration


def subject_of(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def html_of(message: Message) -> str:
    return next(
        part.get_payload(decode=True).decode() for part in message.walk() if part.get_content_type() == "text/html"
    )


def received(sink: SmtpSink, to: str) -> list[Message]:
    return [email.message_from_bytes(e.content) for e in sink.received if e.rcpt_tos == [to]]


def overdue() -> CloudEvent:
    return CloudEvent(
        type="approvals.task.overdue",
        source="/cio/approvals",
        data={
            "task_id": "t-9",
            "case_id": "c-9",
            "nomination_id": "n-9",
            "stage_key": "county",
            "stage_name": "县区教育局审核",
            "role": "county_reviewer",
            "org_code": "410802",
            "org_path": COUNTY,
            "due_at": "2030-10-20T17:00:00+08:00",
            "escalate_to_org_path": "/4108",
            "escalate_to_role": "city_reviewer",  # Jiaozuo's county stage: escalate_to next_stage (the city)
        },
    )


def submitted() -> CloudEvent:
    return CloudEvent(
        type="nominations.nomination.submitted",
        source="/cio/nominations",
        data={
            "nomination_id": "n-1",
            "round_id": "r-1",
            "school_org_code": "4108020001",
            "school_org_path": SCHOOL,
            "school_name": "解放区<第一>实验小学",
            "candidate_user_id": "u-cand",
            "candidate_name": "张三",
            "revision": 1,
        },
    )


def statuses(service: Notifications, recipient: str) -> list[tuple[str, str, str]]:
    with service.session_factory() as session:
        rows = session.execute(
            select(deliveries.c.kind, deliveries.c.channel, deliveries.c.status)
            .where(deliveries.c.recipient_id == recipient, deliveries.c.channel == "email")
            .order_by(deliveries.c.kind)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_daily_digest_collects_email_and_sends_one_per_user_and_date(
    notifications_service: Notifications, client: FlaskClient, issuer: TestIssuer, smtp_sink: SmtpSink
) -> None:
    service = notifications_service
    headers = issuer.headers("u-county", ("county_reviewer", COUNTY))
    got = client.get("/api/preferences", headers=headers).json
    assert (got["digest"], got["digest_time"], got["digest_timezone"]) == ("off", "08:00", "Asia/Shanghai")
    put = client.put(
        "/api/preferences", json={"channels": {}, "digest": "daily"}, headers={**headers, "If-Match": '"0"'}
    )
    assert put.status_code == 200, put.json
    assert (put.json["digest"], put.json["digest_time"]) == ("daily", "08:00")

    apply(service, *identity_events(), submitted(), task_assigned("t-1"), overdue())
    assert statuses(service, "u-county") == [
        ("nomination_submitted", "email", "held"),
        ("task_assigned", "email", "held"),
        ("task_overdue", "email", "pending"),  # mandatory: not collected
    ]
    dispatch_due(service.uow, service.senders, service.channels.retry)
    assert [subject_of(m) for m in received(smtp_sink, "county@example.com")] == ["审核任务已逾期：县区教育局审核"]
    assert len(received(smtp_sink, "city@example.com")) == 1  # the escalation, no digest chosen: at once

    send_time = Preferences().next_digest_at(dt.datetime.now(dt.UTC))  # the next 08:00 in Shanghai
    at: Callable[[dt.timedelta], Callable[[], dt.datetime]] = lambda delta: lambda: send_time + delta  # noqa: E731
    assert send_digests(service.uow, service.templates) == 0  # not yet its time
    # another task arrives before the digest goes: it is held for the same send time
    apply(service, task_assigned("t-2"))
    assert send_digests(service.uow, service.templates, now=at(dt.timedelta(minutes=1))) == 1
    assert send_digests(service.uow, service.templates, now=at(dt.timedelta(minutes=2))) == 0
    dispatch_due(service.uow, service.senders, service.channels.retry, now=at(dt.timedelta(minutes=2)))
    mails = received(smtp_sink, "county@example.com")
    assert len(mails) == 2
    day = send_time.astimezone(dt.timezone(dt.timedelta(hours=8))).date().isoformat()
    assert subject_of(mails[1]) == f"每日消息摘要（{day}，共 3 条）"
    body = html_of(mails[1])
    assert "新的首席信息官推荐：解放区&lt;第一&gt;实验小学" in body  # autoescaped
    assert body.count("待审核：") == 2
    assert "审核任务已逾期" not in body

    with service.session_factory() as session:
        rows = session.execute(
            select(deliveries.c.kind, deliveries.c.status, deliveries.c.digest_id, deliveries.c.event_id).where(
                deliveries.c.recipient_id == "u-county", deliveries.c.channel == "email"
            )
        ).all()
    digest = [r for r in rows if r.kind == "daily_digest"]
    assert len(digest) == 1 and digest[0].status == "sent" and digest[0].event_id == f"digest:u-county:{day}"
    digest_id = next(r.digest_id for r in rows if r.status == "digested")
    assert sorted(r.kind for r in rows if r.digest_id == digest_id) == [
        "nomination_submitted",
        "task_assigned",
        "task_assigned",
    ]


def test_a_second_batch_for_a_date_already_digested_waits_for_the_next_day(
    notifications_service: Notifications, smtp_sink: SmtpSink
) -> None:
    service = notifications_service
    apply(service, *identity_events())
    with service.session_factory() as session:
        session.execute(
            preferences.insert().values(
                user_id="u-county",
                channels={},
                robots={},
                version=1,
                updated_at=dt.datetime.now(dt.UTC),
                digest="daily",
                digest_time="18:30",
                digest_timezone="Asia/Shanghai",
            )
        )
        session.commit()
    apply(service, task_assigned("t-1"))
    send_time = Preferences(digest_time=dt.time(18, 30)).next_digest_at(dt.datetime.now(dt.UTC))
    assert send_digests(service.uow, service.templates, now=lambda: send_time + dt.timedelta(seconds=5)) == 1
    # a message held for that same date after its digest was made (e.g. the send time was moved)
    apply(service, task_assigned("t-2"))
    assert send_digests(service.uow, service.templates, now=lambda: send_time + dt.timedelta(minutes=1)) == 0
    with service.session_factory() as session:
        waiting = session.execute(
            select(deliveries.c.next_attempt_at).where(deliveries.c.status == "held")
        ).scalar_one()
    assert waiting == send_time + dt.timedelta(days=1)
    next_day = lambda: send_time + dt.timedelta(days=1, minutes=1)  # noqa: E731
    assert send_digests(service.uow, service.templates, now=next_day) == 1
    dispatch_due(service.uow, service.senders, service.channels.retry, now=next_day)
    assert len(received(smtp_sink, "county@example.com")) == 2  # one digest per date


def test_bad_digest_choices_name_each_field_and_write_nothing(
    client: FlaskClient, issuer: TestIssuer, notifications_service: Notifications
) -> None:
    headers = {**issuer.headers("u-1", ("cio", SCHOOL)), "If-Match": '"0"'}
    bad = client.put(
        "/api/preferences",
        json={"channels": {}, "digest": "hourly", "digest_time": "25:00", "digest_timezone": "Mars/Olympus"},
        headers=headers,
    )
    assert bad.status_code == 422 and bad.content_type == "application/problem+json"
    assert {e["field"] for e in bad.json["errors"]} == {"digest", "digest_time", "digest_timezone"}
    with notifications_service.session_factory() as session:
        assert session.execute(select(preferences)).all() == []
    ok = client.put(
        "/api/preferences",
        json={"channels": {}, "digest": "daily", "digest_time": "18:30", "digest_timezone": "Europe/Berlin"},
        headers=headers,
    )
    assert ok.status_code == 200
    assert (ok.json["digest_time"], ok.json["digest_timezone"]) == ("18:30", "Europe/Berlin")
    kept = client.put("/api/preferences", json={"channels": {}}, headers={**headers, "If-Match": '"1"'})
    assert kept.json["digest"] == "daily"  # absent: kept
