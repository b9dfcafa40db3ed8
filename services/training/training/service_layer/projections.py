"""Projections kept from other services' events: people and orgs (identity's, in shared.directory), active CIOs
(approvals).

Handlers run inside the consumer's unit of work with the inbox row; they never commit. Upserts make a
replayed or out-of-order event harmless.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects import postgresql

from shared import directory
from shared.bus.envelope import CloudEvent
from training.adapters.orm import appointments
from training.domain.model import Requirement
from training.service_layer import claims
from training.service_layer.unit_of_work import TrainingUnitOfWork

ACTIVE = "active"


def _upsert(uow: TrainingUnitOfWork, table: Any, key: list[str], values: dict[str, Any]) -> None:
    statement = postgresql.insert(table).values(**values)
    uow.session.execute(
        statement.on_conflict_do_update(
            index_elements=key, set_={k: statement.excluded[k] for k in values if k not in key}
        )
    )


def appointment_made(default_required: int) -> Callable[[CloudEvent, TrainingUnitOfWork], None]:
    """`approvals.appointment.made` / `.renewed`: the person is an active CIO with the policy's requirement."""

    def handle(event: CloudEvent, uow: TrainingUnitOfWork) -> None:
        data = event.data
        requirement = Requirement.from_policy(data.get("training_requirement"), default_required)
        _upsert(
            uow,
            appointments,
            ["appointment_id"],
            {
                "appointment_id": str(data["appointment_id"]),
                "person_user_id": uuid.UUID(data["person_user_id"]),
                "person_name": data.get("person_name"),
                "org_code": data["org_code"],
                "org_path": data["org_path"],
                "starts_on": dt.date.fromisoformat(data["starts_on"]),
                "ends_on": dt.date.fromisoformat(data["ends_on"]) if data.get("ends_on") else None,
                "required_centralized": requirement.centralized_per_year,
                "status": ACTIVE,
                "updated_at": dt.datetime.now(dt.UTC),
            },
        )
        previous = data.get("previous_appointment_id")
        if previous:
            _set_status(uow, str(previous), "superseded")

    return handle


def _set_status(uow: TrainingUnitOfWork, appointment_id: str, status: str) -> None:
    uow.session.execute(
        update(appointments)
        .where(appointments.c.appointment_id == appointment_id)
        .values(status=status, updated_at=dt.datetime.now(dt.UTC))
    )


def appointment_ended(event: CloudEvent, uow: TrainingUnitOfWork) -> None:
    _set_status(uow, str(event.data["appointment_id"]), "ended")


def appointment_revoked(event: CloudEvent, uow: TrainingUnitOfWork) -> None:
    _set_status(uow, str(event.data["appointment_id"]), "revoked")


def directory_handlers() -> dict[str, Callable[[CloudEvent, TrainingUnitOfWork], None]]:
    return {
        "identity.user.provisioned": directory.apply,
        "identity.user.updated": directory.apply,
        "identity.org.upserted": directory.apply,
        # 合格证 claimed on a 推荐表: queued with the directory (people must be known before a claim is confirmed)
        "nominations.certificate.claimed": claims.on_certificate_claimed,
    }


def appointment_handlers(default_required: int) -> dict[str, Callable[[CloudEvent, TrainingUnitOfWork], None]]:
    return {
        "approvals.appointment.made": appointment_made(default_required),
        "approvals.appointment.renewed": appointment_made(default_required),
        "approvals.appointment.ended": appointment_ended,
        "approvals.appointment.revoked": appointment_revoked,
    }
