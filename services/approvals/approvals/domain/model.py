"""Review cases and their tasks, appointments (聘任) and their terms: the rules of the approvals room.

Pure Python: the adapters map these classes onto tables; nothing here knows about them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import InitVar, asdict, dataclass, field, replace
from typing import Any

import shared.domain
from approvals.domain import events
from approvals.domain.policy import RESUBMIT_RETURNING, WHEN_MISSING_SKIP, Policy, TermPolicy, term_dates
from shared.aggregate import EventSource
from shared.clock import now as now


class DomainError(shared.domain.DomainError):
    """A rule refused the change; `status` is how the API reports it."""

    status = 422


class StateConflict(DomainError):
    """The record is no longer in the state the caller acted on (already decided, not current…): 409."""

    status = 409


APPROVE, RETURN, REJECT = "approve", "return", "reject"
# case kinds: a CIO nomination (its final approval appoints), or a unit's IT project plan sent by governance
# (信息化项目建设方案审核, 乌教发〔2023〕97号: its decision gives 合理化建议 and appoints nobody)
CIO_NOMINATION, PROJECT_PLAN = "cio_nomination", "project_plan"
DECISIONS = (APPROVE, RETURN, REJECT)

# Roles that read everything in their subtree (never decide).
READ_ALL_ROLES = ("auditor", "platform_admin")

# case status
IN_REVIEW, RETURNED, APPROVED, REJECTED, CANCELLED = "in_review", "returned", "approved", "rejected", "cancelled"
# task status
OPEN, DECIDED = "open", "decided"
# appointment status
ACTIVE, RENEWED, ENDED, REVOKED = "active", "renewed", "ended", "revoked"
# why an appointment ended: 免聘 (the appointing body's normal end, with one of END_REASONS) is not
# 取消任命 (revoke, the sanction); the others are the platform's own (term over, 换届, a filed change)
END_REASONS = {"left_school": "调离本校", "retired": "退休", "reassigned": "工作调整"}
TERM_EXPIRED, SUCCEEDED, CHANGED = "term_expired", "succeeded", "changed"
REASONS_ZH = {**END_REASONS, TERM_EXPIRED: "任期届满", SUCCEEDED: "换届", CHANGED: "变更报备"}


@dataclass(frozen=True)
class ResolvedStage:
    """A stage of one case: the policy's stage bound to the org that acts for this school."""

    index: int
    key: str
    name: str
    role: str
    org_code: str
    org_path: str
    due_days: int
    # the policy's escalate_to bound to an org of this case (None: nobody above; cases opened before it too)
    escalate_to_role: str | None = None
    escalate_to_org_path: str | None = None
    # 报送: the org whose batch must hold the form before this stage decides (焦作's county for its city stage);
    # None: the stage waits for no batch (the policy orders none, or this school has no such body: 市直各学校)
    awaits_batch_from: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The stage as the case keeps it (its `stages` column): every field, by name."""
        return asdict(self)


@dataclass(frozen=True)
class Seal:
    """盖章: the unit whose seal stands under the opinion, and the date written beside it."""

    unit_name: str
    date: dt.date


class ReviewTask(EventSource):
    """One stage's work item in a reviewer's inbox: a role at an org must decide by `due_at`."""

    version: int  # kept by the mapper (optimistic concurrency)
    # 报送: whether the batch this task awaits has not come yet; not stored — the reads set it from the receipts
    awaiting_batch = False

    def __init__(self, case: ReviewCase, stage: ResolvedStage, at: dt.datetime, revision: int) -> None:
        self.id = uuid.uuid4()
        self.case_id = case.id
        self.nomination_id = case.nomination_id
        self.round_id = case.round_id
        self.school_org_path = case.school_org_path
        self.school_name = case.school_name
        self.candidate_name = case.candidate_name
        self.stage_index = stage.index
        self.stage_key: str | None = stage.key
        self.stage_name = stage.name
        self.role = stage.role
        self.org_code = stage.org_code
        self.org_path = stage.org_path
        self.revision = revision
        self.status = OPEN
        self.assigned_at = at
        self.due_at = at + dt.timedelta(days=stage.due_days)
        self.overdue_at: dt.datetime | None = None
        self.decision: str | None = None
        self.opinion: str | None = None
        self.seal_unit_name: str | None = None
        self.seal_date: dt.date | None = None
        self.decided_by: str | None = None
        self.on_behalf_of: str | None = None
        self.decided_at: dt.datetime | None = None
        self.awaits_batch_from = stage.awaits_batch_from
        self.events: list[Any] = []

    def batch_hold(self, in_sent_batch: bool) -> str | None:
        """Why this task cannot be decided yet, or None: a stage that awaits a batch (焦作's city,
        「推荐表、汇总表各1份，报送至市教育局」) decides a form only once the body below it sent it up in its batch."""
        if self.awaits_batch_from is None or in_sent_batch:
            return None
        return (
            f"The form is in no batch sent by {self.awaits_batch_from} yet: the county sends its batch (报送) before"
            " the city decides / 所属县（市、区）教育局尚未报送此推荐表，市教育局暂不能审核"
        )

    def mark_overdue(
        self, at: dt.datetime, escalate_to_org_path: str | None, escalate_to_role: str | None = None
    ) -> bool:
        """Past due and still open: flag it once (a flagged task is never reported again)."""
        if self.status != OPEN or self.overdue_at is not None or self.due_at > at:
            return False
        self.overdue_at = at
        self.tell(events.TaskOverdue, escalate_to_org_path=escalate_to_org_path, escalate_to_role=escalate_to_role)
        return True

    def assigned_event(self) -> events.TaskAssigned:
        return events.TaskAssigned.from_aggregate(self, task_id=self.id)


@dataclass(frozen=True)
class Nominee:
    """Who the nomination names, as `nomination.submitted` tells it."""

    nomination_id: uuid.UUID
    round_id: uuid.UUID
    school_org_code: str
    school_org_path: str
    school_name: str
    candidate_user_id: str
    candidate_name: str
    revision: int = 1


class ReviewCase:
    """审核: a nomination moving through the chain of its round's policy, one open task at a time; or (kind
    `project_plan`) a unit's project plan through the chain of approvals' plan policy, `nomination_id` then being the
    plan's id and `candidate_name` its title."""

    def __init__(
        self,
        nominee: Nominee,
        policy: Policy,
        stages: list[ResolvedStage],
        at: dt.datetime,
        kind: str = CIO_NOMINATION,
    ) -> None:
        if not stages:
            raise DomainError("The policy's approval chain has no stages.", "policy")
        self.id = uuid.uuid4()
        self.kind = kind
        self.nomination_id = nominee.nomination_id
        self.round_id = nominee.round_id
        self.policy_id = policy.id
        self.school_org_code = nominee.school_org_code
        self.school_org_path = nominee.school_org_path
        self.school_name = nominee.school_name
        self.candidate_user_id = nominee.candidate_user_id
        self.candidate_name = nominee.candidate_name
        self.stages = [s.as_dict() for s in stages]
        self.resubmit_reenters = policy.resubmit_reenters
        self.current_stage = 0
        self.returned_at_stage: int | None = None
        self.status = IN_REVIEW
        self.revision = nominee.revision
        self.opened_at = at
        self.closed_at: dt.datetime | None = None
        self.tasks: list[ReviewTask] = []
        self.events: list[Any] = [
            events.CaseOpened.from_aggregate(
                self,
                case_id=self.id,
                stages=[
                    {k: s[k] for k in ("index", "key", "name", "role", "org_code", "org_path", "due_days")}
                    for s in self.stages
                ],
            )
        ]
        self._assign(0, at)

    # -- reading -------------------------------------------------------------------------------
    def stage(self, index: int) -> ResolvedStage:
        return ResolvedStage(**self.stages[index])

    @property
    def is_final_stage(self) -> bool:
        return self.current_stage == len(self.stages) - 1

    def task(self, task_id: uuid.UUID) -> ReviewTask:
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise DomainError("No such task in this case.", "task_id")

    def open_task(self) -> ReviewTask | None:
        return next((t for t in self.tasks if t.status == OPEN), None)

    # -- changing ------------------------------------------------------------------------------
    def _assign(self, index: int, at: dt.datetime) -> ReviewTask:
        self.current_stage = index
        task = ReviewTask(self, self.stage(index), at, self.revision)
        self.tasks.append(task)
        self.events.append(task.assigned_event())
        return task

    def decide(
        self,
        task_id: uuid.UUID,
        decision: str,
        *,
        opinion: str | None,
        seal: Seal | None,
        decided_by: str,
        on_behalf_of: str | None,
        at: dt.datetime,
    ) -> str:
        """Record one stage's decision and move the case: the next task, back to the school, or the end.

        Returns the case's outcome (in_review / returned / approved / rejected).
        """
        task = self.task(task_id)
        if task.status != OPEN or self.status != IN_REVIEW or task.stage_index != self.current_stage:
            raise StateConflict("This task was already decided or is no longer the current stage.", "task_id")
        if decision not in DECISIONS:
            raise DomainError(f"decision must be one of {', '.join(DECISIONS)}.", "decision")
        if decision in (RETURN, REJECT) and not (opinion and opinion.strip()):
            raise DomainError("An opinion (审核意见) is required to return or reject.", "opinion")
        task.status = DECIDED
        task.decision = decision
        task.opinion = opinion.strip() if opinion else None
        task.seal_unit_name = seal.unit_name if seal else None
        task.seal_date = seal.date if seal else None
        task.decided_by = decided_by
        task.on_behalf_of = on_behalf_of
        task.decided_at = at
        if decision == APPROVE and not self.is_final_stage:
            outcome = IN_REVIEW
        elif decision == APPROVE:
            outcome = APPROVED
        elif decision == RETURN:
            outcome = RETURNED
            self.returned_at_stage = task.stage_index
        else:
            outcome = REJECTED
        self.status = outcome
        if outcome in (APPROVED, REJECTED):
            self.closed_at = at
        # the task, just decided, holds the decision, who decided, when, and its case's round and school
        self.events.append(events.ReviewDecided.from_aggregate(task, task_id=task.id, outcome=outcome, kind=self.kind))
        if outcome == IN_REVIEW:
            self._assign(task.stage_index + 1, at)
        return outcome

    def resubmit(self, revision: int, returned_at_stage: int | None, at: dt.datetime) -> bool:
        """The school answered a return: re-enter the chain where the policy says. False if already applied."""
        if revision <= self.revision:
            return False
        if self.status != RETURNED:
            raise StateConflict(f"Only a returned case can be resubmitted; this one is {self.status}.")
        self.revision = revision
        self.status = IN_REVIEW
        if self.resubmit_reenters == RESUBMIT_RETURNING:
            stage = self.returned_at_stage if self.returned_at_stage is not None else returned_at_stage
            index = stage if stage is not None and 0 <= stage < len(self.stages) else 0
        else:
            index = 0
        self._assign(index, at)
        return True

    def cancel(self, at: dt.datetime) -> bool:
        """The school withdrew the nomination: close the case and its open task. False if already closed."""
        if self.status in (APPROVED, REJECTED, CANCELLED):
            return False
        for task in self.tasks:
            if task.status == OPEN:
                task.status = CANCELLED
        self.status = CANCELLED
        self.closed_at = at
        return True


