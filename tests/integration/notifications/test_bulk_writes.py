"""The notifier's writes of a consumer window against real PostgreSQL: messages, deliveries and the nominations seen
go in as one statement each (one JSON document of rows), reminders are cancelled by one UPDATE … RETURNING, and an
org's level is read with its ancestors'. What is stored must be what the rows said, value for value."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from notifications.adapters.orm import deliveries, messages, reminders
from notifications.bootstrap import Notifications
from notifications.domain.model import ReminderPlan
from sqlalchemy import event, select, text

from shared.directory import directory_orgs

pytestmark = pytest.mark.integration

CHINA = dt.timezone(dt.timedelta(hours=8))
# a time with microseconds and an offset: stored as the same instant, to the microsecond
EVENT_TIME = dt.datetime(2026, 12, 5, 9, 30, 15, 123456, tzinfo=CHINA)
NOW = dt.datetime(2026, 12, 5, 1, 31, 0, 654321, tzinfo=dt.UTC)
DATA = {
    "nomination_id": "n-1",
    "school_name": '解放区"第一"实验小学 <b>',
    "form": {"note": "a\\b\nc", "revision": 2, "empty": None, "list": [1, "二", None], "ok": True},
}


def message(
    event_id: str, recipient_id: str, subject: str = "新的首席信息官推荐：解放区第一实验小学"
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "event_id": event_id,
        "event_type": "nominations.nomination.submitted",
        "kind": "nomination_submitted",
        "recipient_id": recipient_id,
        "org_path": None if recipient_id == "u-2" else "/4108/410802/4108020001",
        "locale": "zh-CN",
        "subject": subject,
        "body": "解放区第一实验小学 提交了首席信息官推荐（张三，第 1 次提交），请审核。",
        "data": DATA,
        "event_time": EVENT_TIME,
        "created_at": NOW,
    }


def delivery(row: dict[str, Any], channel: str, **values: Any) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "message_id": row["id"],
        "event_id": row["event_id"],
        "recipient_id": row["recipient_id"],
        "channel": channel,
        "kind": row["kind"],
        "org_path": row["org_path"],
        "subject": row["subject"],
        "body": row["body"],
        "is_html": False,
        "status": "sent",
        "attempts": 1,
        "last_error": None,
        "next_attempt_at": None,
        "event_time": EVENT_TIME,
        "created_at": NOW,
        "sent_at": NOW,
        **values,
    }


def test_a_window_of_messages_is_stored_as_written_once_per_event_and_recipient(
    notifications_service: Notifications,
) -> None:
    first, second = message("e-1", "u-1"), message("e-1", "u-2")
    again = message("e-1", "u-1", subject="a second copy in the same window")
    with notifications_service.uow() as uow:
        new = uow.messages.add_new([first, second, again])
        uow.commit()
    with notifications_service.uow() as uow:
        replayed = uow.messages.add_new([message("e-1", "u-1"), message("e-1", "u-2")])
        uow.commit()

    assert new == {("e-1", "u-1"): first["id"], ("e-1", "u-2"): second["id"]}
    assert replayed == {}
    with notifications_service.session_factory() as session:
        stored = {r["id"]: dict(r) for r in session.execute(select(messages)).mappings()}
        data_text = session.execute(select(text("data::text")).select_from(messages)).scalars().all()
    assert stored == {row["id"]: {**row, "read_at": None} for row in (first, second)}
    # the JSON column keeps the text its own serializer writes
    assert data_text == [json.dumps(DATA)] * 2


def test_a_windows_deliveries_are_stored_as_written_once_per_event_recipient_and_channel(
    notifications_service: Notifications,
) -> None:
    inbox = message("e-1", "u-1")
    rows = [
        delivery(inbox, "in_app"),
        delivery(inbox, "email", body="<p>HTML</p>", is_html=True, status="pending", attempts=0, sent_at=None)
        | {"next_attempt_at": NOW},
        delivery(inbox, "sms", body="", status="skipped", attempts=0, sent_at=None)
        | {"last_error": "no sms address for the recipient"},
    ]
    with notifications_service.uow() as uow:
        uow.messages.add_new([inbox])
        uow.deliveries.add_new(rows)
        uow.deliveries.add_new([delivery(inbox, "email", subject="a replay")])
        uow.commit()

    with notifications_service.session_factory() as session:
        stored = {r["id"]: dict(r) for r in session.execute(select(deliveries)).mappings()}
    assert stored == {row["id"]: {**row, "digest_id": None} for row in rows}


def test_a_naive_time_is_refused_before_anything_is_written(notifications_service: Notifications) -> None:
    inbox = message("e-1", "u-1")
    naive = dt.datetime(2026, 12, 5, 9, 30)  # noqa: DTZ001 - the kind every table refuses
    with notifications_service.uow() as uow:
        uow.messages.add_new([inbox])
        with pytest.raises(ValueError, match="naive datetime"):
            uow.deliveries.add_new([delivery(inbox, "in_app", created_at=naive)])


def test_the_nominations_seen_are_upserted_the_latest_school_and_candidate_winning(
    notifications_service: Notifications,
) -> None:
    def seen(school: str, candidate: str | None) -> dict[str, Any]:
        values = {"round_id": "r-1", "school_org_code": "4108020001", "school_org_path": "/4108/410802/4108020001"}
        return values | {"school_name": school, "candidate_user_id": "c-1", "candidate_name": candidate}

    with notifications_service.uow() as uow:
        uow.known_nominations.remember({"n-1": seen("一小", "张三"), "n-2": seen("二小", None)})
        uow.commit()
    with notifications_service.uow() as uow:
        uow.known_nominations.remember({"n-1": seen("第一实验小学", "李四")})
        uow.commit()

    with notifications_service.uow() as uow:
        assert uow.known_nominations.of(["n-1", "n-2", "n-3"]) == {
            "n-1": {"nomination_id": "n-1", **seen("第一实验小学", "李四")},
            "n-2": {"nomination_id": "n-2", **seen("二小", None)},
        }


def test_cancelling_reminders_returns_exactly_those_it_cancelled(notifications_service: Notifications) -> None:
    due = dt.datetime(2030, 10, 17, 9, 0, tzinfo=dt.UTC)
    plans = [
        ReminderPlan("round_deadline", "round:r-1:4108020001", due, {"round_id": "r-1"}),
        ReminderPlan("round_deadline", "round:r-1:4108020002", due, {"round_id": "r-1"}),
        ReminderPlan("task_due", "task:t-1", due, {"task_id": "t-1"}),
        ReminderPlan("task_due", "task:t-2", due, {"task_id": "t-2"}),
    ]
    with notifications_service.uow() as uow:
        uow.reminders.add_new(plans, "e-0", NOW)
        uow.commit()
    with notifications_service.uow() as uow:
        [sent] = [r for r in uow.reminders.due(due, 10) if r["subject_key"] == "task:t-2"]
        uow.reminders.mark_sent(sent["id"], due)
        uow.commit()

    with notifications_service.uow() as uow:
        cancelled = uow.reminders.cancel(["task:t-1", "task:t-2"], ["round:r-1:"], NOW, "nominations.round.closed")
        again = uow.reminders.cancel(["task:t-1"], ["round:r-1:"], NOW, "nominations.round.closed")
        uow.commit()

    assert sorted((r["kind"], json.dumps(r["data"])) for r in cancelled) == [
        ("round_deadline", '{"round_id": "r-1"}'),
        ("round_deadline", '{"round_id": "r-1"}'),
        ("task_due", '{"task_id": "t-1"}'),
    ]
    assert again == []
    with notifications_service.session_factory() as session:
        rows = session.execute(select(reminders.c.subject_key, reminders.c.cancelled_by, reminders.c.sent_at))
        state = {r.subject_key: (r.cancelled_by, r.sent_at is not None) for r in rows}
    assert state == {
        "round:r-1:4108020001": ("nominations.round.closed", False),
        "round:r-1:4108020002": ("nominations.round.closed", False),
        "task:t-1": ("nominations.round.closed", False),
        "task:t-2": (None, True),
    }


def test_an_orgs_level_is_read_with_its_ancestors_in_one_query(notifications_service: Notifications) -> None:
    with notifications_service.engine.begin() as conn:
        conn.execute(
            directory_orgs.insert(),
            [
                {"code": "4108", "name": "焦作市教育局", "path": "/4108", "level": "city", "parent_code": None},
                {"code": "410802", "name": "解放区教育局", "path": "/4108/410802", "level": "county"}
                | {"parent_code": "4108"},
            ],
        )
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(notifications_service.engine, "before_cursor_execute", count)
    try:
        with notifications_service.uow() as uow:
            # a school not projected yet: its own level is unknown, its county's and city's are not
            levels = [uow.directory.org_level(p) for p in ("/4108/410802/4108029999", "/4108/410802", "/4108")]
            assert uow.directory.org_level("/4108/410821") is None
    finally:
        event.remove(notifications_service.engine, "before_cursor_execute", count)

    assert levels == [None, "county", "city"]
    assert len([s for s in statements if "directory_orgs" in s]) == 2
