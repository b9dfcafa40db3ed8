"""Handlers of appointments (聘任) during their term: renewal, change filing, revocation, term end."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from approvals.adapters.policy_snapshot import PolicySnapshotError, parse_policy
from approvals.domain.filings import PERSON, ChangeFiling
from approvals.domain.model import CHANGED, Appointment, DomainError, now
from approvals.service_layer import succession
from approvals.service_layer.handling import audit, collisions, commit, in_batches, in_scope, problem_of, refusals
from approvals.service_layer.reviews import NotYetKnown
from approvals.service_layer.unit_of_work import ApprovalsUnitOfWork
from shared import directory
from shared.contracts import consumes
from shared.contracts.identity import UserUpdated
from shared.errors import Forbidden, NotFound
from shared.principal import Principal
from shared.scope import path_within

ADMIN_ROLES = ("platform_admin",)


def _load(uow: ApprovalsUnitOfWork, principal: Principal, appointment_id: uuid.UUID) -> Appointment:
    return in_scope(uow.appointments.get(appointment_id, lock=True), principal, "appointment")


def _require_appointing(principal: Principal, appointment: Appointment) -> None:
    """Renewal and revocation belong to the body that appointed (the final stage's role and org)."""
    if not (
        principal.can(appointment.appointing_org_path, appointment.appointing_role)
        or principal.can(appointment.org_path, *ADMIN_ROLES)
    ):
        raise Forbidden(f"Only {appointment.appointing_role} at {appointment.appointing_org_path} may do this.")


def renew(
    uow: ApprovalsUnitOfWork, principal: Principal, appointment_id: uuid.UUID, document_number: str
) -> Appointment:
    """连任: the next term if the policy's consecutive-term limit allows, else 422 with the reason
    (also for an open-ended appointment: there is no term to renew)."""
    with uow, collisions():
        current = _load(uow, principal, appointment_id)
        _require_appointing(principal, current)
        uow.appointments.lock_org(current.org_code)
        try:
            policy = parse_policy(current.policy)  # the snapshot the appointment was made under
        except PolicySnapshotError as exc:
            raise problem_of(DomainError(str(exc), "policy")) from exc
        with refusals(undo=uow.rollback):
            following = current.renew(
                document_number, policy.term, policy.training_requirement, principal.subject, now()
            )
        uow.flush()  # the old term leaves 'active' before the new one takes the org's one active slot
        uow.appointments.add(following)
        audit(
            uow,
            "appointment.renewed",
            principal.subject,
            current,
            {
                "next_appointment_id": str(following.id),
                "term_number": following.term_number,
                "document_number": following.document_number,
            },
        )
        audit(
            uow,
            "appointment.made",
            principal.subject,
            following,
            {
                "previous_appointment_id": str(current.id),
                "term_number": following.term_number,
                "starts_on": following.starts_on.isoformat(),
                "ends_on": following.ends_on.isoformat() if following.ends_on else None,
            },
        )
        commit(uow)
        return following


def _files_for_school(principal: Principal, appointment: Appointment) -> None:
    if not (
        principal.can(appointment.org_path, "school_admin", "liaison", *ADMIN_ROLES)
        or principal.can(appointment.appointing_org_path, appointment.appointing_role)
    ):
        raise Forbidden("Only the school or the appointing bureau files changes.")


@dataclass(frozen=True)
class FileChange:
    """变更报备: what changed (kind: person, post, contact), and for a new person who and from when."""

    appointment_id: uuid.UUID
    kind: str
    change: str
    details: dict[str, Any] | None = None
    new_person_user_id: str | None = None
    new_person_name: str | None = None
    effective_on: dt.date | None = None


def file_change(uow: ApprovalsUnitOfWork, principal: Principal, cmd: FileChange) -> ChangeFiling:
    """The school (or the bureau) files a change during the term; it answers the filing of that kind the
    school owes, if the directory raised one. The bureau is notified by `approvals.appointment.filed`."""
    with uow:
        appointment = _load(uow, principal, cmd.appointment_id)
        _files_for_school(principal, appointment)
        at = now()
        with refusals():
            filing = uow.appointments.owed_filing(appointment.id, cmd.kind)
            if filing is None:
                filing = ChangeFiling(appointment, cmd.kind, at)
                uow.appointments.add_filing(filing)
            filing.file(
                appointment,
                change=cmd.change,
                details=cmd.details,
                new_person_user_id=cmd.new_person_user_id,
                new_person_name=cmd.new_person_name,
                effective_on=cmd.effective_on,
                by=principal.subject,
                at=at,
            )
        uow.flush()
        audit(
            uow,
            "appointment.filed",
            principal.subject,
            appointment,
            {"filing_id": filing.id, "kind": filing.kind, "change": filing.change, "details": cmd.details},
        )
        commit(uow)
        return filing


@dataclass(frozen=True)
class DecideFiling:
    """The appointing bureau's answer to a 变更报备: acknowledge (备案) or reject, with its opinion; a new CIO's
    document number (发文字号) when a change of person is acknowledged."""

    appointment_id: uuid.UUID
    filing_id: int
    decision: str
    opinion: str | None = None
    document_number: str | None = None


def decide_filing(uow: ApprovalsUnitOfWork, principal: Principal, cmd: DecideFiling) -> ChangeFiling:
    """An acknowledged change of person ends the appointment (reason `changed`) and appoints the new CIO from
    the filing's effective date, in the same transaction."""
    with uow, collisions():
        appointment = _load(uow, principal, cmd.appointment_id)
        _require_appointing(principal, appointment)
        filing = uow.appointments.filing(appointment.id, cmd.filing_id, lock=True)
        if filing is None:
            raise NotFound("No such filing.")
        at = now()
        with refusals(undo=uow.rollback):
            filing.decide(
                appointment,
                cmd.decision,
                opinion=cmd.opinion,
                document_number=cmd.document_number,
                by=principal.subject,
                at=at,
            )
            if filing.changes_person:
                uow.appointments.lock_org(appointment.org_code)
                successor = _successor_of(uow, appointment, filing, principal.subject, at)
                filing.successor_appointment_id = successor.id
        audit(
            uow,
            f"appointment.filing_{filing.status}",
            principal.subject,
            appointment,
            {"filing_id": filing.id, "kind": filing.kind, "opinion": filing.opinion},
        )
        commit(uow)
        return filing


def _successor_of(
    uow: ApprovalsUnitOfWork, current: Appointment, filing: ChangeFiling, by: str, at: dt.datetime
) -> Appointment:
    try:
        policy = parse_policy(current.policy)
    except PolicySnapshotError as exc:
        raise DomainError(str(exc), "policy") from exc
    assert filing.new_person_user_id and filing.new_person_name and filing.document_number
    starts_on = max(filing.effective_on or at.date(), current.starts_on + dt.timedelta(days=1))
    successor = current.next_on_post(
        filing.new_person_user_id,
        filing.new_person_name,
        term_number=succession.next_term_number(uow, policy, filing.new_person_user_id, current.org_code, starts_on),
        starts_on=starts_on,
        term=policy.term,
        training_requirement=policy.training_requirement,
        document_number=filing.document_number,
        at=at,
    )
    succession.hand_over(uow, current, successor, by, at, CHANGED)
    uow.appointments.add(successor)
    succession.audit_made(uow, successor, by, {"filing_id": filing.id, "previous_cio": current.person_user_id})
    return successor


@consumes(UserUpdated)
def on_user_updated(event: UserUpdated, uow: ApprovalsUnitOfWork) -> None:
    """identity.user.updated: an appointed CIO whom the directory moved out of the school (or disabled) leaves
    the school a 变更报备 to make, where the appointment's policy asks for re-filing (贺兰县). Once per move."""
    user = event.user
    person = str(user.get("user_id") or "")
    if not person:
        return
    directory.on_user(event.data_as_sent(), uow.session)  # 停用 too: a disabled account's tokens are refused here
    appointed = uow.appointments.active_of_person(person)
    if not appointed:
        return
    home = uow.projections.org(user["org_code"]) if user.get("org_code") else None
    if user.get("org_code") and home is None:
        # moved to an org whose event has not reached us yet: retry rather than take it for "left"
        raise NotYetKnown(f"org {user['org_code']} is not known here yet")
    for appointment in appointed:
        still_there = user.get("is_active", True) and home is not None and path_within(home.path, appointment.org_path)
        if still_there or uow.appointments.owed_filing(appointment.id, PERSON) is not None:
            continue
        try:
            refiling = parse_policy(appointment.policy).term.change_requires_refiling
        except PolicySnapshotError:
            refiling = False
        if not refiling:
            continue
        where = home.name if home is not None else (user.get("org_code") or "—")
        why = (
            "首席信息官已离开本校（统一身份认证目录：" + (where if user.get("is_active", True) else "账号已停用") + "）"
        )
        filing = ChangeFiling.owed(appointment, why, now())
        uow.appointments.add_filing(filing)
        audit(
            uow,
            "appointment.filing_due",
            "system:directory",
            appointment,
            {"reason": why, "event_id": event.envelope.id if event.envelope else None},
        )


def dismiss(uow: ApprovalsUnitOfWork, principal: Principal, cmd: Dismiss) -> Appointment:
    """免聘: the appointing body ends the appointment for a reason (left the school, retired, reassigned)."""
    with uow:
        appointment = _load(uow, principal, cmd.appointment_id)
        _require_appointing(principal, appointment)
        with refusals():
            appointment.dismiss(cmd.reason, cmd.note, principal.subject, now(), cmd.ended_on)
        audit(
            uow,
            "appointment.ended",
            principal.subject,
            appointment,
            {"reason": cmd.reason, "note": appointment.end_note, "ended_on": str(appointment.ended_on)},
        )
        commit(uow)
        return appointment


@dataclass(frozen=True)
class Dismiss:
    appointment_id: uuid.UUID
    reason: str
    note: str | None = None
    ended_on: dt.date | None = None


def revoke(uow: ApprovalsUnitOfWork, principal: Principal, appointment_id: uuid.UUID, reason: str) -> Appointment:
    """取消任命 with a reason."""
    with uow:
        appointment = _load(uow, principal, appointment_id)
        _require_appointing(principal, appointment)
        with refusals():
            revoke_in(uow, appointment, reason, principal.subject, now())
        commit(uow)
        return appointment


def revoke_in(
    uow: ApprovalsUnitOfWork,
    appointment: Appointment,
    reason: str,
    by: str,
    at: dt.datetime,
    details: dict[str, Any] | None = None,
) -> None:
    """The one revocation path (the API's, and a failed rectification's): the appointment, its
    `approvals.appointment.revoked` event and the audit row, inside the caller's transaction."""
    appointment.revoke(reason, by, at)
    audit(uow, "appointment.revoked", by, appointment, {"reason": reason, **(details or {})})


def end_due_terms(
    uow_factory: Callable[[], ApprovalsUnitOfWork], today: dt.date | None = None, batch: int = 200
) -> int:
    """Worker timer: a term past its last day ends by itself (approvals.appointment.ended, once)."""

    def end(uow: ApprovalsUnitOfWork, at: dt.datetime) -> list[Appointment]:
        found = uow.appointments.due_to_end(today or at.date(), batch)
        for appointment in found:
            if appointment.end_if_due(today or at.date(), at):
                audit(
                    uow,
                    "appointment.ended",
                    None,
                    appointment,
                    {"ended_on": appointment.ended_on.isoformat() if appointment.ended_on else None},
                )
        return found

    return in_batches(uow_factory, batch, end)
