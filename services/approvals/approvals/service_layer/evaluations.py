"""Handlers of evaluations (测评 / 考核) and rectification (限期整改).

Who acts: the school side (school_admin of the appointment's org, or the CIO evaluated) opens the
evaluation and enters the self-assessment; the bureau side (an `evaluator`, or a reviewer role of a
bureau above the school, or the body that appointed) verifies, finalises and records the outcome of a
rectification. A school assessment (每2年对学校信息化工作考核一次, cadence subject `school`) has no appointment:
the bureau opens it for every school in scope through a campaign naming the round whose policy the schools follow.
A record outside the caller's subtree is 404; a visible one the caller may not act on
is 403. Every command is one transaction: the change, its events (outbox) and its audit rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from approvals.adapters import metrics
from approvals.adapters.policy_snapshot import PolicySnapshotError, parse_policy
from approvals.adapters.score_sheets import default_catalog
from approvals.domain.evaluation import (
    Evaluation,
    Evaluee,
    Invalid,
    Rectification,
    ScoreSheet,
    plan_school_assessments,
    sheet_for,
)
from approvals.domain.model import ACTIVE, Appointment, DomainError, now
from approvals.domain.policy import SUBJECT_SCHOOL, Policy
from approvals.service_layer.appointments import revoke_in
from approvals.service_layer.handling import audit, commit, in_batches, in_scope, page_window, problem_of, refusals
from approvals.service_layer.queries import appointments_within
from approvals.service_layer.unit_of_work import ApprovalsUnitOfWork
from shared.errors import Conflict, Forbidden, NotFound, ProblemError, Unprocessable, field_error
from shared.pagination import page
from shared.principal import Principal
from shared.scope import path_within

CheckVersion = Callable[[int], None]

SCHOOL_ROLES = ("school_admin", "cio")
EVALUATOR_ROLE = "evaluator"
FIRST_PERIOD = 2000


def _refusal(exc: DomainError) -> ProblemError:
    if isinstance(exc, Invalid):
        return Unprocessable(
            "The evaluation cannot be recorded as given.", errors=[field_error(f, m) for f, m in exc.errors]
        )
    return problem_of(exc)


# -- who may do what ------------------------------------------------------------------------------
def _visible(principal: Principal, org_path: str, person_user_id: str | None) -> bool:
    return principal.can(org_path) or (person_user_id is not None and principal.subject == person_user_id)


def _school_side(principal: Principal, org_path: str, person_user_id: str | None) -> bool:
    return principal.can(org_path, *SCHOOL_ROLES) or (
        person_user_id is not None and principal.subject == person_user_id
    )


def _above_school(principal: Principal, org_path: str) -> bool:
    """An evaluator or a reviewer of a bureau above the school at `org_path`."""
    return any(
        (g.role == EVALUATOR_ROLE or g.role.endswith("_reviewer"))
        and path_within(org_path, g.org_path)
        and g.org_path.rstrip("/") != org_path.rstrip("/")
        for g in principal.grants
    )


def _bureau_side(principal: Principal, appointment: Appointment) -> bool:
    """An evaluator or a reviewer of a bureau above the school, or the body that appointed the CIO."""
    if principal.can(appointment.appointing_org_path, appointment.appointing_role):
        return True
    return _above_school(principal, appointment.org_path)


def _appointment(uow: ApprovalsUnitOfWork, appointment_id: uuid.UUID, lock: bool = False) -> Appointment:
    found = uow.appointments.get(appointment_id, lock=lock)
    if found is None:
        raise NotFound("No such appointment.")
    return found


def _policy(appointment: Appointment) -> Policy:
    try:
        return parse_policy(appointment.policy)  # the snapshot the appointment was made under
    except PolicySnapshotError as exc:
        raise problem_of(DomainError(str(exc), "policy")) from exc


def _load(uow: ApprovalsUnitOfWork, principal: Principal, evaluation_id: uuid.UUID, lock: bool = False) -> Evaluation:
    evaluation = uow.evaluations.get(evaluation_id, lock=lock)
    if evaluation is None or not _visible(principal, evaluation.org_path, evaluation.person_user_id):
        raise NotFound("No such evaluation.")
    return evaluation


def _require_bureau(principal: Principal, appointment: Appointment | None, org_path: str) -> None:
    """The bureau side of an appointment's evaluation, or of a school assessment (no appointment) at `org_path`."""
    allowed = _bureau_side(principal, appointment) if appointment is not None else _above_school(principal, org_path)
    if not allowed:
        raise Forbidden("Only the bureau's evaluator (or a reviewer of a bureau above the school) may do this.")


