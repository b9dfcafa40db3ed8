"""Evaluation-due reminders through the real consumer: planned from the appointment, sent once to the
school admins and the CIO, replaced by next year's when sent or when the evaluation is recorded, and
silenced when the appointment ends."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from notifications.adapters.orm import messages, reminders
from notifications.bootstrap import Notifications
from notifications.domain.model import anniversary
from notifications.service_layer.delivery import send_due_reminders
from sqlalchemy import select

from shared import clock
from shared.bus.envelope import CloudEvent
from tests.integration.notifications.conftest import SCHOOL, apply, identity_events

pytestmark = pytest.mark.integration


def appointment(appointment_id: str, starts_on: dt.date, ends_on: dt.date | None = None) -> CloudEvent:
    return CloudEvent(
        type="approvals.appointment.made",
        source="/cio/approvals",
        subject=appointment_id,
        data={
            "appointment_id": appointment_id,
            "person_user_id": "u-cio",
            "person_name": "李四",
            "org_code": "4108020001",
            "org_path": SCHOOL,
            "term_number": 1,
            "starts_on": starts_on.isoformat(),
            "ends_on": ends_on.isoformat() if ends_on else None,
            "document_number": "焦教〔2030〕1号",
            "policy_id": "jiaozuo-2022",
            "training_requirement": {},
        },
    )


def planned(service: Notifications) -> list[tuple[str, bool, bool, str | None]]:
    with service.session_factory() as session:
        rows = session.execute(
            select(
                reminders.c.subject_key,
                reminders.c.sent_at.is_not(None),
                reminders.c.cancelled_at.is_not(None),
                reminders.c.cancelled_by,
            )
            .where(reminders.c.kind == "evaluation_due")
            .order_by(reminders.c.subject_key)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def reminded(service: Notifications) -> list[tuple[str, str]]:
    with service.session_factory() as session:
        rows = session.execute(
            select(messages.c.recipient_id, messages.c.subject)
            .where(messages.c.kind == "evaluation_due_reminder")
            .order_by(messages.c.recipient_id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def in_days(days: int) -> Callable[[], dt.datetime]:
    return lambda: dt.datetime.now(dt.UTC) + dt.timedelta(days=days)


def test_sent_once_to_the_school_admins_and_the_cio_then_next_year_is_planned(
    notifications_service: Notifications,
) -> None:
    service = notifications_service
    today = clock.today()
    # the first anniversary is 40 days away: its reminder (30 days before) is due in 10 days
    starts = anniversary(today + dt.timedelta(days=40), -1)
    apply(service, *identity_events(), appointment("a-1", starts))
    first, second = starts.year + 1, starts.year + 2
    assert planned(service) == [(f"evaluation:a-1:{first}", False, False, None)]

    assert send_due_reminders(service.uow, service.notifier) == 0  # not due yet
    assert send_due_reminders(service.uow, service.notifier, now=in_days(11)) == 1
    assert send_due_reminders(service.uow, service.notifier, now=in_days(11)) == 0
    assert [r for r, _ in reminded(service)] == ["u-cio", "u-school"]
    assert f"{first} 年度首席信息官测评" in reminded(service)[1][1]
    assert planned(service) == [
        (f"evaluation:a-1:{first}", True, False, None),
        (f"evaluation:a-1:{second}", False, False, None),
    ]

    # the evaluation of the next year recorded early: its reminder goes, the one after takes its place
    recorded = CloudEvent(
        type="approvals.evaluation.recorded",
        source="/cio/approvals",
        data={
            "evaluation_id": "e-1",
            "appointment_id": "a-1",
            "person_user_id": "u-cio",
            "org_path": SCHOOL,
            "year": second,
            "kind": "cio_annual",
            "score": 92,
            "grade": "优秀",
        },
    )
    apply(service, recorded, recorded)  # a redelivery changes nothing
    assert planned(service)[1:] == [
        (f"evaluation:a-1:{second}", False, True, "approvals.evaluation.recorded"),
        (f"evaluation:a-1:{second + 1}", False, False, None),
    ]
    assert send_due_reminders(service.uow, service.notifier, now=in_days(400)) == 0
    assert len(reminded(service)) == 2


def test_an_ended_appointment_is_not_reminded_and_a_late_evaluation_does_not_restart_it(
    notifications_service: Notifications,
) -> None:
    service = notifications_service
    starts = anniversary(clock.today() + dt.timedelta(days=40), -1)
    apply(service, *identity_events(), appointment("a-2", starts))
    ended = CloudEvent(
        type="approvals.appointment.ended",
        source="/cio/approvals",
        data={
            "appointment_id": "a-2",
            "person_user_id": "u-cio",
            "org_code": "4108020001",
            "org_path": SCHOOL,
            "term_number": 1,
            "ended_on": clock.today().isoformat(),
        },
    )
    late = CloudEvent(
        type="approvals.evaluation.recorded",
        source="/cio/approvals",
        data={"evaluation_id": "e-2", "appointment_id": "a-2", "year": starts.year + 1, "kind": "cio_annual"},
    )
    apply(service, ended, late)
    assert planned(service) == [(f"evaluation:a-2:{starts.year + 1}", False, True, "approvals.appointment.ended")]
    assert send_due_reminders(service.uow, service.notifier, now=in_days(800)) == 0
    assert reminded(service) == []


def test_宜春学院_orders_no_evaluation_so_none_is_planned_and_a_school_assessment_leaves_the_cios_alone(
    notifications_service: Notifications,
) -> None:
    """Issue 17 item 12: an appointment under a policy that orders no evaluation (宜春学院: `evaluation_cadences: []`)
    plans no reminder; a school assessment recorded (每2年对学校信息化工作考核一次: no appointment, no person) neither
    cancels nor plans the CIO's."""
    service = notifications_service
    starts = anniversary(clock.today() + dt.timedelta(days=40), -1)
    yichun = appointment("a-yichun", starts)
    yichun.data.update({"policy_id": "yichun-university", "evaluation_cadences": []})
    apply(service, *identity_events(), yichun)
    assert planned(service) == []
    jiaozuo = appointment("a-jiaozuo", starts)
    jiaozuo.data["evaluation_cadences"] = [
        {"kind": "cio_annual", "every_years": 1, "subject": "cio"},
        {"kind": "school_biennial", "every_years": 2, "subject": "school"},
    ]
    apply(service, jiaozuo)
    first = starts.year + 1
    assert planned(service) == [(f"evaluation:a-jiaozuo:{first}", False, False, None)]
    school = CloudEvent(
        type="approvals.evaluation.recorded",
        source="/cio/approvals",
        data={
            "evaluation_id": "e-school",
            "appointment_id": None,
            "person_user_id": None,
            "org_path": SCHOOL,
            "year": first,
            "kind": "school_biennial",
            "score": 95,
            "grade": "优秀",
            "evaluee": "school",
        },
    )
    apply(service, school)
    assert planned(service) == [(f"evaluation:a-jiaozuo:{first}", False, False, None)]
