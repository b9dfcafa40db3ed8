"""The nominations worker against real RabbitMQ and PostgreSQL: the relay publishes submissions, the consumers
keep the projections and follow approvals' decisions, and a redelivered event applies once."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from nominations.adapters.orm import nomination_history
from nominations.bootstrap import Nominations, bootstrap
from nominations.entrypoints.web import create_app
from nominations.service_layer.projections import PROJECTION_HANDLERS, REVIEW_HANDLERS

from shared.bus.consumer import EventConsumer
from shared.bus.envelope import CloudEvent
from shared.bus.relay import OutboxRelay
from shared.config import BusSettings
from tests.helpers import wait_until
from tests.integration.conftest import Background, Broker
from tests.integration.nominations.conftest import CANDIDATE, SCHOOL, settings_for
from tests.integration.nominations.flow import certificate_event, create, fill_and_attest, open_round, submit
from tests.tokens import TestIssuer

pytestmark = pytest.mark.integration


@pytest.fixture
def bus_service(nominations_db: str, bus_settings: BusSettings, issuer: TestIssuer) -> Iterator[Nominations]:
    service = bootstrap(settings_for(nominations_db, bus=bus_settings), verifier=issuer.verifier())
    try:
        yield service
    finally:
        service.engine.dispose()


@pytest.fixture
def bus_client(bus_service: Nominations) -> FlaskClient:
    return create_app(bus_service).test_client()


def _consumer(bus_service: Nominations, broker: Broker, purpose: str, handlers: dict) -> EventConsumer:  # type: ignore[type-arg]
    spec = broker.consuming_queue(purpose, tuple(handlers))
    return EventConsumer(broker.settings, spec, handlers, bus_service.uow)


def _publish(broker: Broker, event: CloudEvent) -> None:
    broker.publish(event.type, event.to_json(), message_id=event.id)


def _eligible(client: FlaskClient, issuer: TestIssuer, nid: str) -> bool:
    body = client.get(f"/api/nominations/{nid}/eligibility", headers=issuer.headers("s", SCHOOL)).json
    return bool(body["eligible"])


def test_submission_reaches_a_bound_queue_through_the_relay(
    bus_client: FlaskClient, bus_service: Nominations, broker: Broker, background: Background, issuer: TestIssuer
) -> None:
    tap = broker.tap("nominations.#")
    projections = background.start_consumer(_consumer(bus_service, broker, "projections", PROJECTION_HANDLERS))
    _publish(broker, certificate_event())
    round_ = open_round(bus_client, issuer)
    created = create(bus_client, issuer, round_["id"])
    etag = fill_and_attest(bus_client, issuer, created)
    wait_until(lambda: _eligible(bus_client, issuer, created.json["id"]), message="the certificate to be projected")
    assert submit(bus_client, issuer, created.json["id"], etag).status_code == 200
    assert projections.connected.is_set()
    background.start(OutboxRelay(broker.settings, bus_service.session_factory))
    wait_until(lambda: broker.count(tap) >= 2, message="both events on the tap")
    messages = [broker.get(tap) for _ in range(2)]
    bodies = [json.loads(m[1]) for m in messages if m]
    assert [b["type"] for b in bodies] == ["nominations.round.opened", "nominations.nomination.submitted"]
    submitted = bodies[1]["data"]
    assert submitted["nomination_id"] == created.json["id"] and submitted["form"]["post_kind"] == "principal"
    assert bodies[0]["data"]["policy"]["id"] == "jiaozuo-2022"


def test_certificate_issued_then_revoked_flips_eligibility(
    bus_client: FlaskClient, bus_service: Nominations, broker: Broker, background: Background, issuer: TestIssuer
) -> None:
    background.start_consumer(_consumer(bus_service, broker, "projections", PROJECTION_HANDLERS))
    round_ = open_round(bus_client, issuer)
    created = create(bus_client, issuer, round_["id"])
    fill_and_attest(bus_client, issuer, created)
    nid = created.json["id"]
    assert not _eligible(bus_client, issuer, nid)
    issued = certificate_event(kind="cio", level="county")
    _publish(broker, issued)
    wait_until(lambda: _eligible(bus_client, issuer, nid), message="eligible after the certificate")
    revoked = CloudEvent(
        type="training.certificate.revoked",
        source="/cio/training",
        data={
            **{k: issued.data[k] for k in ("certificate_id", "number", "person_user_id", "kind", "level")},
            "reason": "issued in error",
            "revoked_at": "2022-09-01T00:00:00+08:00",
        },
    )
    _publish(broker, revoked)
    wait_until(lambda: not _eligible(bus_client, issuer, nid), message="ineligible after the revocation")


def test_review_decisions_move_the_status_and_redelivery_applies_once(
    bus_client: FlaskClient, bus_service: Nominations, broker: Broker, background: Background, issuer: TestIssuer
) -> None:
    from tests.integration.nominations.flow import give_certificate

    give_certificate(bus_service)
    reviews = background.start_consumer(_consumer(bus_service, broker, "reviews", REVIEW_HANDLERS))
    round_ = open_round(bus_client, issuer)
    created = create(bus_client, issuer, round_["id"])
    nid = created.json["id"]
    assert submit(bus_client, issuer, nid, fill_and_attest(bus_client, issuer, created)).status_code == 200

    def decided(outcome: str, decision: str, stage: int) -> CloudEvent:
        return CloudEvent(
            type="approvals.review.decided",
            source="/cio/approvals",
            subject=str(uuid.uuid4()),
            data={
                "case_id": str(uuid.uuid4()),
                "task_id": str(uuid.uuid4()),
                "nomination_id": nid,
                "round_id": round_["id"],
                "school_org_path": "/4108/410802/4108020001",
                "stage_index": stage,
                "stage_name": "county_review",
                "decision": decision,
                "opinion": "请补充工作事迹",
                "decided_by": "county-reviewer",
                "on_behalf_of": None,
                "decided_at": "2022-09-20T10:00:00+08:00",
                "outcome": outcome,
            },
        )

    def status() -> str:
        return str(bus_client.get(f"/api/nominations/{nid}", headers=issuer.headers("s", SCHOOL)).json["status"])

    _publish(broker, decided("in_review", "approve", 0))
    wait_until(lambda: status() == "under_review", message="under review")
    returned = decided("returned", "return", 1)
    _publish(broker, returned)
    _publish(broker, returned)  # the broker redelivers
    wait_until(lambda: status() == "returned", message="returned")
    wait_until(lambda: broker.count(reviews.spec.name) == 0, message="the queue drained")
    with bus_service.engine.connect() as conn:
        actions = (
            conn.execute(
                sa.select(nomination_history.c.action).where(nomination_history.c.nomination_id == uuid.UUID(nid))
            )
            .scalars()
            .all()
        )
    assert actions.count("review_returned") == 1
    body = bus_client.get(f"/api/nominations/{nid}", headers=issuer.headers("s", SCHOOL))
    assert body.json["returned_at_stage"] == 1
    # The school answers the return: attest again, resubmit; the event says which stage returned it.
    etag = bus_client.post(
        f"/api/nominations/{nid}/attestation",
        json={"signer_name": "张三", "confirm": True},
        headers=issuer.headers("s", SCHOOL, **{"If-Match": body.headers["ETag"]}),
    ).headers["ETag"]
    resubmitted = submit(bus_client, issuer, nid, etag)
    assert resubmitted.status_code == 200 and resubmitted.json["status"] == "resubmitted"
    with bus_service.engine.connect() as conn:
        event = json.loads(
            conn.execute(
                sa.text("SELECT body FROM outbox WHERE type = 'nominations.nomination.resubmitted'")
            ).scalar_one()
        )
    assert event["data"]["revision"] == 2 and event["data"]["returned_at_stage"] == 1
    assert event["data"]["candidate_user_id"] == str(CANDIDATE)