def _appointment_of(
    uow: ApprovalsUnitOfWork, appointment_id: uuid.UUID | None, lock: bool = False
) -> Appointment | None:
    """The appointment evaluated, or None for a school assessment."""
    return _appointment(uow, appointment_id, lock) if appointment_id is not None else None


def _round_policy(uow: ApprovalsUnitOfWork, round_id: uuid.UUID | None) -> tuple[Any, Policy]:
    """The round (projection row) and the policy snapshot it was opened with: a school assessment's policy."""
    found = uow.projections.round(round_id) if round_id is not None else None
    if found is None:
        raise Unprocessable(errors=[field_error("round_id", "no such round / 无此推荐批次")])
    try:
        return found, parse_policy(found.policy)
    except PolicySnapshotError as exc:
        raise problem_of(DomainError(str(exc), "round_id")) from exc


def _evaluation_policy(uow: ApprovalsUnitOfWork, evaluation: Evaluation, appointment: Appointment | None) -> Policy:
    return _policy(appointment) if appointment is not None else _round_policy(uow, evaluation.round_id)[1]


def _school_bureau(uow: ApprovalsUnitOfWork, evaluation: Evaluation | None) -> tuple[str | None, str | None]:
    """Who judges a school assessment's rectification: the final stage of the school's policy (Jiaozuo: the city's
    city_reviewer), at the org of that stage's level above the school; (None, None) when it cannot be resolved."""
    if evaluation is None or evaluation.round_id is None:
        return None, None
    found = uow.projections.round(evaluation.round_id)
    if found is None:
        return None, None
    try:
        final = parse_policy(found.policy).stages[-1]
    except PolicySnapshotError:
        return None, None
    body = next(
        (o for o in uow.projections.orgs_on_path(evaluation.org_path).values() if o.level == final.org_level), None
    )
    return (final.role, body.path) if body is not None else (None, None)


def _bureau_of(
    uow: ApprovalsUnitOfWork, rectification: Rectification, appointment: Appointment | None
) -> tuple[str | None, str | None]:
    """The body told of a rectification's report or overdue: the one that appointed the CIO, or for a school
    assessment the final stage of the school's policy."""
    if appointment is not None:
        return appointment.appointing_role, appointment.appointing_org_path
    return _school_bureau(uow, uow.evaluations.get(rectification.evaluation_id))


def _open_for(
    uow: ApprovalsUnitOfWork,
    principal: Principal,
    appointment: Appointment,
    kind: str,
    period: int,
    sheet: ScoreSheet,
    at: dt.datetime,
    details: dict[str, Any] | None = None,
) -> Evaluation:
    """Open an appointment's evaluation on `sheet` and audit it; a single opening and a campaign open alike, the
    single one adding what it checked (`details`) to the audit entry."""
    evaluation = Evaluation(
        Evaluee(
            appointment_id=appointment.id,
            person_user_id=appointment.person_user_id,
            person_name=appointment.person_name,
            org_code=appointment.org_code,
            org_path=appointment.org_path,
            policy_id=appointment.policy_id,
        ),
        kind,
        period,
        sheet,
        principal.subject,
        at,
    )
    uow.evaluations.add(evaluation)
    audit(
        uow,
        "evaluation.opened",
        principal.subject,
        evaluation,
        {"appointment_id": str(appointment.id), "kind": kind, "period": period, **(details or {})},
    )
    return evaluation


# -- commands -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Open:
    """Open the evaluation of `kind` (a cadence of the policy) for `period` (the year) of an appointment."""

    appointment_id: uuid.UUID
    kind: str
    period: int


