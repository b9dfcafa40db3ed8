"""Handlers of the review chain: cases from nominations' events, decisions, delegation, overdue tasks.

Event handlers take `(event, uow)` and never commit (the consumer commits the inbox row with their
effects); command handlers open the unit of work, change aggregates and commit once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from approvals.adapters import metrics
from approvals.adapters.case_policies import case_policy
from approvals.adapters.policy_snapshot import parse_policy
from approvals.domain.model import (
    APPROVE,
    APPROVED,
    CIO_NOMINATION,
    PROJECT_PLAN,
    READ_ALL_ROLES,
    Appointment,
    DomainError,
    Nominee,
    ReviewCase,
    ReviewTask,
    Seal,
    StateConflict,
    now,
    resolve_stages,
)
from approvals.domain.policy import Policy, PublicationPolicy
from approvals.domain.publication import required_publication_hold
from approvals.service_layer import succession
from approvals.service_layer.handling import Target, audit, collisions, in_batches, refusals
from approvals.service_layer.unit_of_work import ApprovalsUnitOfWork
from shared.contracts import consumes
from shared.contracts.governance import PlanResubmitted, PlanSubmitted
from shared.contracts.nominations import (
    BatchSubmitted,
    NominationResubmitted,
    NominationSubmitted,
    NominationWithdrawn,
    RoundOpened,
)
from shared.errors import Conflict, Forbidden, NotFound, ProblemError, Unprocessable, field_error
from shared.principal import Principal


class NotYetKnown(RuntimeError):
    """An event refers to a round or org this service has not heard of yet; the consumer retries it later."""


# -- projections ---------------------------------------------------------------------------------
@consumes(RoundOpened)
def on_round_opened(event: RoundOpened, uow: ApprovalsUnitOfWork) -> None:
    """Keep the round's policy snapshot: cases of the round follow it even if the policy changes later."""
    # refuse (and park) a snapshot that does not match the one policy schema, or that we could not act on
    parse_policy(event.checked_policy())
    uow.projections.upsert_round(
        {
            "round_id": uuid.UUID(event.round_id),
            "title": event.title or "",
            "policy_id": event.policy_id or event.policy["id"],
            "policy_version": int(event.policy_version or event.policy.get("version") or 1),
            "policy": event.policy,
            "issuing_org_path": event.issuing_org_path,
            "opened_at": dt.datetime.fromisoformat(event.opens_at) if event.opens_at else now(),
        }
    )


# -- cases from nominations -----------------------------------------------------------------------
@consumes(NominationSubmitted)
def on_nomination_submitted(event: NominationSubmitted, uow: ApprovalsUnitOfWork) -> None:
    """Open the case and assign the first stage; a nomination has one case, however often the event comes."""
    nomination_id = uuid.UUID(event.nomination_id)
    if uow.cases.by_nomination(nomination_id) is not None:
        return
    round_row = uow.projections.round(uuid.UUID(event.round_id))
    if round_row is None:
        raise NotYetKnown(f"round {event.round_id} has not been opened here yet")
    case = _open_case(
        uow,
        Nominee(
            nomination_id=nomination_id,
            round_id=uuid.UUID(event.round_id),
            school_org_code=event.school_org_code,
            school_org_path=event.school_org_path,
            school_name=event.school_name or event.school_org_code,
            candidate_user_id=event.candidate_user_id,
            candidate_name=event.candidate_name or "",
            revision=int(event.revision or 1),
        ),
        parse_policy(round_row.policy),
    )
    audit(uow, "case.opened", event.submitted_by, case, {"nomination_id": str(nomination_id), "stages": case.stages})


def _open_case(uow: ApprovalsUnitOfWork, nominee: Nominee, policy: Policy, kind: str = CIO_NOMINATION) -> ReviewCase:
    """The case of a nomination (or a plan) on the policy's chain, its stages bound to the orgs at and above the
    school (an org not known here yet: `UnknownOrg`, retried), with its first task assigned."""
    path = nominee.school_org_path
    case = ReviewCase(nominee, policy, resolve_stages(policy, path, uow.projections.orgs_on_path(path)), now(), kind)
    uow.cases.add(case)
    return case


