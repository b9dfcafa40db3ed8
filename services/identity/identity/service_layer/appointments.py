"""The `cio` role follows the appointment (聘任): granted when approvals appoints, removed when the term ends."""

from __future__ import annotations

import logging
import uuid

from identity.service_layer.unit_of_work import IdentityUnitOfWork
from shared.contracts import consumes
from shared.contracts.approvals import (
    AppointmentClosed,
    AppointmentEnded,
    AppointmentMade,
    AppointmentRenewed,
    AppointmentRevoked,
)

log = logging.getLogger(__name__)

CIO = "cio"
SYSTEM_ACTOR = "system:approvals"


@consumes(AppointmentMade)
def grant_cio_on_appointment(event: AppointmentMade, uow: IdentityUnitOfWork) -> None:
    """`approvals.appointment.made` / `.renewed`: the person holds `cio` at the appointment's org."""
    user = uow.users.get(uuid.UUID(event.person_user_id))
    org = uow.orgs.get(event.org_code)
    if user is None or org is None:
        # The person or org was never provisioned here: nothing to grant, and retrying will not change it.
        log.warning(
            "appointment for an unknown user or org", extra={"event_id": event.envelope.id if event.envelope else None}
        )
        return
    user.grant(CIO, org, by=SYSTEM_ACTOR, source="system")
    uow.audit(
        "role_granted",
        actor=SYSTEM_ACTOR,
        target=str(user.id),
        details={"role": CIO, "org_path": org.path, "appointment_id": event.appointment_id},
    )


@consumes(AppointmentClosed)
def revoke_cio_when_appointment_ends(event: AppointmentClosed, uow: IdentityUnitOfWork) -> None:
    """`approvals.appointment.ended` / `.revoked`: the system-given `cio` grant at that org goes."""
    user = uow.users.get(uuid.UUID(event.person_user_id))
    org = uow.orgs.get(event.org_code)
    if user is None or org is None:
        return
    for grant in list(user.grants):
        if grant.role == CIO and grant.org_path == org.path and grant.source == "system":
            user.revoke(grant.id, by=SYSTEM_ACTOR)
            uow.audit(
                "role_revoked",
                actor=SYSTEM_ACTOR,
                target=str(user.id),
                details={"role": CIO, "org_path": org.path, "appointment_id": event.appointment_id},
            )


HANDLERS = {
    AppointmentMade.event_type: grant_cio_on_appointment,
    AppointmentRenewed.event_type: grant_cio_on_appointment,
    AppointmentEnded.event_type: revoke_cio_when_appointment_ends,
    AppointmentRevoked.event_type: revoke_cio_when_appointment_ends,
}