def open_evaluation(uow: ApprovalsUnitOfWork, principal: Principal, cmd: Open) -> Evaluation:
    with uow:
        appointment = uow.appointments.get(cmd.appointment_id, lock=True)
        if appointment is None or not _visible(principal, appointment.org_path, appointment.person_user_id):
            raise Unprocessable(
                "No such appointment.", errors=[field_error("appointment_id", "no such appointment in your scope")]
            )
        if not (
            _school_side(principal, appointment.org_path, appointment.person_user_id)
            or _bureau_side(principal, appointment)
        ):
            raise Forbidden("Only the school or the bureau opens an evaluation.")
        if appointment.status != ACTIVE:
            raise Conflict(
                f"The appointment is {appointment.status}; only an active appointment is evaluated.",
                errors=[field_error("appointment_id", f"the appointment is {appointment.status}")],
            )
        at = now()
        errors = []
        if not appointment.starts_on.year <= cmd.period <= at.year:
            errors.append(
                field_error(
                    "period", f"must be a year from {appointment.starts_on.year} (the term's start) to {at.year}"
                )
            )
        policy = _policy(appointment)
        try:
            sheet = sheet_for(policy.evaluation, cmd.kind, default_catalog())
        except DomainError as exc:
            errors.append(field_error(exc.field or "kind", exc.message))
        if errors:
            raise Unprocessable("The evaluation cannot be opened.", errors=errors)
        cadence = policy.cadence(cmd.kind)
        assert cadence is not None  # sheet_for refused a kind the policy does not order
        if cadence.subject == SUBJECT_SCHOOL:
            raise Unprocessable(
                "The school assessment is the school's, not the appointment's.",
                errors=[
                    field_error(
                        "kind",
                        f"{cmd.kind} assesses the school (每2年对学校信息化工作考核一次): the bureau opens it for the "
                        "school with a campaign (POST /api/evaluations/campaigns with round_id)",
                    )
                ],
            )
        every = cadence.every_years
        clash = [p for p in uow.evaluations.periods_of(appointment.id, cmd.kind) if abs(p - cmd.period) < every]
        if clash:
            raise Conflict(
                f"This appointment already has a {cmd.kind} evaluation for {clash[0]} "
                f"(the policy orders one every {every} year(s)).",
                errors=[field_error("period", f"already evaluated for {clash[0]}")],
            )
        evaluation = _open_for(
            uow,
            principal,
            appointment,
            cmd.kind,
            cmd.period,
            sheet,
            at,
            {"sheet": sheet.source, "max_total": sheet.max_total},
        )
        commit(uow)
        return evaluation


@dataclass(frozen=True)
class SelfAssess:
    """自评: scores `[{code, score, evidence}]`, the summary, evidence files; `submit` hands it over."""

    evaluation_id: uuid.UUID
    scores: list[dict[str, Any]]
    summary: str | None
    evidence: list[dict[str, Any]] | None
    submit: bool


def self_assess(
    uow: ApprovalsUnitOfWork, principal: Principal, cmd: SelfAssess, check_version: CheckVersion
) -> Evaluation:
    with uow:
        evaluation = _load(uow, principal, cmd.evaluation_id, lock=True)
        check_version(evaluation.version)
        if not _school_side(principal, evaluation.org_path, evaluation.person_user_id):
            raise Forbidden("Only the school (its admin or the CIO evaluated) enters the self-assessment.")
        at = now()
        with refusals(_refusal):
            evaluation.enter_self_assessment(cmd.scores, cmd.summary, cmd.evidence, cmd.submit, principal.subject, at)
        audit(
            uow,
            "evaluation.submitted" if cmd.submit else "evaluation.self_assessed",
            principal.subject,
            evaluation,
            {"scores": cmd.scores, "self_total": evaluation.self_total, "summary": evaluation.summary},
        )
        commit(uow)
        return evaluation


@dataclass(frozen=True)
class Verify:
    """核查: scores `[{code, score, deduction_reason}]` and veto items `[{code, triggered, reason}]`."""

    evaluation_id: uuid.UUID
    scores: list[dict[str, Any]]
    vetoes: list[dict[str, Any]]


def verify(uow: ApprovalsUnitOfWork, principal: Principal, cmd: Verify, check_version: CheckVersion) -> Evaluation:
    with uow:
        evaluation = _load(uow, principal, cmd.evaluation_id, lock=True)
        check_version(evaluation.version)
        _require_bureau(principal, _appointment_of(uow, evaluation.appointment_id), evaluation.org_path)
        with refusals(_refusal):
            evaluation.enter_verification(cmd.scores, cmd.vetoes, principal.subject, now())
        audit(
            uow,
            "evaluation.verified",
            principal.subject,
            evaluation,
            {"scores": cmd.scores, "vetoes": cmd.vetoes, "verified_total": evaluation.verified_total},
        )
        commit(uow)
        return evaluation


@dataclass(frozen=True)
class Finalised:
    evaluation: Evaluation
    rectification: Rectification | None