@consumes(NominationResubmitted)
def on_nomination_resubmitted(event: NominationResubmitted, uow: ApprovalsUnitOfWork) -> None:
    """The school answered a return: the case re-enters the chain where its policy says."""
    returned_at = int(event.returned_at_stage) if event.returned_at_stage is not None else None
    _resubmit(
        uow,
        event.nomination_id,
        event.revision,
        returned_at,
        event.submitted_by,
        lambda: on_nomination_submitted(event, uow),
    )


def _resubmit(
    uow: ApprovalsUnitOfWork,
    subject_id: str,
    revision: int | None,
    returned_at: int | None,
    by: str | None,
    open_instead: Callable[[], None],
) -> None:
    """A returned case sent again (the nomination or the plan `subject_id`): it re-enters the chain where its policy
    says, once. A case not opened here is opened instead, as the submission would have (`open_instead`)."""
    case = uow.cases.by_nomination(uuid.UUID(subject_id), lock=True)
    if case is None:
        open_instead()
    elif case.resubmit(int(revision or 2), returned_at, now()):
        audit(uow, "case.resubmitted", by, case, {"revision": case.revision, "stage_index": case.current_stage})


@consumes(NominationWithdrawn)
def on_nomination_withdrawn(event: NominationWithdrawn, uow: ApprovalsUnitOfWork) -> None:
    case = uow.cases.by_nomination(uuid.UUID(event.nomination_id), lock=True)
    if case is not None and case.cancel(now()):
        audit(uow, "case.cancelled", event.withdrawn_by, case, {"reason": "nomination withdrawn"})


@consumes(BatchSubmitted)
def on_batch_submitted(event: BatchSubmitted, uow: ApprovalsUnitOfWork) -> None:
    """报送: a county sent its batch to the city (焦作 「推荐表、汇总表各1份，报送至市教育局」); keep a receipt per
    nomination, so the city's stage decides these forms (a task awaiting a batch is held until then)."""
    for nomination_id in event.nomination_ids or []:
        uow.batch_receipts.record(
            {
                "nomination_id": uuid.UUID(nomination_id),
                "batch_id": uuid.UUID(event.batch_id),
                "round_id": uuid.UUID(event.round_id),
                "org_code": event.org_code,
                "org_path": event.org_path,
                "submitted_at": dt.datetime.fromisoformat(event.submitted_at) if event.submitted_at else now(),
            }
        )


# -- cases from governance: project plans ---------------------------------------------------------
# the rounds' ids name policy snapshots; a plan case has no round, so its round_id names its case policy (a value no
# round ever has: rounds get random UUIDs)
def _plan_policy_round_id(policy_id: str, version: int) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"cio:approvals:case-policy:{policy_id}:{version}")


@consumes(PlanSubmitted)
def on_plan_submitted(event: PlanSubmitted, uow: ApprovalsUnitOfWork) -> None:
    """信息化项目建设方案审核 (乌教发〔2023〕97号 「提前向市教育局提交项目建设方案，由市教育局组织相关人员对建设方案进行
    审核评估并提出合理化建议」): open a `project_plan` case on the chain of case_policies/project_plan.yaml; a plan has
    one case, however often the event comes."""
    plan_id = uuid.UUID(event.plan_id)
    if uow.cases.by_nomination(plan_id) is not None:
        return
    policy = case_policy(PROJECT_PLAN)
    case = _open_case(
        uow,
        Nominee(
            nomination_id=plan_id,
            round_id=_plan_policy_round_id(policy.id, policy.version),
            school_org_code=event.unit_org_code,
            school_org_path=event.unit_org_path,
            school_name=event.unit_name or event.unit_org_code,
            candidate_user_id=str(event.submitted_by),
            candidate_name=(event.title or "")[:100],
            revision=int(event.revision or 1),
        ),
        policy,
        PROJECT_PLAN,
    )
    audit(
        uow,
        "case.opened",
        event.submitted_by,
        case,
        {"plan_id": str(plan_id), "stages": case.stages, "flags": event.flags or []},
    )


