"""The `project_plan` case kind on PostgreSQL: governance's plans reviewed on the chain of approvals' plan policy
(乌教发〔2023〕97号 「由市教育局组织相关人员对建设方案进行审核评估并提出合理化建议」;
「对各区教育信息化建设项目资金进行审核」)."""

from __future__ import annotations

import uuid
from typing import Any

from approvals.bootstrap import Approvals
from flask.testing import FlaskClient
from governance.domain.events import PlanResubmitted, PlanSubmitted

from tests.integration.approvals.conftest import CITY, COUNTY, Feed, event, outbox_events
from tests.tokens import TestIssuer

CITY_REVIEWER = ("city_reviewer", CITY)


def plan_event(plan_id: str, revision: int = 1) -> Any:
    """`governance.plan.submitted` / `.resubmitted` with the payload of governance's own event classes."""
    kind = PlanResubmitted if revision > 1 else PlanSubmitted
    payload = kind(
        plan_id=plan_id,
        unit_org_code="410802",
        unit_org_path=COUNTY,
        unit_name="解放区教育局",
        title="解放区智慧校园建设项目",
        budget="1200000.00",
        funding_source="区级财政预算",
        revision=revision,
        submitted_by="county-reviewer-1",
        submitted_at="2024-03-01T08:00:00+00:00",
        flags=[{"code": "unified-identity", "kind": "function", "name": "统一身份认证", "matched": ["统一身份认证"]}],
        justification="市级平台尚未覆盖本区教师端",
    ).payload()
    return event(kind.event_type, payload, plan_id)


def city_inbox(client: FlaskClient, issuer: TestIssuer) -> list[Any]:
    response = client.get("/api/tasks", headers=issuer.headers("city", CITY_REVIEWER))
    assert response.status_code == 200, response.json
    return list(response.json["items"])


def decide(client: FlaskClient, issuer: TestIssuer, task_id: str, **body: Any) -> Any:
    body.setdefault("decision", "approve")
    return client.post(f"/api/tasks/{task_id}/decision", json=body, headers=issuer.headers("city", CITY_REVIEWER))


def test_a_submitted_plan_goes_through_city_review_funds_review_and_the_decision_with_advice(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    plan_id = str(uuid.uuid4())
    feed(plan_event(plan_id))
    stages = []
    for _ in range(3):
        [task] = city_inbox(client, issuer)
        stages.append(task["stage_name"])
        if task["stage_name"] == "审核决定（合理化建议）":
            refused = decide(client, issuer, task["id"])
            assert refused.status_code == 422
            assert refused.json["errors"][0]["field"] == "opinion"
            response = decide(client, issuer, task["id"], opinion="建议与市级数字基座统一身份认证对接，不另建认证模块")
        else:
            response = decide(client, issuer, task["id"], opinion="同意")
        assert response.status_code == 200, response.json
    assert stages == ["市教育局审核评估", "项目资金审核", "审核决定（合理化建议）"]
    assert response.json["outcome"] == "approved"
    decided = [e["data"] for e in outbox_events(approvals_service, "approvals.review.decided")]
    assert [(d["kind"], d["nomination_id"], d["outcome"]) for d in decided][-1] == ("project_plan", plan_id, "approved")
    # a plan appoints nobody
    assert outbox_events(approvals_service, "approvals.appointment.made") == []
    [opened] = [e["data"] for e in outbox_events(approvals_service, "approvals.case.opened")]
    assert opened["kind"] == "project_plan"


def test_a_redelivered_plan_submission_opens_one_case(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    plan_id = str(uuid.uuid4())
    feed(plan_event(plan_id), plan_event(plan_id))
    assert len(city_inbox(client, issuer)) == 1
    assert len(outbox_events(approvals_service, "approvals.case.opened")) == 1


def test_a_returned_plan_revised_and_resubmitted_is_read_again_from_the_city_review(
    client: FlaskClient, issuer: TestIssuer, feed: Feed
) -> None:
    plan_id = str(uuid.uuid4())
    feed(plan_event(plan_id))
    [first] = city_inbox(client, issuer)
    assert decide(client, issuer, first["id"]).status_code == 200
    [funds] = city_inbox(client, issuer)
    returned = decide(client, issuer, funds["id"], decision="return", opinion="资金来源不明确，请补充")
    assert returned.json["outcome"] == "returned"
    assert city_inbox(client, issuer) == []
    feed(plan_event(plan_id, revision=2))
    [again] = city_inbox(client, issuer)
    assert again["stage_name"] == "市教育局审核评估"
