"""Event handlers: the local projections of other services' facts, and the status from approvals' decisions.

Each runs inside the consumer's unit of work (which also claims the inbox row) and never commits itself.
Upserts keyed by the source's id make a replayed or reordered event harmless.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from nominations.adapters.orm import appointment_projection, certificate_projection, org_projection, user_projection
from nominations.service_layer.unit_of_work import NominationsUnitOfWork
from shared.bus.envelope import CloudEvent

log = logging.getLogger(__name__)


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def on_user(event: CloudEvent, uow: NominationsUnitOfWork) -> None:
    """identity.user.provisioned / .updated: who may be picked as a candidate, and their prefilled data."""
    user = event.data["user"]
    uow.directory.upsert(
        user_projection,
        "user_id",
        {
            "user_id": uuid.UUID(user["user_id"]),
            "username": user["username"],
            "display_name": user["display_name"],
            "org_code": user.get("org_code"),
            "phone": user.get("phone"),
            "email": user.get("email"),
            "gender": user.get("gender"),
            "birth_date": _date(user.get("birth_date")),
            "profile": dict(user.get("profile") or {}),
            "is_active": bool(user.get("is_active", True)),
            "updated_at": _now(),
        },
    )


def on_org(event: CloudEvent, uow: NominationsUnitOfWork) -> None:
    """identity.org.upserted: org paths and levels (school, and the county and city above it)."""
    data = event.data
    uow.directory.upsert(
        org_projection,
        "code",
        {
            "code": data["code"],
            "name": data["name"],
            "level": data["level"],
            "parent_code": data.get("parent_code"),
            "path": data["path"],
            "updated_at": _now(),
        },
    )


def on_certificate_issued(event: CloudEvent, uow: NominationsUnitOfWork) -> None:
    data = event.data
    uow.directory.upsert(
        certificate_projection,
        "certificate_id",
        {
            "certificate_id": data["certificate_id"],
            "number": data.get("number"),
            "person_user_id": uuid.UUID(data["person_user_id"]),
            "kind": data["kind"],
            "level": data["level"],
            "issuer": data.get("issuer"),
            "issued_on": _date(data.get("issued_on")),
            "expires_on": _date(data.get("expires_on")),
            "revoked_at": None,
            "revoke_reason": None,
        },
    )


def on_certificate_revoked(event: CloudEvent, uow: NominationsUnitOfWork) -> None:
    data = event.data
    revoked_at = dt.datetime.fromisoformat(data["revoked_at"]) if data.get("revoked_at") else _now()
    values = {"revoked_at": revoked_at, "revoke_reason": data.get("reason")}
    if uow.directory.update(certificate_projection, "certificate_id", data["certificate_id"], values) == 0:
        # Revoked before we saw it issued (events from different queues may cross): remember it revoked.
        uow.directory.upsert(
            certificate_projection,
            "certificate_id",
            {
                "certificate_id": data["certificate_id"],
                "number": data.get("number"),
                "person_user_id": uuid.UUID(data["person_user_id"]),
                "kind": data["kind"],
                "level": data["level"],
                **values,
            },
        )


def on_appointment(event: CloudEvent, uow: NominationsUnitOfWork) -> None:
    """approvals.appointment.made / .renewed: the person's terms at the org (for term limits)."""
    data = event.data
    uow.directory.upsert(
        appointment_projection,
        "appointment_id",
        {
            "appointment_id": data["appointment_id"],
            "person_user_id": uuid.UUID(data["person_user_id"]),
            "org_code": data.get("org_code"),
            "org_path": data.get("org_path"),
            "term_number": int(data.get("term_number") or 1),
            "starts_on": _date(data.get("starts_on")),
            "ends_on": _date(data.get("ends_on")),
            "status": "active",
            "policy_id": data.get("policy_id"),
            "updated_at": _now(),
        },
    )


def _appointment_closed(status: str) -> Any:
    def handle(event: CloudEvent, uow: NominationsUnitOfWork) -> None:
        data = event.data
        values: dict[str, Any] = {"status": status, "updated_at": _now()}
        if data.get("ended_on"):
            values["ends_on"] = _date(data["ended_on"])
        if uow.directory.update(appointment_projection, "appointment_id", data["appointment_id"], values) == 0:
            uow.directory.upsert(
                appointment_projection,
                "appointment_id",
                {
                    "appointment_id": data["appointment_id"],
                    "person_user_id": uuid.UUID(data["person_user_id"]),
                    "org_code": data.get("org_code"),
                    "org_path": data.get("org_path"),
                    "term_number": int(data.get("term_number") or 1),
                    **values,
                },
            )

    return handle


on_appointment_ended = _appointment_closed("ended")
on_appointment_revoked = _appointment_closed("revoked")


def on_review_decided(event: CloudEvent, uow: NominationsUnitOfWork) -> None:
    """approvals.review.decided: the nomination's status follows the case (under review, returned, decided)."""
    data = event.data
    nomination = uow.nominations.get(uuid.UUID(data["nomination_id"]), for_update=True)
    if nomination is None:
        log.warning("decision for an unknown nomination", extra={"nomination_id": data["nomination_id"]})
        return
    moved = nomination.apply_review(
        outcome=data["outcome"],
        stage_index=data.get("stage_index"),
        actor=data.get("decided_by") or "approvals",
        details={
            "decision": data.get("decision"),
            "stage_name": data.get("stage_name"),
            "stage_index": data.get("stage_index"),
            "stage_key": data.get("stage_key"),
            "opinion": data.get("opinion"),
            "seal_unit_name": data.get("seal_unit_name"),
            "seal_date": data.get("seal_date"),
            "case_id": data.get("case_id"),
            "event_id": event.id,
        },
        now=dt.datetime.fromisoformat(data["decided_at"]) if data.get("decided_at") else _now(),
    )
    if moved:
        uow.audit(
            "nomination.review_applied",
            actor=data.get("decided_by"),
            target=str(nomination.id),
            details={"outcome": data["outcome"], "event_id": event.id},
        )
    else:
        log.info("decision no longer applies", extra={"nomination_id": str(nomination.id), "status": nomination.status})


def on_certificate_claim_rejected(event: CloudEvent, uow: NominationsUnitOfWork) -> None:
    """training.certificate.claim_rejected: the claim on the form shows rejected with the administrator's reason."""
    data = event.data
    nomination = uow.nominations.get(uuid.UUID(data["nomination_id"]), for_update=True)
    if nomination is None:
        log.warning("claim rejected for an unknown nomination", extra={"nomination_id": data["nomination_id"]})
        return
    if nomination.reject_certificate_claim(
        data["claim_id"],
        data.get("note") or "",
        actor=data.get("decided_by") or "training",
        now=dt.datetime.fromisoformat(event.time),
    ):
        uow.audit(
            "nomination.certificate_claim_rejected",
            actor=data.get("decided_by"),
            target=str(nomination.id),
            details={"claim_id": data["claim_id"], "reason": data.get("note"), "event_id": event.id},
        )


PROJECTION_HANDLERS = {
    "identity.user.provisioned": on_user,
    "identity.user.updated": on_user,
    "identity.org.upserted": on_org,
    "training.certificate.issued": on_certificate_issued,
    "training.certificate.revoked": on_certificate_revoked,
    "training.certificate.claim_rejected": on_certificate_claim_rejected,
    "approvals.appointment.made": on_appointment,
    "approvals.appointment.renewed": on_appointment,
    "approvals.appointment.ended": on_appointment_ended,
    "approvals.appointment.revoked": on_appointment_revoked,
}
REVIEW_HANDLERS = {"approvals.review.decided": on_review_decided}
