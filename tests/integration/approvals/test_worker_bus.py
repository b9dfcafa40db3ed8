"""The worker against real RabbitMQ: nominations' events published to the exchange open cases, once."""

from __future__ import annotations

import json

from approvals.adapters.orm import review_cases, review_tasks
from approvals.bootstrap import Approvals
from approvals.entrypoints.worker import DIRECTORY_HANDLERS, DIRECTORY_QUEUE, REVIEW_HANDLERS, REVIEWS_QUEUE
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from shared.bus.consumer import EventConsumer
from shared.bus.relay import OutboxRelay
from shared.bus.tables import outbox
from shared.bus.topology import QueueSpec
from shared.config import BusSettings
from tests.helpers import wait_until
from tests.integration.approvals.conftest import JIAOZUO, SCHOOL, org_events, round_opened, submitted
from tests.integration.conftest import Background, Broker

# The county and city stages only: the unit's opinion is then on the paper form, so the first task is the bureau's.
COUNTY_FIRST = {
    **JIAOZUO,
    "approval": {**JIAOZUO["approval"], "stages": JIAOZUO["approval"]["stages"][1:]},
}


def test_redelivered_submission_opens_one_case_at_the_county_bureau(
    approvals_service: Approvals, broker: Broker, background: Background, bus_settings: BusSettings
) -> None:
    reviews_q = QueueSpec(f"{REVIEWS_QUEUE.name}.{bus_settings.exchange[-8:]}", REVIEWS_QUEUE.bindings)
    directory_q = QueueSpec(f"{DIRECTORY_QUEUE.name}.{bus_settings.exchange[-8:]}", DIRECTORY_QUEUE.bindings)
    broker._queues += [q for spec in (reviews_q, directory_q) for q in (spec.name, spec.retry, spec.parking)]
    tap = broker.tap("approvals.#")
    background.start_consumer(EventConsumer(bus_settings, directory_q, DIRECTORY_HANDLERS, approvals_service.uow))
    background.start_consumer(EventConsumer(bus_settings, reviews_q, REVIEW_HANDLERS, approvals_service.uow))
    background.start(OutboxRelay(bus_settings, approvals_service.session_factory))

    opened = round_opened(COUNTY_FIRST)
    sub = submitted(opened.data["round_id"], SCHOOL)
    # The submission may arrive before the org tree: the consumer retries until the tree is known.
    broker.publish(sub.type, sub.to_json(), sub.id)
    for e in [*org_events(), opened]:
        broker.publish(e.type, e.to_json(), e.id)
    broker.publish(sub.type, sub.to_json(), sub.id)  # a redelivery

    def task_rows() -> list[tuple[str, str]]:
        with approvals_service.session_factory() as session:
            return [(r.role, r.org_path) for r in session.execute(select(review_tasks))]

    assert wait_until(task_rows, timeout=15, message="the first task") == [("county_reviewer", "/4108/410802")]

    def assigned_on_the_bus() -> list[dict[str, object]]:
        got = broker.get(tap)
        return [json.loads(got[1])] if got else []

    seen: list[dict[str, object]] = []
    wait_until(
        lambda: seen.extend(assigned_on_the_bus()) or any(m["type"] == "approvals.task.assigned" for m in seen),
        timeout=15,
        message="task.assigned relayed to the exchange",
    )
    assigned = next(m for m in seen if m["type"] == "approvals.task.assigned")
    assert assigned["data"]["org_code"] == "410802"  # type: ignore[index]

    # Both copies were taken from the queue: one opened the case, the other was a duplicate (the inbox).
    def consumed(outcome: str) -> float:
        return (
            REGISTRY.get_sample_value("bus_messages_consumed_total", {"queue": reviews_q.name, "outcome": outcome}) or 0
        )

    wait_until(lambda: consumed("duplicate") >= 1, timeout=15, message="the redelivery consumed as a duplicate")
    # A second submission event of the same nomination (another event id) opens nothing either.
    processed = consumed("processed")
    again = submitted(opened.data["round_id"], SCHOOL, nomination_id=sub.data["nomination_id"])
    broker.publish(again.type, again.to_json(), again.id)
    wait_until(lambda: consumed("processed") > processed, timeout=15, message="the second event applied")
    with approvals_service.session_factory() as session:
        assert session.execute(select(func.count()).select_from(review_cases)).scalar_one() == 1
        assert session.execute(select(func.count()).select_from(review_tasks)).scalar_one() == 1
        opened_events = session.execute(
            select(func.count()).select_from(outbox).where(outbox.c.type == "approvals.case.opened")
        ).scalar_one()
    assert opened_events == 1
