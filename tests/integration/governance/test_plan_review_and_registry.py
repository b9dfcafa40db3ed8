"""A plan follows approvals' decisions (through the real consumer: inbox, handlers, commit) to its acceptances; the
registry's overview per district matches its records."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from flask.testing import FlaskClient
from governance.bootstrap import GovernanceService
from governance.declaration import SPEC
from sqlalchemy import select

from shared import clock
from shared.bus.envelope import CloudEvent
from shared.bus.tables import outbox
from tests.integration.governance.conftest import CITY, DISTRICT, OTHER_DISTRICT, SCHOOL, plan_body
from tests.tokens import TestIssuer

REVIEWS = next(s for s in SPEC.subscriptions if s.queue == "governance.reviews")


def decided(plan_id: str, task: str, stage: str, decision: str, outcome: str, opinion: str | None = None) -> CloudEvent:
    """`approvals.review.decided` of a project_plan case, as approvals' ReviewDecided writes it."""
    return CloudEvent(
        "approvals.review.decided",
        "/cio/approvals",
        {
            "case_id": "case-1",
            "task_id": task,
            "nomination_id": plan_id,
            "round_id": str(uuid.uuid4()),
            "school_org_path": "/1503/150302",
            "stage_index": 0,
            "stage_name": stage,
            "decision": decision,
            "opinion": opinion,
            "decided_by": "city-1",
            "on_behalf_of": None,
            "decided_at": "2024-03-10T08:00:00+00:00",
            "outcome": outcome,
            "stage_key": stage,
            "kind": "project_plan",
        },
    )


def submitted_plan(client: FlaskClient, issuer: TestIssuer) -> tuple[str, dict[str, str]]:
    district = issuer.headers("district", DISTRICT)
    created = client.post("/api/project-plans", json=plan_body(), headers=district)
    url = f"/api/project-plans/{created.json['id']}"
    sent = client.post(f"{url}/submit", json={}, headers={**district, "If-Match": created.headers["ETag"]})
    assert sent.status_code == 200, sent.json
    return created.json["id"], district


def published(service: GovernanceService, event_type: str) -> list[Any]:
    with service.session_factory() as session:
        return list(session.execute(select(outbox.c.type).where(outbox.c.type == event_type)).scalars())


def test_an_approved_plan_carries_the_city_bureaus_advice_and_is_accepted_in_stages_then_on_completion(
    client: FlaskClient, issuer: TestIssuer, governance_service: GovernanceService
) -> None:
    """宜春学院: 「阶段性验收和竣工验收」 after 乌海's 审核评估并提出合理化建议."""
    plan_id, district = submitted_plan(client, issuer)
    assert published(governance_service, "governance.plan.submitted") == ["governance.plan.submitted"]
    consumer = REVIEWS.consumer(governance_service)
    final = decided(plan_id, "t3", "decision", "approve", "approved", "建议复用市级统一身份认证")
    for e in (
        decided(plan_id, "t1", "city_review", "approve", "in_review", "同意"),
        decided(plan_id, "t2", "funds_review", "approve", "in_review", "资金合理"),
        final,
        final,  # redelivered: applied once
    ):
        consumer.process(e.to_json())
    plan = client.get(f"/api/project-plans/{plan_id}", headers=district).json
    assert plan["status"] == "approved" and plan["suggestions"] == "建议复用市级统一身份认证"
    assert [r["stage_key"] for r in plan["reviews"]] == ["city_review", "funds_review", "decision"]
    assert published(governance_service, "governance.plan.decided") == ["governance.plan.decided"]

    city = issuer.headers("city", CITY)
    url = f"/api/project-plans/{plan_id}/acceptances"
    today = clock.today()
    stage_day, done_day = (today + dt.timedelta(days=90)).isoformat(), (today + dt.timedelta(days=200)).isoformat()
    before = (today - dt.timedelta(days=3)).isoformat()
    evidence = [{"name": "阶段验收报告.pdf", "url": "https://files.example.cn/stage.pdf"}]
    # the district does not accept its own plan
    own = client.post(url, json={"kind": "stage", "accepted_on": stage_day, "evidence": evidence}, headers=district)
    assert own.status_code == 403
    no_evidence = client.post(url, json={"kind": "stage", "accepted_on": stage_day, "evidence": []}, headers=city)
    assert no_evidence.status_code == 422 and no_evidence.json["errors"][0]["field"] == "evidence"
    early = client.post(url, json={"kind": "stage", "accepted_on": before, "evidence": evidence}, headers=city)
    assert early.status_code == 422 and early.json["errors"][0]["field"] == "accepted_on"
    stage = client.post(url, json={"kind": "stage", "accepted_on": stage_day, "evidence": evidence}, headers=city)
    assert stage.status_code == 201, stage.json
    completion = client.post(
        url,
        json={"kind": "completion", "accepted_on": done_day, "evidence": evidence, "opinion": "通过竣工验收"},
        headers=city,
    )
    assert completion.status_code == 201
    plan = client.get(f"/api/project-plans/{plan_id}", headers=district).json
    assert plan["status"] == "completed"
    assert [a["kind"] for a in plan["acceptances"]] == ["stage", "completion"]
    late = client.post(url, json={"kind": "stage", "accepted_on": done_day, "evidence": evidence}, headers=city)
    assert late.status_code == 409


