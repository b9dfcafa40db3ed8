"""Events the approvals service publishes (payloads as in docs/EVENTS.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from shared.events import DomainEvent


@dataclass
class _Subject(DomainEvent):
    """Events whose subject is the id named by `_subject_field`."""

    _subject_field: ClassVar[str] = ""

    @property
    def subject(self) -> str:
        return str(getattr(self, self._subject_field))


@dataclass
class CaseOpened(_Subject):
    event_type: ClassVar[str] = "approvals.case.opened"
    _subject_field: ClassVar[str] = "case_id"
    case_id: str
    kind: str
    nomination_id: str
    round_id: str
    school_org_code: str
    school_org_path: str
    stages: list[dict[str, Any]]


@dataclass
class TaskAssigned(_Subject):
    event_type: ClassVar[str] = "approvals.task.assigned"
    _subject_field: ClassVar[str] = "task_id"
    task_id: str
    case_id: str
    nomination_id: str
    stage_index: int
    stage_name: str
    role: str
    org_code: str
    org_path: str
    due_at: str
    school_org_path: str
    stage_key: str | None = None  # addition: the policy's stable stage name (stage_name is the display name)


@dataclass
class TaskOverdue(_Subject):
    event_type: ClassVar[str] = "approvals.task.overdue"
    _subject_field: ClassVar[str] = "task_id"
    task_id: str
    case_id: str
    nomination_id: str
    stage_name: str
    role: str
    org_code: str
    org_path: str
    due_at: str
    escalate_to_org_path: str | None
    stage_key: str | None = None
    escalate_to_role: str | None = None  # with escalate_to_org_path: the body the policy names for this stage


@dataclass
class ReviewDecided(_Subject):
    event_type: ClassVar[str] = "approvals.review.decided"
    _subject_field: ClassVar[str] = "case_id"
    case_id: str
    task_id: str
    nomination_id: str
    round_id: str
    school_org_path: str
    stage_index: int
    stage_name: str
    decision: str
    opinion: str | None
    decided_by: str
    on_behalf_of: str | None
    decided_at: str
    outcome: str
    seal_unit_name: str | None = None
    seal_date: str | None = None
    stage_key: str | None = None
    # addition: the case's kind (cio_nomination, project_plan); for a project_plan nomination_id is the plan's id
    kind: str = "cio_nomination"


@dataclass
class AppointmentMade(_Subject):
    event_type: ClassVar[str] = "approvals.appointment.made"
    _subject_field: ClassVar[str] = "appointment_id"
    appointment_id: str
    person_user_id: str
    person_name: str
    org_code: str
    org_path: str
    term_number: int
    starts_on: str
    ends_on: str | None  # None: the policy sets no term, the appointment lasts until revoked
    document_number: str
    round_id: str
    nomination_id: str
    policy_id: str
    training_requirement: dict[str, Any]
    # the policy's evaluation.cadences [{kind, every_years, subject}]: reminders only for what the policy orders
    # (宜春学院 orders none); None when the snapshot says nothing
    evaluation_cadences: list[dict[str, Any]] | None = None


@dataclass
class AppointmentRenewed(AppointmentMade):
    event_type: ClassVar[str] = "approvals.appointment.renewed"
    previous_appointment_id: str = ""


@dataclass
class AppointmentFiled(_Subject):
    event_type: ClassVar[str] = "approvals.appointment.filed"
    _subject_field: ClassVar[str] = "appointment_id"
    appointment_id: str
    org_path: str
    change: str
    filed_by: str
    filed_at: str
    details: dict[str, Any] | None = None
    bureau_org_path: str | None = None
    # additions: the appointing body to notify (its role at bureau_org_path), and whom the filing is about
    bureau_role: str | None = None
    person_user_id: str | None = None
    person_name: str | None = None
    org_code: str | None = None
    nomination_id: str | None = None


@dataclass
class FilingDue(_Subject):
    """The directory moved an appointed CIO away from the school: the school owes its bureau a 变更报备."""

    event_type: ClassVar[str] = "approvals.appointment.filing_due"
    _subject_field: ClassVar[str] = "appointment_id"
    appointment_id: str
    org_code: str
    org_path: str
    person_user_id: str
    person_name: str
    kind: str
    reason: str


@dataclass
class FilingDecided(_Subject):
    """The bureau acknowledged (备案) or rejected a 变更报备."""

    event_type: ClassVar[str] = "approvals.appointment.filing_decided"
    _subject_field: ClassVar[str] = "appointment_id"
    appointment_id: str
    org_code: str
    org_path: str
    kind: str
    decision: str
    opinion: str | None
    decided_by: str
    decided_at: str
    change: str


@dataclass
class AppointmentRevoked(_Subject):
    event_type: ClassVar[str] = "approvals.appointment.revoked"
    _subject_field: ClassVar[str] = "appointment_id"
    appointment_id: str
    person_user_id: str
    org_code: str
    org_path: str
    reason: str
    revoked_by: str
    revoked_at: str
    # additions: nominations' appointment projection reads `ended_on` and (when it never saw the
    # appointment made) `term_number` from the closing events
    ended_on: str | None = None
    term_number: int | None = None


@dataclass
class AppointmentEnded(_Subject):
    event_type: ClassVar[str] = "approvals.appointment.ended"
    _subject_field: ClassVar[str] = "appointment_id"
    appointment_id: str
    person_user_id: str
    org_code: str
    org_path: str
    ended_on: str
    term_number: int | None = None
    # 免聘 / 换届: why the appointment ended (term_expired, left_school, retired, reassigned, succeeded,
    # changed), who ended it, and the appointment that follows it at the org, if any
    reason: str | None = None
    reason_zh: str | None = None
    ended_by: str | None = None
    note: str | None = None
    successor_appointment_id: str | None = None


@dataclass
class EvaluationRecorded(_Subject):
    event_type: ClassVar[str] = "approvals.evaluation.recorded"
    _subject_field: ClassVar[str] = "evaluation_id"
    evaluation_id: str
    appointment_id: str | None
    person_user_id: str | None
    org_path: str
    year: int
    kind: str
    score: float
    grade: str
    # additions: the school, the sheet's maximum and whether a veto item (一票否决) decided the grade
    org_code: str | None = None
    max_score: float | None = None
    vetoed: bool | None = None
    # whom it evaluated: cio (the appointment's 测评) or school (the school's 考核: no appointment, no person)
    evaluee: str | None = None


@dataclass
class RectificationOrdered(_Subject):
    event_type: ClassVar[str] = "approvals.rectification.ordered"
    _subject_field: ClassVar[str] = "rectification_id"
    rectification_id: str
    evaluation_id: str
    appointment_id: str | None
    org_path: str
    due_on: str
    reason: str
    # additions: the school, and the kind of evaluation that ordered it
    org_code: str | None = None
    kind: str | None = None


@dataclass
class PublicationOpened(_Subject):
    """名单公示 published: the people the body intends to appoint, public from starts_on to ends_on."""

    event_type: ClassVar[str] = "approvals.publication.opened"
    _subject_field: ClassVar[str] = "publication_id"
    publication_id: str
    round_id: str
    title: str
    publisher_org_path: str
    publisher_role: str
    starts_on: str
    ends_on: str
    entries: list[dict[str, Any]]


@dataclass
class ObjectionReceived(_Subject):
    """异议 received during a 公示期 (no contact details: the bureau reads those through its API)."""

    event_type: ClassVar[str] = "approvals.objection.received"
    _subject_field: ClassVar[str] = "objection_id"
    objection_id: str
    publication_id: str
    title: str
    case_id: str | None
    candidate_name: str | None
    school_name: str | None
    publisher_role: str
    publisher_org_path: str
    received_at: str


@dataclass
class ObjectionResolved(_Subject):
    event_type: ClassVar[str] = "approvals.objection.resolved"
    _subject_field: ClassVar[str] = "objection_id"
    objection_id: str
    publication_id: str
    case_id: str | None
    outcome: str
    resolution: str
    resolved_by: str
    resolved_at: str
    org_path: str


@dataclass
class RectificationOverdue(_Subject):
    """限期整改 past its due date with no outcome: the school and the bureau that appointed are told."""

    event_type: ClassVar[str] = "approvals.rectification.overdue"
    _subject_field: ClassVar[str] = "rectification_id"
    rectification_id: str
    evaluation_id: str
    appointment_id: str | None
    org_code: str
    org_path: str
    kind: str
    due_on: str
    reason: str
    bureau_role: str | None
    bureau_org_path: str | None


@dataclass
class RectificationReported(_Subject):
    """整改报告: the school reported its rectification (with attachments) to the bureau that judges it."""

    event_type: ClassVar[str] = "approvals.rectification.reported"
    _subject_field: ClassVar[str] = "rectification_id"
    rectification_id: str
    evaluation_id: str
    org_code: str
    org_path: str
    kind: str
    due_on: str
    attachments: int
    reported_by: str
    reported_at: str
    bureau_role: str | None
    bureau_org_path: str | None
