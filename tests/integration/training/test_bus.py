"""Through the real broker: certificate events leave via the relay, appointments arrive via the consumer,
and the yearly check publishes `training.requirement.unmet` once per person and year."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from training.bootstrap import TrainingService
from training.declaration import SPEC
from training.entrypoints.timers import requirement_check
from training.service_layer.projections import appointment_handlers, directory_handlers

from shared.bus.consumer import EventConsumer
from shared.bus.envelope import CloudEvent
from shared.bus.relay import OutboxRelay
from shared.bus.tables import outbox
from tests.helpers import wait_until
from tests.integration.conftest import Background, Broker
from tests.integration.training.conftest import COUNTY_ADMIN, create_training, person
from tests.tokens import TestIssuer

pytestmark = pytest.mark.integration
DIRECTORY, APPOINTMENTS = SPEC.subscriptions

CITY_REVIEWER = ("city_reviewer", "/4108")


def appointment(username: str, org_code: str, org_path: str, **extra: object) -> CloudEvent:
    return CloudEvent(
        "approvals.appointment.made",
        "/cio/approvals",
        {
            "appointment_id": str(uuid.uuid4()),
            "person_user_id": person(username),
            "person_name": username,
            "org_code": org_code,
            "org_path": org_path,
            "term_number": 1,
            "starts_on": "2024-01-01",
            "ends_on": "2026-12-31",
            "document_number": "解教〔2024〕1号",
            "training_requirement": {"centralized_per_year": 1},  # Helan's 「一般每年不少于1次集中培训」
            **extra,
        },
    )


def test_issued_and_revoked_certificates_reach_a_bound_queue(
    client: FlaskClient, issuer: TestIssuer, training_service: TrainingService, broker: Broker, background: Background
) -> None:
    tap = broker.tap("training.certificate.*")
    background.start(OutboxRelay(broker.settings, training_service.session_factory))
    county = issuer.headers("admin-1", COUNTY_ADMIN)
    created = client.post(
        "/api/certificates",
        json={
            "number": "GJ-2024-88",
            "person_user_id": person("wang.xiaoming"),
            "kind": "cio",
            "level": "national",
            "issuer": "教育部",
            "issued_on": "2024-03-01",
            "expires_on": "2029-03-01",
        },
        headers=county,
    )
    assert created.status_code == 201, created.json
    revoked = client.post(f"/api/certificates/{created.json['id']}/revoke", json={"reason": "重复登记"}, headers=county)
    assert revoked.status_code == 200

    received: list[dict] = []

    def both() -> bool:
        message = broker.get(tap)
        if message is not None:
            received.append(json.loads(message[1]))
        return len(received) == 2

    wait_until(both, timeout=15, message="both certificate events on the queue")
    assert [m["type"] for m in received] == ["training.certificate.issued", "training.certificate.revoked"]
    issued, gone = (m["data"] for m in received)
    assert (issued["person_user_id"], issued["kind"], issued["level"], issued["issued_on"], issued["expires_on"]) == (
        person("wang.xiaoming"),
        "cio",
        "national",
        "2024-03-01",
        "2029-03-01",
    )
    assert gone["certificate_id"] == issued["certificate_id"] and gone["reason"] == "重复登记"
    assert all(m["source"] == "/cio/training" and m["subject"] == issued["certificate_id"] for m in received)


def test_appointments_from_the_exchange_appear_in_compliance(
    client: FlaskClient, issuer: TestIssuer, training_service: TrainingService, broker: Broker, background: Background
) -> None:
    spec = dataclasses.replace(
        APPOINTMENTS.queue_spec(training_service), name=f"training.appointments.{uuid.uuid4().hex[:6]}"
    )
    broker._queues += [spec.name, spec.retry, spec.parking]
    consumer = EventConsumer(broker.settings, spec, appointment_handlers(1), training_service.uow)
    background.start_consumer(consumer)

    trained = appointment("wang.xiaoming", "4108020001", "/4108/410802/4108020001")
    untrained = appointment(
        "li.hua", "4108020002", "/4108/410802/4108020002", training_requirement={"centralized_per_year": 2}
    )
    # Jiaozuo sets no term: an open-ended appointment counts every year until it ends.
    elsewhere = appointment("zhao.gang", "4108210001", "/4108/410821/4108210001", ends_on=None)
    for event in (trained, untrained, elsewhere, trained):  # the repeat is a redelivery: still one CIO
        broker.publish(event.type, event.to_json())

    county = issuer.headers("admin-1", COUNTY_ADMIN)
    training = create_training(client, county)
    done = client.post(
        f"/api/trainings/{training['id']}/completions",
        json={
            "items": [
                {"person_user_id": person(u), "hours": 24, "completed_on": "2024-05-08"}
                for u in ("wang.xiaoming", "li.hua")
            ]
        },
        headers=county,
    )
    assert done.status_code == 200

    reviewer = issuer.headers("rev", CITY_REVIEWER)
    wait_until(
        lambda: client.get("/api/training-compliance?year=2024", headers=reviewer).json["total"] == 3,
        timeout=15,
        message="three CIOs in compliance",
    )
    report = client.get("/api/training-compliance?year=2024&org=410802", headers=reviewer).json
    assert (report["total"], report["meeting"], report["missing"]) == (2, 1, 1)
    standing = {i["person_user_id"]: (i["required"], i["completed"], i["meets"]) for i in report["items"]}
    assert standing == {person("wang.xiaoming"): (1, 1, True), person("li.hua"): (2, 1, False)}
    unmet = client.get("/api/training-compliance?year=2024&status=unmet", headers=reviewer).json["items"]
    assert sorted(i["person_user_id"] for i in unmet) == sorted([person("li.hua"), person("zhao.gang")])
    assert client.get("/api/training-compliance?year=2025", headers=reviewer).json["missing"] == 3
    # A CIO reads nobody else's records, yet sees their own standing (the portal's CIO page asks here).
    cio = issuer.headers(person("li.hua"), ("cio", "/4108/410802/4108020002"))
    own = client.get("/api/training-compliance?year=2024", headers=cio).json
    assert (own["total"], own["meeting"], own["missing"]) == (1, 0, 1)
    assert [(i["person_user_id"], i["required"], i["completed"]) for i in own["items"]] == [(person("li.hua"), 2, 1)]
    county_view = client.get("/api/training-compliance?year=2024&org=410821", headers=county)
    assert county_view.status_code == 404
    assert client.get("/api/training-compliance", headers=reviewer).json["errors"][0]["field"] == "year"

    ended = CloudEvent("approvals.appointment.ended", "/cio/approvals", {**elsewhere.data, "ended_on": "2024-03-01"})
    broker.publish(ended.type, ended.to_json())
    wait_until(
        lambda: client.get("/api/training-compliance?year=2024", headers=reviewer).json["total"] == 2,
        timeout=15,
        message="the ended appointment to leave compliance",
    )


def test_unmet_requirement_is_published_once_per_person_and_year(
    client: FlaskClient, issuer: TestIssuer, training_service: TrainingService
) -> None:
    handlers = appointment_handlers(training_service.rules.default_centralized_per_year)
    with training_service.uow() as uow:
        for username, code, path in (
            ("wang.xiaoming", "4108020001", "/4108/410802/4108020001"),
            ("li.hua", "4108020002", "/4108/410802/4108020002"),
        ):
            event = appointment(username, code, path)
            handlers[event.type](event, uow)
        uow.commit()
    county = issuer.headers("admin-1", COUNTY_ADMIN)
    training = create_training(client, county)
    client.post(
        f"/api/trainings/{training['id']}/completions",
        json={"items": [{"person_user_id": person("wang.xiaoming"), "hours": 24, "completed_on": "2024-05-08"}]},
        headers=county,
    )
    assert requirement_check(training_service, dt.date(2024, 11, 30)) == 0  # before the check date
    assert requirement_check(training_service, dt.date(2024, 12, 1)) == 1
    assert requirement_check(training_service, dt.date(2024, 12, 2)) == 0  # the timer runs again
    with training_service.session_factory() as session:
        bodies = [
            json.loads(r[0])
            for r in session.execute(select(outbox.c.body).where(outbox.c.type == "training.requirement.unmet"))
        ]
    assert len(bodies) == 1
    assert bodies[0]["subject"] == person("li.hua")
    data = bodies[0]["data"]
    assert (data["person_user_id"], data["org_code"], data["year"], data["required"], data["completed"]) == (
        person("li.hua"),
        "4108020002",
        2024,
        1,
        0,
    )
    assert set(data) == {"person_user_id", "appointment_id", "org_code", "org_path", "year", "required", "completed"}


def test_people_provisioned_by_identity_become_known(
    client: FlaskClient, issuer: TestIssuer, training_service: TrainingService, broker: Broker, background: Background
) -> None:
    spec = dataclasses.replace(
        DIRECTORY.queue_spec(training_service), name=f"training.directory.{uuid.uuid4().hex[:6]}"
    )
    broker._queues += [spec.name, spec.retry, spec.parking]
    background.start_consumer(EventConsumer(broker.settings, spec, directory_handlers(), training_service.uow))
    newcomer = str(uuid.uuid4())
    user = {
        "user_id": newcomer,
        "username": "sun.li",
        "display_name": "孙丽",
        "org_code": "4108020001",
        "is_active": True,
    }
    provisioned = CloudEvent("identity.user.provisioned", "/cio/identity", {"user": user})
    renamed = CloudEvent(
        "identity.user.updated",
        "/cio/identity",
        {"user": {**user, "display_name": "孙莉"}, "changed": ["display_name"]},
    )
    broker.publish(provisioned.type, provisioned.to_json())
    broker.publish(renamed.type, renamed.to_json())
    reviewer = issuer.headers("rev", CITY_REVIEWER)

    def summary() -> dict | None:
        response = client.get(f"/api/trainings/people/{newcomer}/summary", headers=reviewer)
        return response.json if response.status_code == 200 and response.json["display_name"] == "孙莉" else None

    assert wait_until(summary, timeout=15, message="the person to be known")["org_code"] == "4108020001"
