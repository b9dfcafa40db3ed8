"""Event handlers: the local projections of other services' facts, and the status from approvals' decisions.
identity's orgs and users go to the shared directory (shared.directory.apply).

Each runs inside the consumer's unit of work (which also claims the inbox row) and never commits itself.
Upserts keyed by the source's id make a replayed or reordered event harmless.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from nominations.adapters.orm import appointment_projection, certificate_projection
from nominations.service_layer.unit_of_work import NominationsUnitOfWork
from shared import directory
from shared.bus.consumer import Handler
from shared.contracts import ContractHandler, consumes
from shared.contracts.approvals import (
    AppointmentClosed,
    AppointmentEnded,
    AppointmentMade,
    AppointmentRenewed,
    AppointmentRevoked,
    ReviewDecided,
)
from shared.contracts.training import CertificateClaimRejected, CertificateIssued, CertificateRevoked

log = logging.getLogger(__name__)


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _certificate(event: CertificateIssued | CertificateRevoked) -> dict[str, Any]:
    """What both certificate events name of the certificate: enough for a row even when the revocation comes first."""
    return {
        "certificate_id": event.certificate_id,
        "number": event.number,
        "person_user_id": uuid.UUID(event.person_user_id),
        "kind": event.kind,
        "level": event.level,
    }


@consumes(CertificateIssued)
def on_certificate_issued(event: CertificateIssued, uow: NominationsUnitOfWork) -> None:
    uow.directory.upsert(
        certificate_projection,
        "certificate_id",
        {
            **_certificate(event),
            "issuer": event.issuer,
            "issued_on": _date(event.issued_on),
            "expires_on": _date(event.expires_on),
            "revoked_at": None,
            "revoke_reason": None,
        },
    )


@consumes(CertificateRevoked)
def on_certificate_revoked(event: CertificateRevoked, uow: NominationsUnitOfWork) -> None:
    revoked_at = dt.datetime.fromisoformat(event.revoked_at) if event.revoked_at else _now()
    values = {"revoked_at": revoked_at, "revoke_reason": event.reason}
    if uow.directory.update(certificate_projection, "certificate_id", event.certificate_id, values) == 0:
        # Revoked before we saw it issued (events from different queues may cross): remember it revoked.
        uow.directory.upsert(
            certificate_projection,
            "certificate_id",
            {**_certificate(event), **values},
        )


def _appointment(event: AppointmentMade | AppointmentClosed) -> dict[str, Any]:
    """Whose term, where and which: what the events that make and close an appointment both name, so a closing
    seen before the making still leaves a row."""
    return {
        "appointment_id": event.appointment_id,
        "person_user_id": uuid.UUID(event.person_user_id),
        "org_code": event.org_code,
        "org_path": event.org_path,
        "term_number": int(event.term_number or 1),
    }


@consumes(AppointmentMade)
def on_appointment(event: AppointmentMade, uow: NominationsUnitOfWork) -> None:
    """approvals.appointment.made / .renewed: the person's terms at the org (for term limits)."""
    uow.directory.upsert(
        appointment_projection,
        "appointment_id",
        {
            **_appointment(event),
            "starts_on": _date(event.starts_on),
            "ends_on": _date(event.ends_on),
            "status": "active",
            "policy_id": event.policy_id,
            "updated_at": _now(),
        },
    )


def _appointment_closed(status: str) -> ContractHandler:
    @consumes(AppointmentClosed)
    def handle(event: AppointmentClosed, uow: NominationsUnitOfWork) -> None:
        values: dict[str, Any] = {"status": status, "updated_at": _now()}
        if event.ended_on:
            values["ends_on"] = _date(event.ended_on)
        if uow.directory.update(appointment_projection, "appointment_id", event.appointment_id, values) == 0:
            uow.directory.upsert(
                appointment_projection,
                "appointment_id",
                {**_appointment(event), **values},
            )

    return handle


on_appointment_ended = _appointment_closed("ended")
on_appointment_revoked = _appointment_closed("revoked")


@consumes(ReviewDecided)
def on_review_decided(event: ReviewDecided, uow: NominationsUnitOfWork) -> None:
    """approvals.review.decided: the nomination's status follows the case (under review, returned, decided)."""
    event_id = event.envelope.id if event.envelope else None
    nomination = uow.nominations.get(uuid.UUID(event.nomination_id), for_update=True)
    if nomination is None:
        log.warning("decision for an unknown nomination", extra={"nomination_id": event.nomination_id})
        return
    moved = nomination.apply_review(
        outcome=event.outcome,
        stage_index=event.stage_index,
        actor=event.decided_by or "approvals",
        details={
            "decision": event.decision,
            "stage_name": event.stage_name,
            "stage_index": event.stage_index,
            "stage_key": event.stage_key,
            "opinion": event.opinion,
            "seal_unit_name": event.seal_unit_name,
            "seal_date": event.seal_date,
            "case_id": event.case_id,
            "event_id": event_id,
        },
        now=dt.datetime.fromisoformat(event.decided_at) if event.decided_at else _now(),
    )
    if moved:
        uow.audit(
            "nomination.review_applied",
            actor=event.decided_by,
            target=str(nomination.id),
            details={"outcome": event.outcome, "event_id": event_id},
        )
    else:
        log.info("decision no longer applies", extra={"nomination_id": str(nomination.id), "status": nomination.status})


@consumes(CertificateClaimRejected)
def on_certificate_claim_rejected(event: CertificateClaimRejected, uow: NominationsUnitOfWork) -> None:
    """training.certificate.claim_rejected: the claim on the form shows rejected with the administrator's reason."""
    envelope = event.envelope
    nomination = uow.nominations.get(uuid.UUID(event.nomination_id), for_update=True)
    if nomination is None:
        log.warning("claim rejected for an unknown nomination", extra={"nomination_id": event.nomination_id})
        return
    if nomination.reject_certificate_claim(
        event.claim_id,
        event.note or "",
        actor=event.decided_by or "training",
        now=dt.datetime.fromisoformat(envelope.time) if envelope else _now(),
    ):
        uow.audit(
            "nomination.certificate_claim_rejected",
            actor=event.decided_by,
            target=str(nomination.id),
            details={"claim_id": event.claim_id, "reason": event.note, "event_id": envelope.id if envelope else None},
        )


PROJECTION_HANDLERS: dict[str, Handler] = {
    # who may be picked as a candidate and their prefilled data; org paths and levels (the shared directory)
    "identity.user.provisioned": directory.apply,
    "identity.user.updated": directory.apply,
    "identity.org.upserted": directory.apply,
    CertificateIssued.event_type: on_certificate_issued,
    CertificateRevoked.event_type: on_certificate_revoked,
    CertificateClaimRejected.event_type: on_certificate_claim_rejected,
    AppointmentMade.event_type: on_appointment,
    AppointmentRenewed.event_type: on_appointment,
    AppointmentEnded.event_type: on_appointment_ended,
    AppointmentRevoked.event_type: on_appointment_revoked,
}
REVIEW_HANDLERS: dict[str, Handler] = {ReviewDecided.event_type: on_review_decided}
