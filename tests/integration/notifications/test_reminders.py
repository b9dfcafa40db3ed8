"""Reminders: scheduled from events, cancelled when the reason goes away, each sent once."""

from __future__ import annotations

import datetime as dt

import pytest
from notifications.adapters.orm import messages, reminders
from notifications.bootstrap import Notifications
from notifications.service_layer.delivery import send_due_reminders
from sqlalchemy import select

from shared.bus.envelope import CloudEvent
from tests.integration.notifications.conftest import COUNTY, SCHOOL, apply, identity_events, task_assigned

pytestmark = pytest.mark.integration


def inbox_of(service: Notifications) -> list[tuple[str, str]]:
    with service.session_factory() as session:
        rows = session.execute(select(messages.c.recipient_id, messages.c.kind).order_by(messages.c.recipient_id))
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_round_reminder_skips_the_school_that_submitted_and_is_sent_once(notifications_service: Notifications) -> None:
    service = notifications_service
    deadline = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2, hours=12)).isoformat()
    opened = CloudEvent(
        type="nominations.round.opened",
        source="/cio/nominations",
        data={
            "round_id": "r-1",
            "title": "2030年首席信息官推荐",
            "issuing_org_code": "410802",
            "issuing_org_path": COUNTY,
            "deadline": deadline,
            "policy": {"id": "jiaozuo-2022"},
        },
    )
    submitted = CloudEvent(
        type="nominations.nomination.submitted",
        source="/cio/nominations",
        data={
            "nomination_id": "n-1",
            "round_id": "r-1",
            "school_org_code": "4108020001",
            "school_org_path": SCHOOL,
            "school_name": "解放区第一实验小学",
            "candidate_user_id": "u-cand",
            "candidate_name": "张三",
            "revision": 1,
        },
    )
    apply(service, *identity_events(), opened, submitted)
    with service.session_factory() as session:
        planned = session.execute(
            select(reminders.c.subject_key, reminders.c.cancelled_at.is_not(None)).order_by(reminders.c.subject_key)
        ).all()
    assert [tuple(p) for p in planned] == [("round:r-1:4108020001", True), ("round:r-1:4108020002", False)]

    assert send_due_reminders(service.uow, service.notifier) == 1
    assert send_due_reminders(service.uow, service.notifier) == 0
    reminded = [r for r in inbox_of(service) if r[1] == "round_deadline_reminder"]
    assert reminded == [("u-school3", "round_deadline_reminder")]  # the first school submitted: not reminded


def test_task_reminder_cancelled_by_the_decision_is_never_sent(notifications_service: Notifications) -> None:
    service = notifications_service
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).isoformat()
    apply(service, *identity_events(), task_assigned("t-1", soon), task_assigned("t-2", soon))
    decided = CloudEvent(
        type="approvals.review.decided",
        source="/cio/approvals",
        data={
            "case_id": "c-1",
            "task_id": "t-1",
            "nomination_id": "n-1",
            "school_org_path": SCHOOL,
            "stage_index": 0,
            "stage_name": "县区教育局审核",
            "decision": "approve",
            "opinion": "同意",
            "outcome": "in_review",
        },
    )
    apply(service, decided)
    later = lambda: dt.datetime.now(dt.UTC) + dt.timedelta(days=1)  # noqa: E731
    assert send_due_reminders(service.uow, service.notifier, now=later) == 1
    assert send_due_reminders(service.uow, service.notifier, now=later) == 0
    with service.session_factory() as session:
        rows = session.execute(
            select(reminders.c.subject_key, reminders.c.sent_at.is_not(None), reminders.c.cancelled_by)
        ).all()
    assert sorted(tuple(r) for r in rows) == [
        ("task:t-1", False, "approvals.review.decided"),
        ("task:t-2", True, None),
    ]
    assert inbox_of(service).count(("u-county", "task_due_reminder")) == 1
    # the decision itself is told to the school admins
    assert ("u-school", "review_decided") in inbox_of(service)
