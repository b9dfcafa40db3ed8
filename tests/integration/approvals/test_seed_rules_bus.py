"""Seed rules of the chain over real RabbitMQ: the worker's consumers, the outbox relay, the API."""

from __future__ import annotations

import json

from approvals.adapters.orm import review_tasks
from approvals.bootstrap import Approvals
from approvals.declaration import SPEC
from approvals.entrypoints.web import create_app
from approvals.service_layer.subscriptions import DIRECTORY_HANDLERS, REVIEW_HANDLERS
from sqlalchemy import select

from shared.bus.consumer import EventConsumer
from shared.bus.relay import OutboxRelay
from shared.bus.topology import QueueSpec
from shared.config import BusSettings
from tests.helpers import wait_until
from tests.integration.approvals.conftest import CITY, JIAOZUO, event, org_events, round_opened, submitted
from tests.integration.conftest import Background, Broker
from tests.tokens import TestIssuer

REVIEWS_QUEUE, DIRECTORY_QUEUE = SPEC.queues()

CITY_RUN_SCHOOL = "/4108/4108000001"


def test_市直各学校_the_city_run_school_is_reviewed_by_its_unit_then_the_city(
    approvals_service: Approvals,
    broker: Broker,
    background: Background,
    bus_settings: BusSettings,
    issuer: TestIssuer,
) -> None:
    """焦教文〔2022〕60号 is sent to 「各县（市、区）教育（教体）局，市直各学校」: a school directly under the city
    has no county bureau, so its submission is not parked but goes unit → city, and the city appoints."""
    suffix = bus_settings.exchange[-8:]
    reviews_q = QueueSpec(f"{REVIEWS_QUEUE.name}.{suffix}", REVIEWS_QUEUE.bindings)
    directory_q = QueueSpec(f"{DIRECTORY_QUEUE.name}.{suffix}", DIRECTORY_QUEUE.bindings)
    broker._queues += [q for spec in (reviews_q, directory_q) for q in (spec.name, spec.retry, spec.parking)]
    tap = broker.tap("approvals.#")
    background.start_consumer(EventConsumer(bus_settings, directory_q, DIRECTORY_HANDLERS, approvals_service.uow))
    background.start_consumer(EventConsumer(bus_settings, reviews_q, REVIEW_HANDLERS, approvals_service.uow))
    background.start(OutboxRelay(bus_settings, approvals_service.session_factory))

    school = event(
        "identity.org.upserted",
        {
            "code": "4108000001",
            "name": "焦作市第一中学",
            "level": "school",
            "parent_code": "4108",
            "path": CITY_RUN_SCHOOL,
        },
    )
    opened = round_opened(JIAOZUO)
    sub = submitted(opened.data["round_id"], CITY_RUN_SCHOOL)
    for e in [*org_events(), school, opened, sub]:
        broker.publish(e.type, e.to_json(), e.id)

    def tasks() -> list[tuple[str, str, str]]:
        with approvals_service.session_factory() as session:
            rows = session.execute(select(review_tasks).order_by(review_tasks.c.assigned_at))
            return [(r.stage_key, r.role, r.org_path) for r in rows]

    assert wait_until(tasks, timeout=15, message="the unit's task") == [("unit", "school_admin", CITY_RUN_SCHOOL)]

    client = create_app(approvals_service).test_client()
    unit = issuer.headers("head", ("school_admin", CITY_RUN_SCHOOL))
    [task] = client.get("/api/tasks", headers=unit).json["items"]
    first = client.post(f"/api/tasks/{task['id']}/decision", headers=unit, json={"decision": "approve"})
    assert first.status_code == 200, first.json
    assert first.json["outcome"] == "in_review"

    city = issuer.headers("city", ("city_reviewer", CITY))
    [city_task] = client.get("/api/tasks", headers=city).json["items"]
    assert (city_task["stage_key"], city_task["stage_index"], city_task["org_path"]) == ("city_review", 1, CITY)
    final = client.post(
        f"/api/tasks/{city_task['id']}/decision",
        headers=city,
        json={"decision": "approve", "opinion": "同意聘任", "document_number": "焦教文〔2022〕88号"},
    )
    assert final.status_code == 200, final.json
    assert final.json["outcome"] == "approved" and final.json["appointment_id"]

    seen: list[dict[str, object]] = []

    def relayed(kind: str) -> bool:
        while got := broker.get(tap):
            seen.append(json.loads(got[1]))
        return any(m["type"] == kind for m in seen)

    wait_until(lambda: relayed("approvals.appointment.made"), timeout=15, message="appointment.made on the bus")
    opened_case = next(m for m in seen if m["type"] == "approvals.case.opened")
    assert [s["key"] for s in opened_case["data"]["stages"]] == ["unit", "city_review"]  # type: ignore[index]
    made = next(m for m in seen if m["type"] == "approvals.appointment.made")
    assert made["data"]["org_path"] == CITY_RUN_SCHOOL  # type: ignore[index]