def finalise(
    uow: ApprovalsUnitOfWork, principal: Principal, evaluation_id: uuid.UUID, check_version: CheckVersion
) -> Finalised:
    """Grade it and publish `approvals.evaluation.recorded`; 不合格 under a rectification policy also
    orders the rectification (`approvals.rectification.ordered`), in the same transaction."""
    with uow:
        evaluation = _load(uow, principal, evaluation_id, lock=True)
        check_version(evaluation.version)
        appointment = _appointment_of(uow, evaluation.appointment_id)
        _require_bureau(principal, appointment, evaluation.org_path)
        at = now()
        with refusals(_refusal):
            rectification = evaluation.finalise(
                _evaluation_policy(uow, evaluation, appointment).evaluation,
                default_catalog().default_rectification_due_days,
                principal.subject,
                at,
            )
        audit(
            uow,
            "evaluation.finalised",
            principal.subject,
            evaluation,
            {
                "verified_total": evaluation.verified_total,
                "grade": evaluation.grade,
                "vetoed": evaluation.vetoed,
            },
        )
        if rectification is not None:
            uow.rectifications.add(rectification)
            for record in (evaluation, rectification):
                audit(
                    uow,
                    "rectification.ordered",
                    principal.subject,
                    record,
                    {
                        "rectification_id": str(rectification.id),
                        "due_on": rectification.due_on.isoformat(),
                        "reason": rectification.reason,
                    },
                )
        commit(uow)
        metrics.EVALUATIONS.labels(evaluation.kind, evaluation.grade or "").inc()
        return Finalised(evaluation, rectification)


@dataclass(frozen=True)
class Outcome:
    """整改验收: `passed` or `failed` (with the reason)."""

    rectification_id: uuid.UUID
    outcome: str
    notes: str | None


@dataclass(frozen=True)
class OutcomeRecorded:
    rectification: Rectification
    revoked: Appointment | None


def record_outcome(
    uow: ApprovalsUnitOfWork, principal: Principal, cmd: Outcome, check_version: CheckVersion
) -> OutcomeRecorded:
    """The bureau records the rectification's outcome; failed under a revoking policy (Jiaozuo) revokes
    the appointment through the one revocation path, all in this transaction. A school assessment's failed
    rectification revokes the school's active CIO, if it has one
    (信息化工作不合格者限期整改，整改不合格的取消首席信息官任命)."""
    with uow:
        rectification = in_scope(uow.rectifications.get(cmd.rectification_id, lock=True), principal, "rectification")
        check_version(rectification.version)
        appointment = _appointment_of(uow, rectification.appointment_id, lock=True)
        _require_bureau(principal, appointment, rectification.org_path)
        if appointment is None:
            appointment = uow.appointments.active_for_org(rectification.org_code)
        at = now()
        with refusals(_refusal):
            revoke = rectification.record_outcome(cmd.outcome, cmd.notes, principal.subject, at)
        audit(
            uow,
            f"rectification.{rectification.status}",
            principal.subject,
            rectification,
            {"notes": rectification.outcome_notes, "revokes_appointment": revoke},
        )
        revoked: Appointment | None = None
        if revoke and appointment is not None and appointment.status == ACTIVE:
            revoke_in(
                uow,
                appointment,
                rectification.revocation_reason(),
                principal.subject,
                at,
                details={"rectification_id": str(rectification.id), "evaluation_id": str(rectification.evaluation_id)},
            )
            revoked = appointment
        commit(uow)
        return OutcomeRecorded(rectification, revoked)


@dataclass(frozen=True)
class Report:
    """整改报告 with its attachments: (filename, bytes) as uploaded."""

    rectification_id: uuid.UUID
    text: str
    files: tuple[tuple[str, bytes], ...]


def sniff_attachment(content: bytes, filename: str) -> str | None:
    """The attachment's type by its magic bytes (docx/xlsx are zip files: told apart by the name's suffix)."""
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"PK\x03\x04"):
        lower = filename.lower()
        if lower.endswith(".docx"):
            return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        if lower.endswith(".xlsx"):
            return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return None


