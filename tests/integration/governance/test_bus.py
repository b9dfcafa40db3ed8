"""Through the real broker: a submitted plan leaves via the relay with its flags; approvals' decisions arrive via the
consumer, a redelivered one applied once."""

from __future__ import annotations

import dataclasses
import json
import uuid

import pytest
from flask.testing import FlaskClient
from governance.bootstrap import GovernanceService
from governance.entrypoints.worker import REVIEW_HANDLERS, REVIEWS_QUEUE

from shared.bus.consumer import EventConsumer
from shared.bus.envelope import CloudEvent
from shared.bus.relay import OutboxRelay
from tests.helpers import wait_until
from tests.integration.conftest import Background, Broker
from tests.integration.governance.conftest import CITY, DISTRICT, add_catalogue_entry, plan_body
from tests.tokens import TestIssuer

pytestmark = pytest.mark.integration


def test_a_flagged_plan_sent_with_its_reason_reaches_approvals_queue_with_the_flags(
    client: FlaskClient,
    issuer: TestIssuer,
    governance_service: GovernanceService,
    broker: Broker,
    background: Background,
) -> None:
    tap = broker.tap("governance.plan.*")
    background.start(OutboxRelay(broker.settings, governance_service.session_factory))
    add_catalogue_entry(client, issuer.headers("city", CITY))
    district = issuer.headers("district", DISTRICT)
    created = client.post("/api/project-plans", json=plan_body(functions=["单点登录门户"]), headers=district)
    sent = client.post(
        f"/api/project-plans/{created.json['id']}/submit",
        json={"justification": "市级平台尚未覆盖本区教师端"},
        headers={**district, "If-Match": created.headers["ETag"]},
    )
    assert sent.status_code == 200, sent.json
    message = wait_until(lambda: broker.get(tap), timeout=15, message="the plan on the exchange")
    event = json.loads(message[1])
    assert (event["type"], event["source"], event["subject"]) == (
        "governance.plan.submitted",
        "/cio/governance",
        created.json["id"],
    )
    data = event["data"]
    assert (data["unit_org_path"], data["revision"], data["justification"]) == (
        "/1503/150302",
        1,
        "市级平台尚未覆盖本区教师端",
    )
    assert [(f["code"], f["matched"]) for f in data["flags"]] == [("unified-identity", ["单点登录门户"])]


def test_approvals_decisions_from_the_exchange_move_the_plan_once(
    client: FlaskClient,
    issuer: TestIssuer,
    governance_service: GovernanceService,
    broker: Broker,
    background: Background,
) -> None:
    spec = dataclasses.replace(REVIEWS_QUEUE, name=f"governance.reviews.{uuid.uuid4().hex[:6]}")
    broker._queues += [spec.name, spec.retry, spec.parking]
    background.start_consumer(EventConsumer(broker.settings, spec, REVIEW_HANDLERS, governance_service.uow))
    district = issuer.headers("district", DISTRICT)
    created = client.post("/api/project-plans", json=plan_body(), headers=district)
    client.post(
        f"/api/project-plans/{created.json['id']}/submit",
        json={},
        headers={**district, "If-Match": created.headers["ETag"]},
    )
    decision = CloudEvent(
        "approvals.review.decided",
        "/cio/approvals",
        {
            "case_id": str(uuid.uuid4()),
            "task_id": str(uuid.uuid4()),
            "nomination_id": created.json["id"],
            "round_id": str(uuid.uuid4()),
            "school_org_path": "/1503/150302",
            "stage_index": 2,
            "stage_key": "decision",
            "stage_name": "审核决定（合理化建议）",
            "decision": "approve",
            "opinion": "建议复用市级平台",
            "decided_by": "city-1",
            "on_behalf_of": None,
            "decided_at": "2024-03-10T08:00:00+00:00",
            "outcome": "approved",
            "kind": "project_plan",
        },
    )
    for _ in range(2):  # a redelivery: the inbox keeps it to one
        broker.publish(decision.type, decision.to_json(), message_id=decision.id)
    url = f"/api/project-plans/{created.json['id']}"
    plan = wait_until(
        lambda: (lambda p: p if p["status"] == "approved" else None)(client.get(url, headers=district).json),
        timeout=15,
        message="the plan approved",
    )
    assert plan["suggestions"] == "建议复用市级平台" and len(plan["reviews"]) == 1
