"""Events the approvals service publishes: cases, review tasks, appointments (聘任), evaluations, 公示."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import field_validator

from shared.contracts.base import EventContract
from shared.policy import EVALUATION_CADENCES, TRAINING_REQUIREMENT, check_policy_part


class CaseOpened(EventContract):
    """`kind`: cio_nomination; `stages`: [{index, key, name, role, org_code, org_path, due_days}]."""

    event_type: ClassVar[str] = "approvals.case.opened"
    subject_field: ClassVar[str | None] = "case_id"
    case_id: str
    kind: str
    nomination_id: str
    round_id: str
    school_org_code: str
    school_org_path: str
    stages: list[dict[str, Any]]


class TaskAssigned(EventContract):
    """A stage's task assigned to a role at an org, due at `due_at`."""

    event_type: ClassVar[str] = "approvals.task.assigned"
    subject_field: ClassVar[str | None] = "task_id"
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


class TaskOverdue(EventContract):
    """`escalate_to_role, escalate_to_org_path`: the body the policy's `approval.stages[].escalate_to` names
    for the stage, bound to this case's orgs; both null at the top of the chain."""

    event_type: ClassVar[str] = "approvals.task.overdue"
    subject_field: ClassVar[str | None] = "task_id"
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


class ReviewDecided(EventContract):
    """`decision`: approve/return/reject; `outcome`: in_review/returned/approved/rejected; `kind` the case's
    (cio_nomination, or project_plan: governance's plan review, whose final approval appoints nobody)."""

    event_type: ClassVar[str] = "approvals.review.decided"
    subject_field: ClassVar[str | None] = "case_id"
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
    # addition: the case's kind (cio_nomination, project_plan); for a project_plan `nomination_id` is the plan's id
    kind: str = "cio_nomination"


