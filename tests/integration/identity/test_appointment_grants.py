"""The `cio` grant follows appointments: approvals' events through the real broker into identity."""

from __future__ import annotations

import dataclasses
import json
import uuid

import pytest
from identity.bootstrap import Identity
from identity.declaration import SPEC
from sqlalchemy import select

from shared.bus.envelope import CloudEvent
from shared.bus.tables import outbox
from shared.service import worker_components
from tests.helpers import wait_until
from tests.integration.conftest import Background, Broker

pytestmark = pytest.mark.integration


def grants_of(service: Identity, username: str) -> list[tuple[str, str, str]]:
    uow = service.uow()
    with uow:
        user = uow.users.by_username(username)
        assert user is not None
        return sorted((g.role, g.org_path, g.source) for g in user.grants)


def user_id(service: Identity, username: str) -> str:
    uow = service.uow()
    with uow:
        user = uow.users.by_username(username)
        assert user is not None
        return str(user.id)


def test_appointment_grants_cio_and_its_end_revokes_it(
    identity_service: Identity, broker: Broker, background: Background
) -> None:
    identity_service.settings = dataclasses.replace(identity_service.settings, bus=broker.settings)
    relay, consumer = worker_components(SPEC, identity_service)[:2]
    consumer.spec = dataclasses.replace(consumer.spec, name=f"identity.appointments.{uuid.uuid4().hex[:6]}")
    broker._queues += [consumer.spec.name, consumer.spec.retry, consumer.spec.parking]
    background.start_consumer(consumer)

    person = user_id(identity_service, "school2.admin")
    made = CloudEvent(
        "approvals.appointment.made",
        "/cio/approvals",
        {
            "appointment_id": "a-1",
            "person_user_id": person,
            "org_code": "4108210001",
            "org_path": "/4108/410821/4108210001",
        },
    )
    broker.publish(made.type, made.to_json())
    broker.publish(made.type, made.to_json())  # redelivered: still one grant, one event
    expected = ("cio", "/4108/410821/4108210001", "system")
    wait_until(lambda: expected in grants_of(identity_service, "school2.admin"), message="cio granted")

    ended = CloudEvent("approvals.appointment.ended", "/cio/approvals", {**made.data, "ended_on": "2029-10-31"})
    broker.publish(ended.type, ended.to_json())
    wait_until(lambda: expected not in grants_of(identity_service, "school2.admin"), message="cio revoked")
    assert ("school_admin", "/4108/410821/4108210001", "manual") in grants_of(identity_service, "school2.admin")

    with identity_service.session_factory() as session:
        bodies = [
            json.loads(r[0])
            for r in session.execute(
                select(outbox.c.body).where(outbox.c.type.like("identity.role.%")).order_by(outbox.c.created_at)
            )
        ]
    cio_events = [b["type"] for b in bodies if b["data"]["role"] == "cio" and b["data"]["user_id"] == person]
    assert cio_events == ["identity.role.granted", "identity.role.revoked"]
    relay.close()
