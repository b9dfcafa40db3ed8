"""Approvals' events are read off their aggregates (`EventContract.from_aggregate`): the data on the wire is what the
hand-written keyword lists built before, key for key and type for type (uuids and dates as strings)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from approvals.adapters.policy_snapshot import parse_policy
from approvals.domain import events
from approvals.domain.filings import ACKNOWLEDGE, PERSON, ChangeFiling
from approvals.domain.model import Appointment

from shared.contracts.base import EventContract
from tests.unit.approvals.nominations_events import policy_document
from tests.unit.approvals.test_domain import AT, appoint, new_case
from tests.unit.approvals.test_evaluation import AT as EVALUATED
from tests.unit.approvals.test_evaluation import full_marks, jiaozuo, new_evaluation, submitted

SNAPSHOT = policy_document("jiaozuo-2022")


def same_data(built: EventContract, by_keyword: EventContract) -> None:
    assert type(built) is type(by_keyword)
    assert built.payload() == by_keyword.payload()
    assert built.data_as_sent() == by_keyword.data_as_sent()
    assert {k: type(v) for k, v in built.payload().items()} == {k: type(v) for k, v in by_keyword.payload().items()}


def test_a_case_opening_and_its_first_task_tell_what_they_told() -> None:
    case = new_case()
    opened, assigned = case.events[0], case.events[1]
    same_data(
        opened,
        events.CaseOpened(
            case_id=str(case.id),
            kind=case.kind,
            nomination_id=str(case.nomination_id),
            round_id=str(case.round_id),
            school_org_code=case.school_org_code,
            school_org_path=case.school_org_path,
            stages=[
                {k: s[k] for k in ("index", "key", "name", "role", "org_code", "org_path", "due_days")}
                for s in case.stages
            ],
        ),
    )
    task = case.tasks[0]
    same_data(
        assigned,
        events.TaskAssigned(
            task_id=str(task.id),
            case_id=str(task.case_id),
            nomination_id=str(task.nomination_id),
            stage_index=task.stage_index,
            stage_name=task.stage_name,
            role=task.role,
            org_code=task.org_code,
            org_path=task.org_path,
            due_at=task.due_at.isoformat(),
            school_org_path=task.school_org_path,
            stage_key=task.stage_key,
        ),
    )


def test_an_overdue_task_and_a_decision_tell_what_they_told() -> None:
    case = new_case()
    task = case.tasks[0]
    later = task.due_at + dt.timedelta(days=1)
    assert task.mark_overdue(later, "/4108/410802", "county_reviewer")
    same_data(
        task.events[-1],
        events.TaskOverdue(
            task_id=str(task.id),
            case_id=str(task.case_id),
            nomination_id=str(task.nomination_id),
            stage_name=task.stage_name,
            role=task.role,
            org_code=task.org_code,
            org_path=task.org_path,
            due_at=task.due_at.isoformat(),
            escalate_to_org_path="/4108/410802",
            stage_key=task.stage_key,
            escalate_to_role="county_reviewer",
        ),
    )
    outcome = case.decide(task.id, "approve", opinion="同意", seal=None, decided_by="a", on_behalf_of=None, at=later)
    same_data(
        next(e for e in case.events if isinstance(e, events.ReviewDecided)),
        events.ReviewDecided(
            case_id=str(case.id),
            task_id=str(task.id),
            nomination_id=str(case.nomination_id),
            round_id=str(case.round_id),
            school_org_path=case.school_org_path,
            stage_index=task.stage_index,
            stage_name=task.stage_name,
            decision="approve",
            opinion=task.opinion,
            decided_by="a",
            on_behalf_of=None,
            decided_at=later.isoformat(),
            outcome=outcome,
            seal_unit_name=task.seal_unit_name,
            seal_date=task.seal_date.isoformat() if task.seal_date else None,
            stage_key=task.stage_key,
            kind=case.kind,
        ),
    )


def made(appointment: Appointment, **more: Any) -> dict[str, Any]:
    return dict(
        appointment_id=str(appointment.id),
        person_user_id=appointment.person_user_id,
        person_name=appointment.person_name,
        org_code=appointment.org_code,
        org_path=appointment.org_path,
        term_number=appointment.term_number,
        starts_on=appointment.starts_on.isoformat(),
        ends_on=appointment.ends_on.isoformat() if appointment.ends_on else None,
        document_number=appointment.document_number,
        **more,
    )


def test_an_appointment_made_and_renewed_tell_what_they_told() -> None:
    first = appoint(SNAPSHOT)
    (event,) = first.events
    same_data(
        event,
        events.AppointmentMade(
            **made(first, round_id="", nomination_id="", policy_id=first.policy_id),
            training_requirement=event.training_requirement,
            evaluation_cadences=event.evaluation_cadences,
        ),
    )
    round_id, nomination_id, policy = uuid.uuid4(), uuid.uuid4(), parse_policy(SNAPSHOT)
    second = Appointment(
        person_user_id="u1", person_name="张三", org_code="10417", org_path="/10417", term_number=2,
        starts_on=dt.date(2027, 9, 1), term=policy.term, training_requirement={"centralized_per_year": 1},
        document_number="6号", round_id=round_id, nomination_id=nomination_id, case_id=None, policy=SNAPSHOT,
        policy_id=first.policy_id, appointing_role="party_committee", appointing_org_path="/10417",
        previous_appointment_id=first.id, at=AT,
    )  # fmt: skip
    (renewed,) = second.events
    same_data(
        renewed,
        events.AppointmentRenewed(
            **made(second, round_id=str(round_id), nomination_id=str(nomination_id), policy_id=first.policy_id),
            training_requirement={"centralized_per_year": 1},
            evaluation_cadences=renewed.evaluation_cadences,
            previous_appointment_id=str(first.id),
        ),
    )


def test_a_filed_change_a_revocation_and_an_end_tell_what_they_told() -> None:
    appointment = appoint(SNAPSHOT)
    appointment.file_change("联系电话变更", {"phone": "123"}, by="s1", at=AT)
    same_data(
        appointment.events[-1],
        events.AppointmentFiled(
            appointment_id=str(appointment.id),
            org_path=appointment.org_path,
            change="联系电话变更",
            filed_by="s1",
            filed_at=AT.isoformat(),
            details={"phone": "123"},
            bureau_org_path=appointment.appointing_org_path,
            bureau_role=appointment.appointing_role,
            person_user_id=appointment.person_user_id,
            person_name=appointment.person_name,
            org_code=appointment.org_code,
            nomination_id=None,
        ),
    )
    revoked = appoint(SNAPSHOT)
    revoked.revoke(" 整改不合格 ", by="b1", at=AT)
    same_data(
        revoked.events[-1],
        events.AppointmentRevoked(
            appointment_id=str(revoked.id),
            person_user_id=revoked.person_user_id,
            org_code=revoked.org_code,
            org_path=revoked.org_path,
            reason="整改不合格",
            revoked_by="b1",
            revoked_at=AT.isoformat(),
            ended_on=AT.date().isoformat(),
            term_number=revoked.term_number,
        ),
    )
    ended = appoint(SNAPSHOT)
    ended.dismiss("retired", " 退休 ", by="b1", at=AT, ended_on=dt.date(2025, 1, 31))
    same_data(
        ended.events[-1],
        events.AppointmentEnded(
            appointment_id=str(ended.id),
            person_user_id=ended.person_user_id,
            org_code=ended.org_code,
            org_path=ended.org_path,
            ended_on="2025-01-31",
            term_number=ended.term_number,
            reason="retired",
            reason_zh=ended.events[-1].reason_zh,
            ended_by="b1",
            note="退休",
            successor_appointment_id=None,
        ),
    )


def test_a_filing_owed_and_decided_tells_what_it_told() -> None:
    appointment = appoint(SNAPSHOT)
    filing = ChangeFiling.owed(appointment, "left_school", AT)
    same_data(
        filing.events[-1],
        events.FilingDue(
            appointment_id=str(appointment.id),
            org_code=appointment.org_code,
            org_path=appointment.org_path,
            person_user_id=appointment.person_user_id,
            person_name=appointment.person_name,
            kind=PERSON,
            reason="left_school",
        ),
    )
    filing.file(
        appointment, change="换人", details=None, new_person_user_id="u2", new_person_name="李四",
        effective_on=None, by="s1", at=AT,
    )  # fmt: skip
    filing.decide(appointment, ACKNOWLEDGE, opinion=" 同意 ", document_number="7号", by="b1", at=AT)
    same_data(
        filing.events[-1],
        events.FilingDecided(
            appointment_id=str(appointment.id),
            org_code=appointment.org_code,
            org_path=appointment.org_path,
            kind=PERSON,
            decision=ACKNOWLEDGE,
            opinion=filing.opinion,
            decided_by="b1",
            decided_at=AT.isoformat(),
            change="换人",
        ),
    )


def test_a_rectification_ordered_reported_and_overdue_tells_what_it_told() -> None:
    evaluation = submitted(new_evaluation())
    evaluation.enter_verification(
        full_marks(evaluation), [{"code": "V1", "triggered": True, "reason": "勒索病毒事件"}], "b", EVALUATED
    )
    rectification = evaluation.finalise(jiaozuo(), 30, "bureau", EVALUATED)
    assert rectification is not None
    same_data(
        rectification.events[-1],
        events.RectificationOrdered(
            rectification_id=str(rectification.id),
            evaluation_id=str(evaluation.id),
            appointment_id=str(evaluation.appointment_id),
            org_path=evaluation.org_path,
            due_on=rectification.due_on.isoformat(),
            reason=rectification.reason,
            org_code=evaluation.org_code,
            kind=evaluation.kind,
        ),
    )
    attachment = {"filename": "整改.pdf", "content_type": "application/pdf", "size": 10}
    rectification.report("已整改", [attachment], "school", EVALUATED, "city_reviewer", "/4108")
    same_data(
        rectification.events[-1],
        events.RectificationReported(
            rectification_id=str(rectification.id),
            evaluation_id=str(evaluation.id),
            org_code=evaluation.org_code,
            org_path=evaluation.org_path,
            kind=evaluation.kind,
            due_on=rectification.due_on.isoformat(),
            attachments=1,
            reported_by="school",
            reported_at=EVALUATED.isoformat(),
            bureau_role="city_reviewer",
            bureau_org_path="/4108",
        ),
    )
    late = rectification.due_on + dt.timedelta(days=1)
    assert rectification.mark_overdue(late, EVALUATED, "city_reviewer", "/4108")
    same_data(
        rectification.events[-1],
        events.RectificationOverdue(
            rectification_id=str(rectification.id),
            evaluation_id=str(evaluation.id),
            appointment_id=str(evaluation.appointment_id),
            org_code=evaluation.org_code,
            org_path=evaluation.org_path,
            kind=evaluation.kind,
            due_on=rectification.due_on.isoformat(),
            reason=rectification.reason,
            bureau_role="city_reviewer",
            bureau_org_path="/4108",
        ),
    )