class AppointmentMade(EventContract):
    """`ends_on` is null when the policy sets no term (e.g. Jiaozuo); `training_requirement` is the policy's
    `training.requirement` (e.g. `{"centralized_per_year": 1}` or `{}`); `evaluation_cadences` the policy's
    `evaluation.cadences` as `[{kind, every_years}]` (`[]`: the policy orders none, e.g. 宜春学院; absent from
    older producers)."""

    event_type: ClassVar[str] = "approvals.appointment.made"
    subject_field: ClassVar[str | None] = "appointment_id"
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

    @field_validator("training_requirement")
    @classmethod
    def _requirement_as_the_policy_says(cls, requirement: dict[str, Any]) -> dict[str, Any]:
        """The policy's `training.requirement`, checked against its place in the one policy schema."""
        return check_policy_part(TRAINING_REQUIREMENT, requirement, "training_requirement")

    @field_validator("evaluation_cadences")
    @classmethod
    def _cadences_as_the_policy_says(cls, cadences: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        """The policy's `evaluation.cadences`, checked against their place in the one policy schema."""
        if cadences is None:
            return None
        return check_policy_part(EVALUATION_CADENCES, cadences, "evaluation_cadences")


class AppointmentRenewed(AppointmentMade):
    """As `made` (the new term), plus `previous_appointment_id`."""

    event_type: ClassVar[str] = "approvals.appointment.renewed"
    previous_appointment_id: str = ""


class AppointmentFiled(EventContract):
    """`bureau_org_path, bureau_role`: the appointing body to notify; `change`: what changed; `details` with
    `kind` (person/post/contact), and for a person `new_person_user_id`, `new_person_name`,
    `effective_on`."""

    event_type: ClassVar[str] = "approvals.appointment.filed"
    subject_field: ClassVar[str | None] = "appointment_id"
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


class FilingDue(EventContract):
    """The directory moved the appointed CIO away (`identity.user.updated`): the school owes its bureau a
    变更报备 (policies with `term.change_requires_refiling`); `kind`: person."""

    event_type: ClassVar[str] = "approvals.appointment.filing_due"
    subject_field: ClassVar[str | None] = "appointment_id"
    appointment_id: str
    org_code: str
    org_path: str
    person_user_id: str
    person_name: str
    kind: str
    reason: str


class FilingDecided(EventContract):
    """The bureau acknowledged (备案) or rejected a 变更报备: `kind` person/post/contact, `decision`
    acknowledge/reject."""

    event_type: ClassVar[str] = "approvals.appointment.filing_decided"
    subject_field: ClassVar[str | None] = "appointment_id"
    appointment_id: str
    org_code: str
    org_path: str
    kind: str
    decision: str
    opinion: str | None
    decided_by: str
    decided_at: str
    change: str


class AppointmentClosed(EventContract):
    """What the events that close an appointment name: whose, where, the last day served and the term.

    Nominations' appointment projection reads `ended_on` and (when it never saw the appointment made)
    `term_number` from them; identity removes the `cio` grant at the org."""

    subject_field: ClassVar[str | None] = "appointment_id"
    appointment_id: str
    person_user_id: str
    org_code: str
    org_path: str
    ended_on: str | None = None
    term_number: int | None = None


class AppointmentRevoked(AppointmentClosed):
    """An appointment revoked (撤销)."""

    event_type: ClassVar[str] = "approvals.appointment.revoked"
    reason: str
    revoked_by: str
    revoked_at: str


class AppointmentEnded(AppointmentClosed):
    """`ended_on`: the last day served; `reason`: term_expired; 免聘: left_school, retired, reassigned; 换届:
    succeeded; an acknowledged change of person: changed."""

    event_type: ClassVar[str] = "approvals.appointment.ended"
    ended_on: str
    # 免聘 / 换届: why the appointment ended (term_expired, left_school, retired, reassigned, succeeded,
    # changed), who ended it, and the appointment that follows it at the org, if any
    reason: str | None = None
    reason_zh: str | None = None
    ended_by: str | None = None
    note: str | None = None
    successor_appointment_id: str | None = None


class EvaluationRecorded(EventContract):
    """`kind`: cio_annual/school_biennial; `grade`: 优秀/合格/不合格."""

    event_type: ClassVar[str] = "approvals.evaluation.recorded"
    subject_field: ClassVar[str | None] = "evaluation_id"
    evaluation_id: str
    appointment_id: str | None
    person_user_id: str | None
    org_path: str
    year: int
    kind: str
    score: int | float
    grade: str
    # additions: the school, the sheet's maximum and whether a veto item (一票否决) decided the grade
    org_code: str | None = None
    max_score: int | float | None = None
    vetoed: bool | None = None
    # whom it evaluated: cio (the appointment's 测评) or school (the school's 考核: no appointment, no person)
    evaluee: str | None = None


class RectificationOrdered(EventContract):
    """限期整改 ordered after an unqualified evaluation."""

    event_type: ClassVar[str] = "approvals.rectification.ordered"
    subject_field: ClassVar[str | None] = "rectification_id"
    rectification_id: str
    evaluation_id: str
    appointment_id: str | None
    org_path: str
    due_on: str
    reason: str
    # additions: the school, and the kind of evaluation that ordered it
    org_code: str | None = None
    kind: str | None = None


class PublicationOpened(EventContract):
    """名单公示 published: the people the body intends to appoint, public from starts_on to ends_on; `entries`:
    [{case_id, nomination_id, candidate_name, school_name, school_org_path}]."""

    event_type: ClassVar[str] = "approvals.publication.opened"
    subject_field: ClassVar[str | None] = "publication_id"
    publication_id: str
    round_id: str
    title: str
    publisher_org_path: str
    publisher_role: str
    starts_on: str
    ends_on: str
    entries: list[dict[str, Any]]


class ObjectionReceived(EventContract):
    """异议 received during a 公示期 (no contact details: the bureau reads those through its API). `case_id`
    null: about the whole list; never the objector's contact details."""

    event_type: ClassVar[str] = "approvals.objection.received"
    subject_field: ClassVar[str | None] = "objection_id"
    objection_id: str
    publication_id: str
    title: str
    case_id: str | None
    candidate_name: str | None
    school_name: str | None
    publisher_role: str
    publisher_org_path: str
    received_at: str


class ObjectionResolved(EventContract):
    """`outcome`: upheld/dismissed."""

    event_type: ClassVar[str] = "approvals.objection.resolved"
    subject_field: ClassVar[str | None] = "objection_id"
    objection_id: str
    publication_id: str
    case_id: str | None
    outcome: str
    resolution: str
    resolved_by: str
    resolved_at: str
    org_path: str


class RectificationOverdue(EventContract):
    """限期整改 past its due date with no outcome: the school and the bureau that appointed are told.
    `bureau_role, bureau_org_path`: the body that appointed."""

    event_type: ClassVar[str] = "approvals.rectification.overdue"
    subject_field: ClassVar[str | None] = "rectification_id"
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


class RectificationReported(EventContract):
    """整改报告: the school reported its rectification (with attachments) to the bureau that judges it.
    `attachments`: their count."""

    event_type: ClassVar[str] = "approvals.rectification.reported"
    subject_field: ClassVar[str | None] = "rectification_id"
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
