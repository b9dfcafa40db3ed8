"""Who holds the org's CIO post after a final approval or an acknowledged change: 换届, 连聘, a new person.

The final approval of a later round's nomination for an org that already has a CIO is a succession:
the current appointment ends the day before the new one starts (换届), or, when the same person is
appointed again, it is renewed (连聘连任 through the whole chain). The term number counts the person's
consecutive terms at the org across rounds (宜春学院 「连任不超过2届」), so a third consecutive term is
refused however it is reached, and an old run followed by a gap does not bar anyone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from approvals.adapters.policy_snapshot import parse_policy
from approvals.domain.model import SUCCEEDED, Appointment, DomainError, ResolvedStage, ReviewCase
from approvals.domain.policy import Policy
from approvals.domain.terms import consecutive_terms_before
from approvals.service_layer.handling import audit
from approvals.service_layer.unit_of_work import ApprovalsUnitOfWork
from shared.errors import Conflict, NotFound, field_error


def next_term_number(uow: ApprovalsUnitOfWork, policy: Policy, person: str, org_code: str, starts_on: dt.date) -> int:
    """The term a new appointment of `person` starting on `starts_on` would be, refused past the limit."""
    number = consecutive_terms_before(uow.appointments.terms_of(person, org_code), starts_on) + 1
    limit = policy.term.max_consecutive_terms
    if limit is not None and number > limit:
        raise DomainError(
            f"The policy {policy.id} allows at most {limit} consecutive terms (连任不超过{limit}届); "
            f"this would be consecutive term {number}.",
            "term_number",
        )
    return number


def appoint(
    uow: ApprovalsUnitOfWork,
    case: ReviewCase,
    stage: ResolvedStage,
    document_number: str,
    starts_on: dt.date | None,
    by: str,
    at: dt.datetime,
    term_years: int | None = None,
) -> Appointment:
    """The final approval's appointment (the caller holds the org's lock), succeeding whoever holds the post."""
    round_row = uow.projections.round(case.round_id)
    if round_row is None:
        raise NotFound("The case's round is unknown here.")
    policy = parse_policy(round_row.policy)
    current = uow.appointments.active_for_org(case.school_org_code)
    if current is not None and current.round_id == case.round_id:
        # 换届 is a later round's nomination; two cases of one round reaching the end is one too many
        raise Conflict(
            "This org already has an active CIO appointment from this round.",
            errors=[field_error("task_id", "the org already has an active CIO appointment")],
        )
    same_person = current is not None and current.person_user_id == case.candidate_user_id
    if starts_on is None:
        # 连聘 approved before the running term is over starts the day after it, not in the middle of it
        running_to = current.ends_on if current is not None and same_person else None
        starts_on = running_to + dt.timedelta(days=1) if running_to and running_to >= at.date() else at.date()
    term_number = next_term_number(uow, policy, case.candidate_user_id, case.school_org_code, starts_on)
    appointment = Appointment.of_case(
        case,
        stage,
        policy,
        dict(round_row.policy),
        term_number=term_number,
        starts_on=starts_on,
        document_number=document_number,
        previous_appointment_id=current.id if current is not None and same_person else None,
        term_years=term_years,
        at=at,
    )
    if current is not None:
        hand_over(uow, current, appointment, by, at, SUCCEEDED)
    uow.appointments.add(appointment)
    audit_made(uow, appointment, by, {"case_id": str(case.id)})
    return appointment


def hand_over(
    uow: ApprovalsUnitOfWork, current: Appointment, successor: Appointment, by: str, at: dt.datetime, reason: str
) -> None:
    """The current appointment gives the org to `successor`; flushed first, so the org's one active slot is
    free before the successor takes it."""
    current.hand_over(successor, by, at, reason)
    uow.flush()
    audit(
        uow,
        "appointment.renewed" if current.status == "renewed" else "appointment.ended",
        by,
        current,
        {
            "reason": current.end_reason or "renewed",
            "ended_on": current.ended_on.isoformat() if current.ended_on else None,
            "successor_appointment_id": str(successor.id),
        },
    )


def audit_made(uow: ApprovalsUnitOfWork, appointment: Appointment, by: str, details: dict[str, Any]) -> None:
    audit(
        uow,
        "appointment.made",
        by,
        appointment,
        {
            **details,
            "document_number": appointment.document_number,
            "term_number": appointment.term_number,
            "previous_appointment_id": str(appointment.previous_appointment_id)
            if appointment.previous_appointment_id
            else None,
            "starts_on": appointment.starts_on.isoformat(),
            "ends_on": appointment.ends_on.isoformat() if appointment.ends_on else None,
        },
    )
