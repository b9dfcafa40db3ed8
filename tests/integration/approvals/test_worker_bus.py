"""The worker against real RabbitMQ: nominations' events published to the exchange open cases, once."""

from __future__ import annotations

import json

import pytest
from approvals.adapters.orm import review_cases, review_tasks
from approvals.bootstrap import Approvals
from approvals.declaration import SPEC
from approvals.entrypoints.timers import timers
from approvals.entrypoints.web import create_app
from approvals.service_layer.subscriptions import DIRECTORY_HANDLERS, REVIEW_HANDLERS
from prometheus_client import REGISTRY
from sqlalchemy import func, select, text

from shared.bus.consumer import EventConsumer
from shared.bus.relay import OutboxRelay
from shared.bus.tables import outbox
from shared.bus.topology import QueueSpec
from shared.config import BusSettings
from tests.helpers import wait_until
from tests.integration.approvals.conftest import (
    HELAN,
    HELAN_COUNTY,
    HELAN_SCHOOL,
    JIAOZUO,
    SCHOOL,
    Feed,
    org_events,
    round_opened,
    submitted,
)
from tests.integration.conftest import Background, Broker
from tests.tokens import TestIssuer

# The county and city stages only: the unit's opinion is then on the paper form, so the first task is the bureau's.
COUNTY_FIRST = {
    **JIAOZUO,
    "approval": {**JIAOZUO["approval"], "stages": JIAOZUO["approval"]["stages"][1:]},
}


REVIEWS_QUEUE, DIRECTORY_QUEUE = SPEC.queues()


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


def test_the_worker_timers_publish_each_overdue_task_and_each_ended_term_once(
    approvals_service: Approvals,
    broker: Broker,
    background: Background,
    bus_settings: BusSettings,
    monkeypatch: pytest.MonkeyPatch,
    issuer: TestIssuer,
) -> None:
    """The worker's own timers (not the handlers called by hand) over RabbitMQ: however often they run,
    each overdue task is published once (`approvals.task.overdue`) and each term past its end once
    (`approvals.appointment.ended`)."""
    feed = Feed(approvals_service)
    feed(*org_events())
    client = create_app(approvals_service).test_client()
    opened, helan = round_opened(JIAOZUO), round_opened(HELAN, issuing_org_code="640122", issuing_org_path=HELAN_COUNTY)
    feed(opened, helan, submitted(opened.data["round_id"], SCHOOL), submitted(opened.data["round_id"], SCHOOL))
    feed(submitted(helan.data["round_id"], HELAN_SCHOOL, policy_id="helan-2024"))
    for who, grant in [("hs", ("school_admin", HELAN_SCHOOL)), ("hc", ("county_reviewer", HELAN_COUNTY))]:
        [task] = client.get("/api/tasks", headers=issuer.headers(who, grant)).json["items"]
        done = client.post(
            f"/api/tasks/{task['id']}/decision",
            headers=issuer.headers(who, grant),
            json={"decision": "approve", "document_number": "贺教体发〔2019〕3号", "starts_on": "2019-09-01"},
        )
        assert done.status_code == 200, done.json  # a term of 2019-09-01 .. 2022-08-31: long over
    with approvals_service.engine.begin() as conn:
        conn.execute(text("UPDATE review_tasks SET due_at = now() - interval '1 day' WHERE status = 'open'"))

    tap = broker.tap("approvals.#")
    for name in ("APPROVALS_OVERDUE_INTERVAL", "APPROVALS_TERM_END_INTERVAL", "APPROVALS_RECTIFICATION_INTERVAL"):
        monkeypatch.setenv(name, "0.05")
    runs = {
        name: REGISTRY.get_sample_value("worker_timer_runs_total", {"timer": name, "outcome": "ok"}) or 0
        for name in ("approvals-overdue", "approvals-term-end")
    }
    for timer in timers(approvals_service):
        background.start(timer)
    background.start(OutboxRelay(bus_settings, approvals_service.session_factory))

    def ran_often() -> bool:
        return all(
            (REGISTRY.get_sample_value("worker_timer_runs_total", {"timer": n, "outcome": "ok"}) or 0) >= r + 5
            for n, r in runs.items()
        )

    def relayed() -> bool:
        with approvals_service.session_factory() as session:
            return session.execute(select(func.count()).where(outbox.c.status != "sent")).scalar_one() == 0

    wait_until(ran_often, timeout=15, message="the timers to run again and again")
    wait_until(relayed, timeout=15, message="the outbox relayed")
    published: list[dict[str, object]] = []
    while (got := broker.get(tap)) is not None:
        published.append(json.loads(got[1]))
    overdue = [m for m in published if m["type"] == "approvals.task.overdue"]
    ended = [m for m in published if m["type"] == "approvals.appointment.ended"]
    assert len(overdue) == 2 and len({m["subject"] for m in overdue}) == 2
    assert [m["data"]["ended_on"] for m in ended] == ["2022-08-31"]  # type: ignore[index]