def report_rectification(uow: ApprovalsUnitOfWork, principal: Principal, cmd: Report) -> Rectification:
    """The school (its administrator or the CIO) reports its rectification; the bureau is told
    (`approvals.rectification.reported`) and judges it with the outcome."""
    with uow:
        rectification = in_scope(uow.rectifications.get(cmd.rectification_id, lock=True), principal, "rectification")
        appointment = _appointment_of(uow, rectification.appointment_id)
        person = appointment.person_user_id if appointment is not None else None
        if not _school_side(principal, rectification.org_path, person):
            raise Forbidden("Only the school reports its rectification.")
        files = []
        for filename, content in cmd.files:
            name = (filename or "attachment").rsplit("/", 1)[-1][:200]
            files.append(
                {
                    "filename": name,
                    "content_type": sniff_attachment(content, name) or "application/octet-stream",
                    "size": len(content),
                    "sha256": hashlib.sha256(content).hexdigest(),
                    "data": content,
                }
            )
        at = now()
        bureau_role, bureau_org_path = _bureau_of(uow, rectification, appointment)
        with refusals(_refusal):
            rectification.report(cmd.text, files, principal.subject, at, bureau_role, bureau_org_path)
        uow.rectifications.replace_attachments(rectification.id, files, at)
        audit(
            uow,
            "rectification.reported",
            principal.subject,
            rectification,
            {"attachments": [{k: f[k] for k in ("filename", "content_type", "size", "sha256")} for f in files]},
        )
        commit(uow)
        return rectification


def rectification_report(uow: ApprovalsUnitOfWork, principal: Principal, rectification_id: uuid.UUID) -> dict[str, Any]:
    with uow:
        found = in_scope(uow.rectifications.get(rectification_id), principal, "rectification")
        if found.reported_at is None:
            raise NotFound("No report yet.")
        return {
            "rectification_id": found.id,
            "text": found.report_text,
            "reported_by": found.reported_by,
            "reported_at": found.reported_at,
            "attachments": [dict(row._mapping) for row in uow.rectifications.attachments(found.id)],
        }


def rectification_attachment(
    uow: ApprovalsUnitOfWork, principal: Principal, rectification_id: uuid.UUID, attachment_id: uuid.UUID
) -> tuple[str, str, bytes]:
    with uow:
        in_scope(uow.rectifications.get(rectification_id), principal, "rectification")
        row = uow.rectifications.attachment(rectification_id, attachment_id)
        if row is None:
            raise NotFound("No such attachment.")
        return row.filename, row.content_type, bytes(row.data)


def flag_overdue_rectifications(
    uow_factory: Callable[[], ApprovalsUnitOfWork], today: dt.date | None = None, batch: int = 200
) -> int:
    """Worker timer: a rectification past its due date with no outcome is flagged once (audit row;
    the open/overdue gauges show it)."""

    def flag(uow: ApprovalsUnitOfWork, at: dt.datetime) -> list[Rectification]:
        found = uow.rectifications.overdue_candidates(today or at.date(), batch)
        for rectification in found:
            appointment = uow.appointments.get(rectification.appointment_id) if rectification.appointment_id else None
            if rectification.mark_overdue(today or at.date(), at, *_bureau_of(uow, rectification, appointment)):
                audit(uow, "rectification.overdue", None, rectification, {"due_on": rectification.due_on.isoformat()})
        return found

    return in_batches(uow_factory, batch, flag)


# -- campaigns ------------------------------------------------------------------------------------
CAMPAIGN_ROLES = ("evaluator", "city_reviewer", "county_reviewer", "party_committee", "platform_admin")


@dataclass(frozen=True)
class Campaign:
    """「首席信息官每年组织一次测评」: the bureau opens `kind` for `period` for every active appointment in its subtree
    whose policy orders that evaluation. 「每2年对学校信息化工作考核一次」: with `round_id` (the round whose policy the
    schools follow), for every school in the subtree and the round's region, with or without a CIO."""

    org_code: str
    kind: str
    period: int
    round_id: uuid.UUID | None = None


def _school_scope(uow: ApprovalsUnitOfWork, org: Any, round_row: Any, policy: Policy) -> list[Any]:
    """The policy's units (schools; 宜春学院: the university) in the bureau's subtree and the round's region."""
    region = round_row.issuing_org_path
    return [
        o
        for o in uow.projections.orgs_within(org.path, policy.unit_levels)
        if region is None or path_within(o.path, region)
    ]


def _school_cadence(policy: Policy, cmd: Campaign) -> Any:
    """The policy's cadence of `kind` when it is a school assessment; None when the policy orders none (宜春学院)."""
    cadence = policy.cadence(cmd.kind)
    if cadence is not None and cadence.subject != SUBJECT_SCHOOL:
        raise Unprocessable(
            errors=[
                field_error(
                    "round_id",
                    f"{cmd.kind} evaluates each CIO (首席信息官每年组织一次测评): opened for every active appointment, "
                    "without a round",
                )
            ]
        )
    return cadence


