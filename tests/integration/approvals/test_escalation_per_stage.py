"""Issue 17 item 10 through the real overdue job on PostgreSQL: approvals.task.overdue names the escalation
target the round's policy gives the stage (Helan's county at the top: nobody; Yichun: 党委常委会)."""

from __future__ import annotations

from approvals.bootstrap import Approvals
from approvals.service_layer import reviews
from flask.testing import FlaskClient
from sqlalchemy import text

from tests.integration.approvals.conftest import (
    HELAN,
    HELAN_COUNTY,
    HELAN_SCHOOL,
    YICHUN,
    YICHUN_POLICY,
    Feed,
    outbox_events,
    round_opened,
    submitted,
)
from tests.tokens import TestIssuer


def overdue_now(service: Approvals) -> list[dict[str, object]]:
    with service.engine.begin() as conn:
        conn.execute(text("UPDATE review_tasks SET due_at = now() - interval '1 day' WHERE status = 'open'"))
    reviews.mark_overdue_tasks(service.uow)
    return [e["data"] for e in outbox_events(service, "approvals.task.overdue")]


def test_由教育体育局发文聘任_helans_county_stage_escalates_to_nobody(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    opened = round_opened(HELAN, issuing_org_code="640122", issuing_org_path=HELAN_COUNTY)
    feed(opened, submitted(opened.data["round_id"], HELAN_SCHOOL, policy_id="helan-2024"))
    [unit] = overdue_now(approvals_service)
    assert (unit["escalate_to_role"], unit["escalate_to_org_path"]) == ("county_reviewer", HELAN_COUNTY)

    school = ("school_admin", HELAN_SCHOOL)
    [task] = client.get("/api/tasks", headers=issuer.headers("hs", school)).json["items"]
    seal = {"unit_name": "贺兰县第一小学", "date": "2024-04-02"}
    decided = client.post(
        f"/api/tasks/{task['id']}/decision",
        json={"decision": "approve", "opinion": "同意", "seal": seal},
        headers=issuer.headers("hs", school),
    )
    assert decided.status_code == 200, decided.json
    [_, county] = overdue_now(approvals_service)
    assert county["stage_key"] == "county_appointment"
    assert (county["escalate_to_role"], county["escalate_to_org_path"]) == (None, None)


def test_报学校党委常委会批准_yichuns_president_stage_escalates_to_its_party_committee(
    feed: Feed, approvals_service: Approvals
) -> None:
    opened = round_opened(YICHUN_POLICY, issuing_org_code="10417", issuing_org_path=YICHUN)
    feed(opened, submitted(opened.data["round_id"], YICHUN, policy_id="yichun-university"))
    [president] = overdue_now(approvals_service)
    assert president["stage_key"] == "president_nomination"
    assert (president["escalate_to_role"], president["escalate_to_org_path"]) == ("party_committee", YICHUN)