def _cadences(policy: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The evaluations the appointment's policy orders, for the reminders; None when the snapshot has none.
    `subject` school is the school's assessment (每2年对学校信息化工作考核一次), not the CIO's to be reminded of."""
    evaluation = policy.get("evaluation")
    if not isinstance(evaluation, dict):
        return None
    return [
        {"kind": c.get("kind"), "every_years": c.get("every_years"), "subject": c.get("subject") or "cio"}
        for c in evaluation.get("cadences") or []
        if isinstance(c, dict)
    ]


# A platform sanity ceiling, not a policy rule: a term chosen at appointment longer than this is a typo.
MAX_CHOSEN_TERM_YEARS = 10


def term_length(term: TermPolicy, chosen: int | None) -> int | None:
    """The term's length in years: the policy's, or the one the appointing body chose where the policy lets it
    (贺兰 「每届任期一般不少于3年」: at least the policy's length)."""
    if chosen is None:
        return term.length_years
    if not term.length_chosen_at_appointment or term.length_years is None:
        raise DomainError(
            "This policy sets the term; it is not chosen at appointment / 任期由政策规定，不可另行选择.", "term_years"
        )
    if chosen < term.length_years:
        raise DomainError(
            f"The term is at least {term.length_years} years (一般不少于{term.length_years}年).", "term_years"
        )
    if chosen > MAX_CHOSEN_TERM_YEARS:
        raise DomainError(f"A term is at most {MAX_CHOSEN_TERM_YEARS} years / 任期过长.", "term_years")
    return chosen


@dataclass(eq=False, repr=False, kw_only=True)
class Appointment(EventSource):
    """聘任: a person appointed CIO of an org for one term, by an official document (发文字号).

    A policy without a term length (Jiaozuo) makes an open-ended appointment: `ends_on` is None and it
    lasts until revoked. The rules of the term come from the round's policy snapshot, parsed by the
    service layer and passed in (`term`, `training_requirement`, and `term_years` where the appointing body
    chooses the length), so this class never reads the snapshot's shape itself.

    A dataclass (identity equality, no generated repr: a mapped entity), its fields are its persisted state; what it
    sets itself (`id`, the end of the term, the status, the timestamps) is set in `__post_init__` (a plain
    class-level default would not survive the mapping, which replaces the class attributes).
    """

    person_user_id: str
    person_name: str
    org_code: str
    org_path: str
    term_number: int
    starts_on: dt.date
    term: InitVar[TermPolicy]
    training_requirement: InitVar[dict[str, Any]]
    document_number: str
    round_id: uuid.UUID | None
    nomination_id: uuid.UUID | None
    case_id: uuid.UUID | None
    policy: dict[str, Any]
    policy_id: str
    appointing_role: str
    appointing_org_path: str
    previous_appointment_id: uuid.UUID | None = None
    term_years: InitVar[int | None] = None
    at: InitVar[dt.datetime]
    id: uuid.UUID = field(init=False, default_factory=uuid.uuid4)
    ends_on: dt.date | None = field(init=False)
    status: str = field(init=False)
    ended_on: dt.date | None = field(init=False)
    end_reason: str | None = field(init=False)
    end_note: str | None = field(init=False)
    ended_by: str | None = field(init=False)
    revoked_reason: str | None = field(init=False)
    revoked_by: str | None = field(init=False)
    created_at: dt.datetime = field(init=False)
    updated_at: dt.datetime = field(init=False)
    version: int = field(init=False)  # kept by the mapper (optimistic concurrency)
    events: list[Any] = field(init=False, default_factory=list)

    def __post_init__(
        self, term: TermPolicy, training_requirement: dict[str, Any], term_years: int | None, at: dt.datetime
    ) -> None:
        if not self.document_number.strip():
            raise DomainError("The document number (发文字号) is required.", "document_number")
        self.starts_on, self.ends_on = term_dates(self.starts_on, term_length(term, term_years))
        self.document_number = self.document_number.strip()
        self.status = ACTIVE
        self.ended_on = None
        self.end_reason = None
        self.end_note = None
        self.ended_by = None
        self.revoked_reason = None
        self.revoked_by = None
        self.created_at = at
        self.updated_at = at
        self.tell(
            events.AppointmentMade if self.previous_appointment_id is None else events.AppointmentRenewed,
            round_id=str(self.round_id) if self.round_id else "",
            nomination_id=str(self.nomination_id) if self.nomination_id else "",
            training_requirement=dict(training_requirement),
            evaluation_cadences=_cadences(self.policy),
        )

    @classmethod
    def of_case(
        cls,
        case: ReviewCase,
        stage: ResolvedStage,
        policy: Policy,
        snapshot: dict[str, Any],
        *,
        term_number: int,
        starts_on: dt.date,
        document_number: str,
        previous_appointment_id: uuid.UUID | None,
        term_years: int | None,
        at: dt.datetime,
    ) -> Appointment:
        """The appointment a case's final approval makes: its candidate at its school, under the round's policy
        (`policy`, parsed from its `snapshot`), by the body of the final `stage`."""
        return cls(
            person_user_id=case.candidate_user_id,
            person_name=case.candidate_name,
            org_code=case.school_org_code,
            org_path=case.school_org_path,
            term_number=term_number,
            starts_on=starts_on,
            term=policy.term,
            training_requirement=policy.training_requirement,
            document_number=document_number,
            round_id=case.round_id,
            nomination_id=case.nomination_id,
            case_id=case.id,
            policy=snapshot,
            policy_id=policy.id,
            appointing_role=stage.role,
            appointing_org_path=stage.org_path,
            previous_appointment_id=previous_appointment_id,
            term_years=term_years,
            at=at,
        )

    def _require_active(self) -> None:
        if self.status != ACTIVE:
            raise StateConflict(f"The appointment is {self.status}, not active.", "status")

    def renew(
        self, document_number: str, term: TermPolicy, training_requirement: dict[str, Any], by: str, at: dt.datetime
    ) -> Appointment:
        """连任: the next term, starting the day after this one ends, if the policy's limit allows it.

        `term` and `training_requirement` are this appointment's policy (the snapshot it was made under).
        """
        self._require_active()
        if self.ends_on is None or term.open_ended:
            raise DomainError(
                f"This appointment has no term end under policy {self.policy_id} (no term is set; it lasts "
                "until revoked), so there is nothing to renew / 该任命未设任期，无需连任.",
                "ends_on",
            )
        if not term.renewable:
            raise DomainError(f"The policy {self.policy_id} does not allow renewal / 不可连任.", "term_number")
        if term.renewal_by_nomination:
            raise DomainError(
                f"Under policy {self.policy_id} 连聘 goes through the whole chain again: open a nomination for "
                "the next term (校长提名 → 校长办公会审议 → 党委常委会批准), not a single renewal.",
                "policy",
            )
        limit = term.max_consecutive_terms
        if limit is not None and self.term_number + 1 > limit:
            raise DomainError(
                f"The policy {self.policy_id} allows at most {limit} consecutive terms (连任不超过{limit}届); "
                f"this would be term {self.term_number + 1}.",
                "term_number",
            )
        following = self.next_on_post(
            self.person_user_id,
            self.person_name,
            term_number=self.term_number + 1,
            starts_on=self.ends_on + dt.timedelta(days=1),
            term=term,
            training_requirement=training_requirement,
            document_number=document_number,
            at=at,
            renewal=True,
        )
        self.status = RENEWED
        self.updated_at = at
        return following

    def next_on_post(
        self,
        person_user_id: str,
        person_name: str,
        *,
        term_number: int,
        starts_on: dt.date,
        term: TermPolicy,
        training_requirement: dict[str, Any],
        document_number: str,
        at: dt.datetime,
        renewal: bool = False,
    ) -> Appointment:
        """The next appointment to this org under this one's policy snapshot and appointing body: a renewal (连任)
        keeps the nomination it came from and follows this appointment; a new person's (an acknowledged change of
        person) comes from no nomination."""
        return Appointment(
            person_user_id=person_user_id,
            person_name=person_name,
            org_code=self.org_code,
            org_path=self.org_path,
            term_number=term_number,
            starts_on=starts_on,
            term=term,
            training_requirement=training_requirement,
            document_number=document_number,
            round_id=self.round_id,
            nomination_id=self.nomination_id if renewal else None,
            case_id=self.case_id if renewal else None,
            policy=self.policy,
            policy_id=self.policy_id,
            appointing_role=self.appointing_role,
            appointing_org_path=self.appointing_org_path,
            previous_appointment_id=self.id if renewal else None,
            at=at,
        )

    def file_change(self, change: str, details: dict[str, Any] | None, by: str, at: dt.datetime) -> None:
        """变更报备: a change during the term is filed with the appointing bureau (the event tells it whom:
        `bureau_role` at `bureau_org_path`, the final stage that appointed)."""
        self._require_active()
        if not change.strip():
            raise DomainError("Say what changed.", "change")
        self.updated_at = at
        self.tell(
            events.AppointmentFiled,
            change=change.strip(),
            filed_by=by,
            filed_at=at,
            details=details,
            bureau_org_path=self.appointing_org_path,
            bureau_role=self.appointing_role,
        )

    def revoke(self, reason: str, by: str, at: dt.datetime) -> None:
        """取消任命, with the reason on record."""
        self._require_active()
        if not reason.strip():
            raise DomainError("A reason is required to revoke an appointment.", "reason")
        self.status = REVOKED
        self.revoked_reason = reason.strip()
        self.revoked_by = by
        self.ended_on = at.date()
        self.updated_at = at
        self.tell(events.AppointmentRevoked, reason=self.revoked_reason, revoked_by=by, revoked_at=at)

    def end_if_due(self, today: dt.date, at: dt.datetime) -> bool:
        """A term ends by itself after its last day; an open-ended appointment never does."""
        if self.status != ACTIVE or self.ends_on is None or self.ends_on >= today:
            return False
        self._close(ENDED, self.ends_on, TERM_EXPIRED, None, None, None, at)
        return True

    def dismiss(self, reason: str, note: str | None, by: str, at: dt.datetime, ended_on: dt.date | None = None) -> None:
        """免聘: the appointing body ends the appointment normally, for one of END_REASONS (left the school,
        retired, reassigned). Unlike 取消任命 it is no sanction: a plain `appointment.ended` with the reason."""
        self._require_active()
        if reason not in END_REASONS:
            raise DomainError(f"reason must be one of {', '.join(END_REASONS)}.", "reason")
        last_day = ended_on or at.date()
        if last_day < self.starts_on:
            raise DomainError("An appointment cannot end before it starts.", "ended_on")
        self._close(ENDED, last_day, reason, note, by, None, at)

    def hand_over(self, successor: Appointment, by: str, at: dt.datetime, reason: str = SUCCEEDED) -> None:
        """换届 (or a filed change of person): the successor's appointment takes the org from its first day;
        this one's last day is the day before. The same person going on (连聘 by a new nomination) is a
        renewal: no `ended` event, so the person's `cio` grant is never taken away between the terms."""
        self._require_active()
        last_day = max(self.starts_on, successor.starts_on - dt.timedelta(days=1))
        if successor.person_user_id == self.person_user_id:
            self.status = RENEWED
            self.ended_on = last_day
            self.updated_at = at
            return
        self._close(ENDED, last_day, reason, None, by, str(successor.id), at)

    def _close(
        self,
        status: str,
        last_day: dt.date,
        reason: str,
        note: str | None,
        by: str | None,
        successor_id: str | None,
        at: dt.datetime,
    ) -> None:
        self.status = status
        self.ended_on = last_day
        self.end_reason = reason
        self.end_note = note.strip() if note and note.strip() else None
        self.ended_by = by
        self.updated_at = at
        self.tell(
            events.AppointmentEnded,
            reason=reason,
            reason_zh=REASONS_ZH.get(reason),
            ended_by=by,
            note=self.end_note,
            successor_appointment_id=successor_id,
        )


@dataclass(frozen=True)
class OrgNode:
    """An org of the local projection of identity's tree."""

    code: str
    name: str
    level: str
    path: str


class UnknownOrg(DomainError):
    """The org tree does not (yet) hold the org a stage needs; the event is retried later."""


def resolve_stages(policy: Policy, school_org_path: str, orgs: dict[str, OrgNode]) -> list[ResolvedStage]:
    """Bind each stage to the nearest org of its level at or above the school (the county bureau
    containing the school, the city above it, the university itself…).

    A stage whose level the school's path does not have follows the policy's `when_missing`: `skip`
    passes on to the next body (市直各学校: a school directly under the city has no county), but only
    once every org on the path is known here, so a tree still on its way is waited for, never skipped.
    """
    codes = [c for c in school_org_path.strip("/").split("/") if c]
    path_known = all(c in orgs for c in codes)
    resolved: list[ResolvedStage] = []
    bound: dict[str, str] = {}  # policy stage key → the org path it was bound to (a skipped stage is absent)
    for position, stage in enumerate(policy.stages):
        node = next(
            (orgs[c] for c in reversed(codes) if c in orgs and orgs[c].level == stage.org_level),
            None,
        )
        if node is None and path_known and stage.when_missing == WHEN_MISSING_SKIP:
            continue
        if node is None:
            raise UnknownOrg(
                f"No {stage.org_level} org at or above {school_org_path} for stage {stage.key}.", "school_org_path"
            )
        bound[stage.key] = node.path
        # 报送: the body of the policy's previous stage sends the batch; a school without it (its stage skipped) waits
        # for nothing
        sender = bound.get(policy.stages[position - 1].key) if stage.awaits_batch and position > 0 else None
        escalation = stage.escalate_to
        target = None
        if escalation is not None and escalation.org_level:
            target = next(
                (orgs[c] for c in reversed(codes) if c in orgs and orgs[c].level == escalation.org_level), None
            )
        resolved.append(
            ResolvedStage(
                index=len(resolved),
                key=stage.key,
                name=stage.name,
                role=stage.role,
                org_code=node.code,
                org_path=node.path,
                due_days=stage.due_days,
                escalate_to_role=escalation.role if target is not None and escalation else None,
                escalate_to_org_path=target.path if target is not None else None,
                awaits_batch_from=sender,
            )
        )
    return _bind_next_stage_escalations(policy, resolved)


def _bind_next_stage_escalations(policy: Policy, resolved: list[ResolvedStage]) -> list[ResolvedStage]:
    """`escalate_to: next_stage`: the body that acts after this stage in this case's chain (a 市直 school's
    unit stage escalates to the city, its county being skipped); the last stage has none."""
    by_key = {s.key: s for s in policy.stages}
    bound = []
    for i, stage in enumerate(resolved):
        escalation = by_key[stage.key].escalate_to
        if escalation is not None and escalation.next_stage and i + 1 < len(resolved):
            after = resolved[i + 1]
            stage = replace(stage, escalate_to_role=after.role, escalate_to_org_path=after.org_path)
        bound.append(stage)
    return bound
