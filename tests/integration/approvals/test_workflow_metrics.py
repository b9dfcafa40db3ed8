"""The workflow metrics of issue 4 item 7: open tasks by stage, overdue tasks, decisions by outcome,
time to decision, active appointments, appointments ending within 90 days."""

from __future__ import annotations

import datetime as dt

from approvals.adapters import metrics
from approvals.bootstrap import Approvals
from approvals.service_layer import reviews
from flask.testing import FlaskClient
from prometheus_client import REGISTRY
from sqlalchemy import text

from tests.integration.approvals.conftest import (
    HELAN,
    HELAN_COUNTY,
    HELAN_SCHOOL,
    JIAOZUO,
    SCHOOL,
    Feed,
    round_opened,
    submitted,
)
from tests.tokens import TestIssuer

SCHOOL_ADMIN = ("school_admin", SCHOOL)
UNIT, COUNTY_STAGE = "所在单位意见", "县（市、区）教育行政部门审核意见"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def refresh(service: Approvals, today: dt.date | None = None) -> None:
    with service.session_factory() as session:
        metrics.refresh_gauges(session, today=today)


def test_decisions_are_counted_by_outcome_with_their_wait_and_refusals_are_not(
    client: FlaskClient, issuer: TestIssuer, feed: Feed
) -> None:
    opened = round_opened(JIAOZUO)
    feed(opened, *(submitted(opened.data["round_id"], SCHOOL) for _ in range(3)))
    tasks = client.get("/api/tasks", headers=issuer.headers("sa", SCHOOL_ADMIN)).json["items"]
    before = {d: sample("approvals_decisions_total", decision=d) for d in ("approve", "return", "reject")}
    waited = sample("approvals_time_to_decision_seconds_count")

    def post(path: str, body: object) -> int:
        return client.post(path, headers=issuer.headers("sa", SCHOOL_ADMIN), json=body).status_code

    # refused: a reject without its opinion, and a bulk call with one bad item — nothing recorded, nothing counted
    assert post(f"/api/tasks/{tasks[0]['id']}/decision", {"decision": "reject"}) == 422
    bulk = [{"task_id": tasks[1]["id"], "decision": "approve"}, {"task_id": tasks[2]["id"], "decision": "return"}]
    assert post("/api/tasks/decisions", {"items": bulk}) == 422
    assert sample("approvals_decisions_total", decision="approve") == before["approve"]
    assert sample("approvals_time_to_decision_seconds_count") == waited

    assert post(f"/api/tasks/{tasks[0]['id']}/decision", {"decision": "reject", "opinion": "不符合条件"}) == 200
    bulk[1]["opinion"] = "请补充"
    assert post("/api/tasks/decisions", {"items": bulk}) == 200
    after = {d: sample("approvals_decisions_total", decision=d) - before[d] for d in before}
    assert after == {"approve": 1, "return": 1, "reject": 1}
    assert sample("approvals_time_to_decision_seconds_count") == waited + 3
    # each waited less than a minute (the smallest bucket)
    assert sample("approvals_time_to_decision_seconds_bucket", le="60.0") >= 3


def test_the_gauges_count_open_and_overdue_tasks_by_stage_and_appointments_ending(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    opened = round_opened(JIAOZUO)
    feed(opened, submitted(opened.data["round_id"], SCHOOL), submitted(opened.data["round_id"], SCHOOL))
    first, _ = client.get("/api/tasks", headers=issuer.headers("sa", SCHOOL_ADMIN)).json["items"]
    client.post(
        f"/api/tasks/{first['id']}/decision", headers=issuer.headers("sa", SCHOOL_ADMIN), json={"decision": "approve"}
    )
    refresh(approvals_service)
    assert sample("approvals_open_tasks", stage=UNIT) == 1
    assert sample("approvals_open_tasks", stage=COUNTY_STAGE) == 1
    assert sample("approvals_overdue_tasks") == 0

    with approvals_service.engine.begin() as conn:
        conn.execute(text(f"UPDATE review_tasks SET due_at = now() - interval '1 hour' WHERE stage_name = '{UNIT}'"))
    reviews.mark_overdue_tasks(approvals_service.uow)
    refresh(approvals_service)
    assert sample("approvals_overdue_tasks") == 1

    # a Helan term (3 years from 2022-11-01, to 2025-10-31) counts as active, and as ending within 90 days
    # from 2025-08-02 on
    helan = round_opened(HELAN, issuing_org_code="640122", issuing_org_path=HELAN_COUNTY)
    feed(helan, submitted(helan.data["round_id"], HELAN_SCHOOL, policy_id="helan-2024"))
    for who, grant in [("hs", ("school_admin", HELAN_SCHOOL)), ("hc", ("county_reviewer", HELAN_COUNTY))]:
        [task] = client.get("/api/tasks", headers=issuer.headers(who, grant)).json["items"]
        done = client.post(
            f"/api/tasks/{task['id']}/decision",
            headers=issuer.headers(who, grant),
            json={"decision": "approve", "document_number": "贺教体发〔2022〕8号", "starts_on": "2022-11-01"},
        )
        assert done.status_code == 200, done.json
    refresh(approvals_service, today=dt.date(2025, 8, 1))
    assert (sample("approvals_active_appointments"), sample("approvals_appointments_ending_within_90_days")) == (1, 0)
    refresh(approvals_service, today=dt.date(2025, 8, 2))
    assert (sample("approvals_active_appointments"), sample("approvals_appointments_ending_within_90_days")) == (1, 1)
    # the open tasks of Helan are gone: its chain is done; the decided Jiaozuo unit task is no longer open
    assert sample("approvals_open_tasks", stage="单位意见") == 0
    assert sample("approvals_open_tasks", stage=UNIT) == 1
