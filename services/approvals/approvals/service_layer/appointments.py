"""Handlers of appointments (聘任) during their term: renewal, change filing, revocation, term end."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from approvals.adapters.policy_snapshot import PolicySnapshotError, parse_policy
from approvals.domain.model import Appointment, DomainError, now
from approvals.service_layer.reviews import _collisions, _commit, problem_of
from approvals.service_layer.unit_of_work import ApprovalsUnitOfWork
from shared.auth import Principal
from shared.errors import Forbidden, NotFound

ADMIN_ROLES = ("platform_admin",)


def _load(uow: ApprovalsUnitOfWork, principal: Principal, appointment_id: uuid.UUID) -> Appointment:
    appointment = uow.appointments.get(appointment_id, lock=True)
    if appointment is None or not principal.can(appointment.org_path):
        raise NotFound("No such appointment.")
    return appointment


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
    with uow, _collisions():
        current = _load(uow, principal, appointment_id)
        _require_appointing(principal, current)
        uow.appointments.lock_org(current.org_code)
        try:
            policy = parse_policy(current.policy)  # the snapshot the appointment was made under
        except PolicySnapshotError as exc:
            raise problem_of(DomainError(str(exc), "policy")) from exc
        try:
            following = current.renew(
                document_number, policy.term, policy.training_requirement, principal.subject, now()
            )
        except DomainError as exc:
            uow.rollback()
            raise problem_of(exc) from exc
        uow.flush()  # the old term leaves 'active' before the new one takes the org's one active slot
        uow.appointments.add(following)
        uow.audit(
            "appointment.renewed",
            actor=principal.subject,
            target_type="appointment",
            target_id=str(current.id),
            org_path=current.org_path,
            details={
                "next_appointment_id": str(following.id),
                "term_number": following.term_number,
                "document_number": following.document_number,
            },
        )
        uow.audit(
            "appointment.made",
            actor=principal.subject,
            target_type="appointment",
            target_id=str(following.id),
            org_path=following.org_path,
            details={
                "previous_appointment_id": str(current.id),
                "term_number": following.term_number,
                "starts_on": following.starts_on.isoformat(),
                "ends_on": following.ends_on.isoformat() if following.ends_on else None,
            },
        )
        _commit(uow)
        return following


def file_change(
    uow: ApprovalsUnitOfWork,
    principal: Principal,
    appointment_id: uuid.UUID,
    change: str,
    details: dict[str, Any] | None,
) -> Appointment:
    """变更报备: the school (or the bureau) records a change during the term; the bureau is notified by event."""
    with uow:
        appointment = _load(uow, principal, appointment_id)
        if not (
            principal.can(appointment.org_path, "school_admin", "liaison", *ADMIN_ROLES)
            or principal.can(appointment.appointing_org_path, appointment.appointing_role)
        ):
            raise Forbidden("Only the school or the appointing bureau files changes.")
        at = now()
        try:
            appointment.file_change(change, details, principal.subject, at)
        except DomainError as exc:
            raise problem_of(exc) from exc
        uow.appointments.add_filing(appointment.id, change.strip(), details, principal.subject, at)
        uow.audit(
            "appointment.filed",
            actor=principal.subject,
            target_type="appointment",
            target_id=str(appointment.id),
            org_path=appointment.org_path,
            details={"change": change.strip(), "details": details},
        )
        _commit(uow)
        return appointment


def revoke(uow: ApprovalsUnitOfWork, principal: Principal, appointment_id: uuid.UUID, reason: str) -> Appointment:
    """取消任命 with a reason."""
    with uow:
        appointment = _load(uow, principal, appointment_id)
        _require_appointing(principal, appointment)
        try:
            revoke_in(uow, appointment, reason, principal.subject, now())
        except DomainError as exc:
            raise problem_of(exc) from exc
        _commit(uow)
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
    uow.audit(
        "appointment.revoked",
        actor=by,
        target_type="appointment",
        target_id=str(appointment.id),
        org_path=appointment.org_path,
        details={"reason": reason, **(details or {})},
    )


def end_due_terms(
    uow_factory: Callable[[], ApprovalsUnitOfWork], today: dt.date | None = None, batch: int = 200
) -> int:
    """Worker timer: a term past its last day ends by itself (approvals.appointment.ended, once)."""
    total = 0
    while True:
        with uow_factory() as uow:
            at = now()
            found = uow.appointments.due_to_end(today or at.date(), batch)
            for appointment in found:
                if appointment.end_if_due(today or at.date(), at):
                    uow.audit(
                        "appointment.ended",
                        actor=None,
                        target_type="appointment",
                        target_id=str(appointment.id),
                        org_path=appointment.org_path,
                        details={"ended_on": appointment.ended_on.isoformat() if appointment.ended_on else None},
                    )
            uow.commit()
        total += len(found)
        if len(found) < batch:
            return total