def _no_school_kind(policies: list[Policy], cmd: Campaign) -> None:
    """A kind any of these policies orders about the school is refused without the round (no school would be
    opened: the CIOs' campaign walks appointments)."""
    if any((c := p.cadence(cmd.kind)) is not None and c.subject == SUBJECT_SCHOOL for p in policies):
        raise Unprocessable(
            errors=[
                field_error(
                    "round_id",
                    f"{cmd.kind} assesses the schools (每2年对学校信息化工作考核一次), with or without a CIO: "
                    "name the round whose policy they follow",
                )
            ]
        )


def _campaign_org(uow: ApprovalsUnitOfWork, principal: Principal, org_code: str, *roles: str) -> Any:
    org = uow.projections.org(org_code)
    if org is None or not principal.can(org.path, *roles):
        raise Unprocessable(errors=[field_error("org_code", "not a body you may run evaluations for / 无权组织测评")])
    return org


def open_campaign(uow: ApprovalsUnitOfWork, principal: Principal, cmd: Campaign) -> dict[str, Any]:
    """One act: an evaluation (its policy's score sheet) for each appointment in scope not yet evaluated for the
    period; appointments whose policy orders no such evaluation (宜春学院 orders none) are counted, not opened.
    With `round_id`, the school assessment of every school in scope instead (`_open_school_campaign`)."""
    with uow:
        org = _campaign_org(uow, principal, cmd.org_code, *CAMPAIGN_ROLES)
        at = now()
        if not FIRST_PERIOD <= cmd.period <= at.year:
            raise Unprocessable(errors=[field_error("period", f"must be a year from {FIRST_PERIOD} to {at.year}")])
        if cmd.round_id is not None:
            return _open_school_campaign(uow, principal, cmd, org, at)
        _no_school_kind(_region_policies(uow, org), cmd)
        active = appointments_within(uow, [org.path], status=ACTIVE)
        opened: list[str] = []
        already = not_ordered = not_started = 0
        for appointment in active:
            policy = _policy(appointment)
            _no_school_kind([policy], cmd)
            cadence = policy.cadence(cmd.kind)
            if cadence is None:
                not_ordered += 1
                continue
            if appointment.starts_on.year > cmd.period:
                not_started += 1
                continue
            periods = uow.evaluations.periods_of(appointment.id, cmd.kind)
            if any(abs(p - cmd.period) < cadence.every_years for p in periods):
                already += 1
                continue
            with refusals():
                sheet = sheet_for(policy.evaluation, cmd.kind, default_catalog())
            evaluation = _open_for(uow, principal, appointment, cmd.kind, cmd.period, sheet, at)
            opened.append(str(evaluation.id))
        audit(
            uow,
            "evaluation.campaign_opened",
            principal.subject,
            org,
            {"kind": cmd.kind, "period": cmd.period, "opened": len(opened), "already_open": already},
        )
        commit(uow)
    return {
        "org_code": cmd.org_code,
        "kind": cmd.kind,
        "period": cmd.period,
        "opened": len(opened),
        "already_open": already,
        "not_ordered": not_ordered,
        "not_started": not_started,
        "evaluation_ids": opened,
    }


def _region_policies(uow: ApprovalsUnitOfWork, org: Any) -> list[Policy]:
    """The policies of the rounds over or within the bureau's subtree (a snapshot approvals cannot read is skipped:
    it orders nothing here)."""
    found = []
    for row in uow.projections.rounds_touching(org.path):
        try:
            found.append(parse_policy(row.policy))
        except PolicySnapshotError:
            continue
    return found