@consumes(PlanResubmitted)
def on_plan_resubmitted(event: PlanResubmitted, uow: ApprovalsUnitOfWork) -> None:
    """The unit answered a return with a revised plan: its case starts the chain again (the policy's re-entry)."""
    _resubmit(uow, event.plan_id, event.revision, None, event.submitted_by, lambda: on_plan_submitted(event, uow))


# -- decisions ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Decide:
    """A reviewer's decision on one task: 审核意见 with seal and date; the final approver gives 发文字号."""

    task_id: uuid.UUID
    decision: str
    opinion: str | None = None
    seal_unit_name: str | None = None
    seal_date: dt.date | None = None
    document_number: str | None = None
    starts_on: dt.date | None = None
    term_years: int | None = None  # where the policy lets the appointing body choose the term (贺兰: ≥ 3)
    on_behalf_of: str | None = None  # the delegator's user id, when deciding for them (代为审核)


@dataclass(frozen=True)
class DecisionResult:
    case: ReviewCase
    task_id: uuid.UUID
    outcome: str
    appointment: Appointment | None
    decision: str = ""
    waited: float = 0.0  # seconds from the task's assignment to its decision


def _decide_in(uow: ApprovalsUnitOfWork, principal: Principal, cmd: Decide, at: dt.datetime) -> DecisionResult:
    case_id = uow.tasks.case_id_of(cmd.task_id)
    case = uow.cases.get(case_id, lock=True) if case_id is not None else None
    if case is None:
        raise NotFound("No such task.")
    task = case.task(cmd.task_id)
    # Only the stage's own role at the stage's org (or above it) decides: a delegation passes on no power
    # (the delegate holds the same role at the same org already), and a role taken away takes the right to
    # decide with it. Whoever may read the task (an auditor in scope) is refused with 403; anyone else does
    # not see it at all (404). Acting for an absent colleague is said explicitly (`on_behalf_of`) and must be
    # backed by that colleague's delegation in force, so the record names both people only when it is true.
    if not principal.can(task.org_path, task.role):
        if principal.can(task.org_path, *READ_ALL_ROLES):
            raise Forbidden(f"Only {task.role} at {task.org_path} decides this task.")
        raise NotFound("No such task.")
    on_behalf_of = cmd.on_behalf_of
    if on_behalf_of is not None and not uow.delegations.in_force(
        on_behalf_of, principal.subject, task.role, task.org_path, at.date()
    ):
        raise Unprocessable(
            "No delegation from that reviewer to you covers this task today.",
            errors=[field_error("on_behalf_of", "no delegation in force from this user for this task")],
        )
    if task.status == "open":
        # 报送: the city decides a county's form once the county has sent it up in its batch
        hold = task.batch_hold(bool(uow.batch_receipts.received([task.nomination_id])))
        if hold is not None:
            raise StateConflict(hold, "batch")
    seal = None
    if cmd.seal_unit_name:
        seal = Seal(cmd.seal_unit_name.strip(), cmd.seal_date or at.date())
    final = cmd.decision == APPROVE and case.is_final_stage and task.stage_index == case.current_stage
    appoints = case.kind == CIO_NOMINATION
    appointment: Appointment | None = None
    if final and not appoints and not (cmd.opinion and cmd.opinion.strip()):
        # 乌海: the city bureau reviews the plan 「并提出合理化建议」: the decision says them
        raise DomainError("The decision on a project plan gives the city bureau's advice (合理化建议).", "opinion")
    if final and appoints and task.status == "open" and case.status == "in_review":
        if not (cmd.document_number and cmd.document_number.strip()):
            raise DomainError(
                "The final approval issues the appointment: give its document number (发文字号).", "document_number"
            )
        # 名单公示: a listed person is appointed only after the period, with every objection resolved
        # and where the policy orders a 公示 before the appointment, nobody is appointed without one
        publication = uow.publications.of_case(case.id)
        round_row = uow.projections.round(case.round_id)
        ordered = parse_policy(round_row.policy).publication if round_row is not None else PublicationPolicy()
        hold = required_publication_hold(ordered, publication, case.id)
        if hold is None and publication is not None:
            hold = publication.hold_on(case.id, uow.publications.objections(publication.id), at.date())
        if hold is not None:
            raise StateConflict(hold, "publication")
        uow.appointments.lock_org(case.school_org_code)
    outcome = case.decide(
        cmd.task_id,
        cmd.decision,
        opinion=cmd.opinion,
        seal=seal,
        decided_by=principal.subject,
        on_behalf_of=on_behalf_of,
        at=at,
    )
    if outcome == APPROVED and appoints:
        assert cmd.document_number is not None
        appointment = succession.appoint(
            uow,
            case,
            case.stage(task.stage_index),
            cmd.document_number,
            cmd.starts_on,
            principal.subject,
            at,
            term_years=cmd.term_years,
        )
    audit(
        uow,
        "task.decided",
        principal.subject,
        case,
        {
            "task_id": str(task.id),
            "stage_index": task.stage_index,
            "decision": cmd.decision,
            "opinion": task.opinion,
            "seal_unit_name": task.seal_unit_name,
            "seal_date": task.seal_date.isoformat() if task.seal_date else None,
            "on_behalf_of": on_behalf_of,
            "outcome": outcome,
        },
    )
    waited = max(0.0, (at - task.assigned_at).total_seconds())
    return DecisionResult(
        case=case, task_id=task.id, outcome=outcome, appointment=appointment, decision=cmd.decision, waited=waited
    )