def test_a_returned_plan_is_revised_and_sent_again_as_a_resubmission(
    client: FlaskClient, issuer: TestIssuer, governance_service: GovernanceService
) -> None:
    plan_id, district = submitted_plan(client, issuer)
    consumer = REVIEWS.consumer(governance_service)
    consumer.process(decided(plan_id, "t1", "city_review", "return", "returned", "预算明细不全").to_json())
    read = client.get(f"/api/project-plans/{plan_id}", headers=district)
    assert read.json["status"] == "returned"
    body = {k: v for k, v in plan_body(budget="980000.00").items() if k != "unit_org_code"}
    revised = client.put(
        f"/api/project-plans/{plan_id}", json=body, headers={**district, "If-Match": read.headers["ETag"]}
    )
    assert revised.status_code == 200
    again = client.post(
        f"/api/project-plans/{plan_id}/submit", json={}, headers={**district, "If-Match": revised.headers["ETag"]}
    )
    assert again.json["status"] == "in_review" and again.json["revision"] == 2
    assert published(governance_service, "governance.plan.resubmitted") == ["governance.plan.resubmitted"]


def register(client: FlaskClient, headers: dict[str, str], org: str, name: str, **status: Any) -> dict[str, Any]:
    body = {"org_code": org, "name": name, "owner": "信息中心", "purpose": "教学管理", **status}
    response = client.post("/api/application-systems", json=body, headers=headers)
    assert response.status_code == 201, response.json
    result = response.json
    assert isinstance(result, dict)
    return result


def test_the_connected_share_per_district_matches_the_registry_and_overdue_systems_are_flagged(
    client: FlaskClient, issuer: TestIssuer
) -> None:
    """乌海: 「对新建和在用的应用系统必须与市级教育数字基座平台进行对接，实现用户统一身份认证和单点登录」."""
    connected = {"unified_identity": True, "single_sign_on": True}
    past = (clock.today() - dt.timedelta(days=1)).isoformat()
    later = (clock.today() + dt.timedelta(days=30)).isoformat()
    school = issuer.headers("school", SCHOOL)
    register(client, school, "1503020001", "智慧课堂", **connected, data_exchange=True)
    register(client, school, "1503020001", "校园安防", unified_identity=True, target_date=past)
    register(client, issuer.headers("d", DISTRICT), "150302", "区教育云", target_date=later)
    register(client, issuer.headers("d2", OTHER_DISTRICT), "150303", "海南区学籍", **connected)
    register(client, issuer.headers("city", CITY), "1503000001", "市一中选课", **connected)

    city = issuer.headers("city", CITY)
    overview = client.get("/api/application-systems/coverage", headers=city).json["districts"]
    lines = {d["district_code"]: (d["systems"], d["connected"], d["connected_share"], d["overdue"]) for d in overview}
    assert lines == {"150302": (3, 1, 0.3333, 1), "150303": (1, 1, 1.0, 0), "1503": (1, 1, 1.0, 0)}
    flagged = client.get("/api/application-systems", headers=city, query_string={"overdue": "true"}).json["items"]
    assert [s["name"] for s in flagged] == ["校园安防"]
    # a district sees its own line only
    own = client.get("/api/application-systems/coverage", headers=issuer.headers("d2", OTHER_DISTRICT)).json
    assert [d["district_code"] for d in own["districts"]] == ["150303"]


def test_connecting_a_system_updates_the_share_and_clears_its_flag(client: FlaskClient, issuer: TestIssuer) -> None:
    school = issuer.headers("school", SCHOOL)
    past = (clock.today() - dt.timedelta(days=1)).isoformat()
    system = register(client, school, "1503020001", "校园安防", target_date=past)
    assert system["overdue"] is True
    url = f"/api/application-systems/{system['id']}"
    etag = client.get(url, headers=school).headers["ETag"]
    body = {
        "name": "校园安防",
        "owner": "信息中心",
        "purpose": "安防",
        "unified_identity": True,
        "single_sign_on": True,
    }
    updated = client.put(url, json={**body, "target_date": past}, headers={**school, "If-Match": etag})
    assert updated.status_code == 200 and updated.json["connected"] is True and updated.json["overdue"] is False
    assert client.put(url, json=body, headers={**school, "If-Match": etag}).status_code == 412
    # another district's reviewer does not see it
    assert client.get(url, headers=issuer.headers("d2", OTHER_DISTRICT)).status_code == 404