def _open_school_campaign(
    uow: ApprovalsUnitOfWork, principal: Principal, cmd: Campaign, org: Any, at: dt.datetime
) -> dict[str, Any]:
    """每2年对学校信息化工作考核一次: a school assessment for every school in scope (an active CIO or not) not assessed
    within the policy's cadence, on the policy's score sheet; the round names the policy. Inside the caller's unit
    of work; commits it."""
    round_row, policy = _round_policy(uow, cmd.round_id)
    schools = _school_scope(uow, org, round_row, policy)
    cadence = _school_cadence(policy, cmd)
    opened: list[str] = []
    already: tuple[str, ...] = ()
    if cadence is not None:
        codes = [s.code for s in schools]
        plan = plan_school_assessments(cadence, codes, uow.evaluations.school_periods(codes, cmd.kind), cmd.period)
        already = plan.already
        with refusals():
            sheet = sheet_for(policy.evaluation, cmd.kind, default_catalog())
        by_code = {s.code: s for s in schools}
        for code in plan.to_open:
            school = by_code[code]
            evaluation = Evaluation(
                Evaluee.school(school.code, school.path, policy.id, round_row.round_id),
                cmd.kind,
                cmd.period,
                sheet,
                principal.subject,
                at,
            )
            uow.evaluations.add(evaluation)
            opened.append(str(evaluation.id))
            audit(
                uow,
                "evaluation.opened",
                principal.subject,
                evaluation,
                {
                    "subject": SUBJECT_SCHOOL,
                    "round_id": str(cmd.round_id),
                    "kind": cmd.kind,
                    "period": cmd.period,
                },
            )
    audit(
        uow,
        "evaluation.campaign_opened",
        principal.subject,
        org,
        {
            "kind": cmd.kind,
            "period": cmd.period,
            "round_id": str(cmd.round_id),
            "opened": len(opened),
            "already_open": len(already),
        },
    )
    commit(uow)
    return {
        "org_code": cmd.org_code,
        "kind": cmd.kind,
        "period": cmd.period,
        "round_id": cmd.round_id,
        "subject": SUBJECT_SCHOOL,
        "opened": len(opened),
        "already_open": len(already),
        "not_ordered": len(schools) if cadence is None else 0,
        "not_started": 0,
        "evaluation_ids": opened,
    }


def _school_overview(uow: ApprovalsUnitOfWork, cmd: Campaign, org: Any) -> dict[str, Any]:
    """完成情况 of a school assessment: every school in scope (with its CIO's name, or none) and its assessment."""
    round_row, policy = _round_policy(uow, cmd.round_id)
    schools = _school_scope(uow, org, round_row, policy)
    cadence = _school_cadence(policy, cmd)
    ordered = schools if cadence is not None else []
    found = {e.org_code: e for e in uow.evaluations.of_school_period([s.code for s in ordered], cmd.kind, cmd.period)}
    cios = {a.org_code: a for a in appointments_within(uow, [org.path], status=ACTIVE)}
    rows = []
    for school in ordered:
        cio = cios.get(school.code)
        rows.append(
            (
                {
                    "appointment_id": cio.id if cio is not None else None,
                    "org_code": school.code,
                    "org_name": school.name,
                    "org_path": school.path,
                    "person_name": cio.person_name if cio is not None else None,
                },
                found.get(school.code),
            )
        )
    return _overview(uow, cmd, rows, len(schools) - len(ordered))


def _overview(
    uow: ApprovalsUnitOfWork, cmd: Campaign, rows: list[tuple[dict[str, Any], Evaluation | None]], not_ordered: int
) -> dict[str, Any]:
    """The counts and the rows of a campaign's overview: (who, their evaluation of the period or None)."""
    counts = {"not_opened": 0, "self_assessment": 0, "submitted": 0, "finalised": 0}
    grades: dict[str, int] = {}
    rectifications = {"ordered": 0, "overdue": 0, "passed": 0, "failed": 0}
    items = []
    for who, evaluation in rows:
        state = evaluation.status if evaluation is not None else "not_opened"
        counts[state] = counts.get(state, 0) + 1
        rectification = uow.rectifications.of_evaluation(evaluation.id) if evaluation is not None else None
        if evaluation is not None and evaluation.grade:
            grades[evaluation.grade] = grades.get(evaluation.grade, 0) + 1
        if rectification is not None:
            rectifications[rectification.status] = rectifications.get(rectification.status, 0) + 1
            if rectification.overdue_at is not None and rectification.status == "ordered":
                rectifications["overdue"] += 1
        items.append(
            {
                **who,
                "evaluation_id": evaluation.id if evaluation is not None else None,
                "status": state,
                "grade": evaluation.grade if evaluation is not None else None,
                "rectification_status": rectification.status if rectification is not None else None,
            }
        )
    total = len(rows)
    return {
        "org_code": cmd.org_code,
        "kind": cmd.kind,
        "period": cmd.period,
        "round_id": cmd.round_id,
        "subject": SUBJECT_SCHOOL if cmd.round_id is not None else "cio",
        "total": total,
        "completed": counts["finalised"],
        "completion_rate": round(counts["finalised"] / total, 4) if total else None,
        "by_status": counts,
        "grades": grades,
        "rectifications": rectifications,
        "not_ordered": not_ordered,
        "items": items,
    }