def _count(results: Sequence[DecisionResult]) -> None:
    """Decisions by outcome and time to decision, for committed decisions only (a refused or
    rolled-back one never happened)."""
    for result in results:
        metrics.DECISIONS.labels(result.decision).inc()
        metrics.TIME_TO_DECISION.observe(result.waited)


def decide(uow: ApprovalsUnitOfWork, principal: Principal, cmd: Decide) -> DecisionResult:
    """One decision, one transaction: the task, the case, the next task or the appointment, their events."""
    with uow, collisions():
        with refusals():
            result = _decide_in(uow, principal, cmd, now())
        uow.commit()
    _count([result])
    return result


def decide_many(uow: ApprovalsUnitOfWork, principal: Principal, cmds: Sequence[Decide]) -> list[DecisionResult]:
    """Bulk decision: all or nothing; a refused item names itself (`items.<n>.<field>`) and nothing is written."""
    errors: list[dict[str, Any]] = []
    statuses: list[int] = []
    results: list[DecisionResult] = []
    seen: set[uuid.UUID] = set()
    with uow, collisions():
        at = now()
        for index, cmd in enumerate(cmds):
            if cmd.task_id in seen:
                errors.append(field_error(f"items.{index}.task_id", "the same task twice"))
                statuses.append(422)
                continue
            seen.add(cmd.task_id)
            try:
                results.append(_decide_in(uow, principal, cmd, at))
            except DomainError as exc:
                errors.append(field_error(f"items.{index}.{exc.field or 'task_id'}", exc.message))
                statuses.append(exc.status)
            except ProblemError as exc:
                errors.append(field_error(f"items.{index}.task_id", exc.detail or exc.title))
                statuses.append(exc.status)
        if errors:
            status = next(s for s in (404, 403, 409, 422) if s in statuses or s == 422)
            raise ProblemError(
                "No decision was recorded: some items were refused.",
                errors=errors,
                status=status,
                title={404: "Not found", 403: "Forbidden", 409: "Conflict", 422: "Unprocessable content"}[status],
            )
        uow.commit()
    _count(results)
    return results


# -- delegation -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Delegate:
    """委托: the caller's tasks of `role` at `org_path` may be decided by `delegate_user_id` in the date range."""

    role: str
    org_path: str
    delegate_user_id: str
    starts_on: dt.date
    ends_on: dt.date


def delegate(uow: ApprovalsUnitOfWork, principal: Principal, cmd: Delegate) -> uuid.UUID:
    errors = []
    if not any(g.role == cmd.role and g.org_path == cmd.org_path for g in principal.grants):
        errors.append(field_error("role", "you do not hold this role at this org"))
    if cmd.ends_on < cmd.starts_on:
        errors.append(field_error("ends_on", "must not be before starts_on"))
    if cmd.delegate_user_id == principal.subject:
        errors.append(field_error("delegate_user_id", "cannot delegate to yourself"))
    with uow:
        if not errors and not uow.projections.holds(cmd.delegate_user_id, cmd.role, cmd.org_path):
            errors.append(field_error("delegate_user_id", "does not hold the same role at the same org"))
        if errors:
            raise Unprocessable("The delegation cannot be recorded.", errors=errors)
        delegation_id = uuid.uuid4()
        uow.delegations.add(
            {
                "id": delegation_id,
                "delegator_user_id": principal.subject,
                "delegate_user_id": cmd.delegate_user_id,
                "role": cmd.role,
                "org_path": cmd.org_path,
                "starts_on": cmd.starts_on,
                "ends_on": cmd.ends_on,
                "created_at": now(),
            }
        )
        audit(
            uow,
            "delegation.created",
            principal.subject,
            Target("delegation", delegation_id, cmd.org_path),
            {
                "delegate_user_id": cmd.delegate_user_id,
                "role": cmd.role,
                "starts_on": cmd.starts_on.isoformat(),
                "ends_on": cmd.ends_on.isoformat(),
            },
        )
        uow.commit()
    return delegation_id


def delegation_visible(principal: Principal, delegation: Any) -> bool:
    """Its two people, and whoever reads everything over its org (auditors, platform admins)."""
    return principal.subject in (delegation.delegator_user_id, delegation.delegate_user_id) or principal.can(
        delegation.org_path, *READ_ALL_ROLES
    )


def revoke_delegation(uow: ApprovalsUnitOfWork, principal: Principal, delegation_id: uuid.UUID) -> dict[str, Any]:
    """撤销委托: the delegator (or a platform admin over the org) ends the delegation now; from then
    on the delegate decides none of the delegator's tasks through it. A second revocation is 409."""
    with uow:
        found = uow.delegations.get(delegation_id, lock=True)
        if found is None or not delegation_visible(principal, found):
            raise NotFound("No such delegation.")
        if principal.subject != found.delegator_user_id and not principal.can(found.org_path, "platform_admin"):
            raise Forbidden("Only the delegator or a platform admin over the org revokes a delegation.")
        at = now()
        if not uow.delegations.revoke(found.id, at):
            raise Conflict(
                "The delegation was already revoked.",
                errors=[field_error("delegation_id", "already revoked")],
            )
        audit(
            uow,
            "delegation.revoked",
            principal.subject,
            Target("delegation", found.id, found.org_path),
            {
                "delegator_user_id": found.delegator_user_id,
                "delegate_user_id": found.delegate_user_id,
                "role": found.role,
            },
        )
        uow.commit()
    return {**found._asdict(), "revoked_at": at}


# -- timers ---------------------------------------------------------------------------------------
def mark_overdue_tasks(uow_factory: Callable[[], ApprovalsUnitOfWork], batch: int = 200) -> int:
    """Flag open tasks past their due date (approvals.task.overdue, once per task), naming the escalation
    target the round's policy gives the task's stage (approval.stages[].escalate_to), bound when the case
    opened; a stage without one (the top of its chain) escalates to nobody."""

    def flag(uow: ApprovalsUnitOfWork, at: dt.datetime) -> list[ReviewTask]:
        tasks = uow.tasks.overdue_candidates(at, batch)
        for task in tasks:
            case = uow.cases.get(task.case_id)
            stage = case.stages[task.stage_index] if case and task.stage_index < len(case.stages) else {}
            if task.mark_overdue(at, stage.get("escalate_to_org_path"), stage.get("escalate_to_role")):
                audit(uow, "task.overdue", None, task, {"task_id": str(task.id)})
        return tasks

    return in_batches(uow_factory, batch, flag)