def campaign_overview(uow: ApprovalsUnitOfWork, principal: Principal, cmd: Campaign) -> dict[str, Any]:
    """完成情况: each active appointment in scope whose policy orders `kind` (with `round_id`: each school in scope),
    with its evaluation's state for the period (not opened, self-assessment, submitted, finalised), the grades and
    the rectifications."""
    with uow:
        org = uow.projections.org(cmd.org_code)
        if org is None or not principal.can(org.path):
            raise NotFound("No such organisation.")
        if cmd.round_id is not None:
            return _school_overview(uow, cmd, org)
        _no_school_kind(_region_policies(uow, org), cmd)
        active = appointments_within(uow, [org.path], status=ACTIVE)
        ordered = []
        for appointment in active:
            policy = _policy(appointment)
            _no_school_kind([policy], cmd)
            if policy.cadence(cmd.kind) is not None:
                ordered.append(appointment)
        found = {e.appointment_id: e for e in uow.evaluations.of_period([a.id for a in ordered], cmd.kind, cmd.period)}
        rows: list[tuple[dict[str, Any], Evaluation | None]] = [
            (
                {
                    "appointment_id": a.id,
                    "org_code": a.org_code,
                    "org_path": a.org_path,
                    "person_name": a.person_name,
                },
                found.get(a.id),
            )
            for a in ordered
        ]
        return _overview(uow, cmd, rows, len(active) - len(ordered))


# -- reads ----------------------------------------------------------------------------------------
def view(evaluation: Evaluation, rectification: Rectification | None = None) -> dict[str, Any]:
    """The sheet and the entered scores side by side, as the score sheet (测评表) is read."""
    entered = {item["code"]: item for item in evaluation.items}
    indicators = []
    for indicator in evaluation.sheet["indicators"]:
        row = dict(indicator)
        row.update({k: v for k, v in entered.get(indicator["code"], {}).items() if k != "code"})
        row["scored"] = indicator["code"] in entered and not indicator["veto"]
        indicators.append(row)
    return {
        **{
            k: getattr(evaluation, k)
            for k in (
                "id",
                "appointment_id",
                "person_user_id",
                "person_name",
                "org_code",
                "org_path",
                "policy_id",
                "subject",
                "round_id",
                "kind",
                "period",
                "summary",
                "evidence",
                "status",
                "self_total",
                "verified_total",
                "vetoed",
                "grade",
                "created_by",
                "created_at",
                "submitted_by",
                "submitted_at",
                "verified_by",
                "finalised_by",
                "finalised_at",
                "updated_at",
                "version",
            )
        },
        "sheet_name": evaluation.sheet["name"],
        "sheet_source": evaluation.sheet["source"],
        "max_total": evaluation.sheet["max_total"],
        "indicators": indicators,
        "rectification": rectification,
    }


def get_evaluation(uow: ApprovalsUnitOfWork, principal: Principal, evaluation_id: uuid.UUID) -> dict[str, Any]:
    with uow:
        evaluation = _load(uow, principal, evaluation_id)
        return view(evaluation, uow.rectifications.of_evaluation(evaluation.id))


def list_evaluations(uow: ApprovalsUnitOfWork, principal: Principal, args: dict[str, Any]) -> dict[str, Any]:
    with uow:
        found = uow.evaluations.list_within(
            principal.paths(),
            person_user_id=principal.subject,
            filters=args,
            **page_window(args),
        )
        result = page(found, args["limit"], lambda e: [e.period, e.org_path, str(e.id)])
        result["items"] = [view(e) for e in result["items"]]
        return result


def evaluation_history(uow: ApprovalsUnitOfWork, principal: Principal, evaluation_id: uuid.UUID) -> list[Any]:
    with uow:
        evaluation = _load(uow, principal, evaluation_id)
        return uow.history("evaluation", [str(evaluation.id)])


def get_rectification(uow: ApprovalsUnitOfWork, principal: Principal, rectification_id: uuid.UUID) -> Rectification:
    with uow:
        found = in_scope(uow.rectifications.get(rectification_id), principal, "rectification")
        return found


def list_rectifications(uow: ApprovalsUnitOfWork, principal: Principal, args: dict[str, Any]) -> dict[str, Any]:
    with uow:
        found = uow.rectifications.list_within(principal.paths(), filters=args, **page_window(args))
    return page(found, args["limit"], lambda r: [r.due_on.isoformat(), str(r.id)])


def rectification_history(uow: ApprovalsUnitOfWork, principal: Principal, rectification_id: uuid.UUID) -> list[Any]:
    with uow:
        found = in_scope(uow.rectifications.get(rectification_id), principal, "rectification")
        return uow.history("rectification", [str(found.id)])
