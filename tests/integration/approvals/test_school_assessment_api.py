"""The school assessment through the approvals API on PostgreSQL: seed 001 「每2年对学校信息化工作考核一次，信息化工作
不合格者限期整改，整改不合格的取消首席信息官任命」 — opened by the bureau for every school in scope (with or without a
CIO) under the round's policy, every two years, with a per-school overview; the annual 测评 stays per CIO."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from approvals.bootstrap import Approvals
from approvals.service_layer import evaluations
from flask.testing import FlaskClient

from tests.integration.approvals.conftest import (
    CITY,
    COUNTY,
    COUNTY2,
    SCHOOL,
    SCHOOL2,
    YICHUN,
    YICHUN_POLICY,
    Feed,
    outbox_events,
    round_opened,
)
from tests.integration.approvals.test_evaluations_api import headers, jiaozuo_appointment, verified_scores
from tests.tokens import TestIssuer

CITY_EVALUATOR = ("evaluator", CITY)
KIND = "school_biennial"


def _assess_and_fail(client: FlaskClient, issuer: TestIssuer, evaluation_id: str, school: str, county: str) -> Any:
    """The school self-assesses and submits; the county's evaluator verifies nothing done and finalises: 不合格."""
    sheet = client.get(f"/api/evaluations/{evaluation_id}", headers=issuer.headers("sa", ("school_admin", school)))
    scores = [{"code": r["code"], "score": 0} for r in sheet.json["indicators"] if r["scored"]]
    submitted = client.put(
        f"/api/evaluations/{evaluation_id}/self-assessment",
        headers=headers(issuer, "sa", ("school_admin", school), sheet.headers["ETag"]),
        json={"scores": scores, "summary": "本年度未开展信息化工作", "submit": True},
    )
    assert submitted.status_code == 200, submitted.json
    zero = {r["code"].replace(".", "_"): (0, "无佐证材料") for r in sheet.json["indicators"] if r["scored"]}
    verified = client.put(
        f"/api/evaluations/{evaluation_id}/verification",
        headers=headers(issuer, "ev", ("evaluator", county), submitted.headers["ETag"]),
        json={"scores": verified_scores(sheet.json, **zero), "vetoes": []},
    )
    assert verified.status_code == 200, verified.json
    final = client.post(
        f"/api/evaluations/{evaluation_id}/finalise",
        headers=headers(issuer, "ev", ("evaluator", county), verified.headers["ETag"]),
    )
    assert final.status_code == 200 and final.json["grade"] == "不合格", final.json
    return final.json


def test_每2年对学校信息化工作考核一次_every_school_with_or_without_a_cio_is_assessed_under_the_rounds_policy(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    appointment_id = jiaozuo_appointment(client, issuer, feed)  # a CIO at SCHOOL; SCHOOL2 has none
    city = issuer.headers("ev", CITY_EVALUATOR)
    round_id = client.get(f"/api/appointments/{appointment_id}", headers=city).json["round_id"]
    campaign = {"org_code": "4108", "kind": KIND, "period": 2023, "round_id": round_id}

    # the school's assessment needs the round that names the schools' policy; the CIO's 测评 takes none
    no_round = client.post("/api/evaluations/campaigns", json={**campaign, "round_id": None}, headers=city)
    assert no_round.status_code == 422 and no_round.json["errors"][0]["field"] == "round_id"
    # also where no appointment is in scope: the county without a CIO knows the kind from its region's rounds
    no_cio_county = client.post(
        "/api/evaluations/campaigns", json={**campaign, "org_code": "410821", "round_id": None}, headers=city
    )
    assert no_cio_county.status_code == 422 and no_cio_county.json["errors"][0]["field"] == "round_id"
    cio_kind = client.post("/api/evaluations/campaigns", json={**campaign, "kind": "cio_annual"}, headers=city)
    assert cio_kind.status_code == 422 and cio_kind.json["errors"][0]["field"] == "round_id"
    unknown = client.post("/api/evaluations/campaigns", json={**campaign, "round_id": str(uuid.uuid4())}, headers=city)
    assert unknown.status_code == 422 and unknown.json["errors"][0]["field"] == "round_id"
    assert unknown.headers["Content-Type"].startswith("application/problem+json")
    school = issuer.headers("sa", ("school_admin", SCHOOL))
    assert client.post("/api/evaluations/campaigns", json=campaign, headers=school).status_code == 422

    before = client.get("/api/evaluations/campaigns", query_string=campaign, headers=city).json
    assert (before["subject"], before["total"], before["by_status"]["not_opened"]) == ("school", 2, 2)
    opened = client.post("/api/evaluations/campaigns", json=campaign, headers=city)
    assert opened.status_code == 201, opened.json
    assert (opened.json["subject"], opened.json["opened"], opened.json["already_open"]) == ("school", 2, 0)

    overview = client.get("/api/evaluations/campaigns", query_string=campaign, headers=city).json
    rows = {item["org_code"]: item for item in overview["items"]}
    assert set(rows) == {"4108020001", "4108210001"}
    # the school with a CIO shows its CIO; the school without one is assessed all the same
    assert (rows["4108020001"]["person_name"], rows["4108020001"]["appointment_id"]) == ("张三", appointment_id)
    assert (rows["4108210001"]["person_name"], rows["4108210001"]["appointment_id"]) == (None, None)
    assert rows["4108210001"]["org_name"] == "修武县城关小学"
    assert {item["status"] for item in overview["items"]} == {"self_assessment"}
    no_cio = client.get(
        f"/api/evaluations/{rows['4108210001']['evaluation_id']}",
        headers=issuer.headers("sa", ("school_admin", SCHOOL2)),
    ).json
    assert (no_cio["subject"], no_cio["appointment_id"], no_cio["person_name"], no_cio["round_id"]) == (
        "school",
        None,
        None,
        round_id,
    )
    # another county's school does not see it
    other = client.get(
        f"/api/evaluations/{rows['4108210001']['evaluation_id']}",
        headers=issuer.headers("sa", ("school_admin", SCHOOL)),
    )
    assert other.status_code == 404
    # the annual 测评 stays per CIO: its overview lists the one appointment, not the schools
    annual = client.get(
        "/api/evaluations/campaigns", query_string={**campaign, "kind": "cio_annual", "round_id": None}, headers=city
    ).json
    assert (annual["subject"], annual["total"]) == ("cio", 1)

    # every 2 years: 2024 is within the cadence of 2023 for both schools
    again = client.post("/api/evaluations/campaigns", json={**campaign, "period": 2024}, headers=city).json
    assert (again["opened"], again["already_open"]) == (0, 2)

    # 信息化工作不合格者限期整改: the school without a CIO is told to rectify; nobody's appointment is named
    final = _assess_and_fail(client, issuer, rows["4108210001"]["evaluation_id"], SCHOOL2, COUNTY2)
    rectification = final["rectification"]
    assert (rectification["appointment_id"], rectification["org_code"]) == (None, "4108210001")
    recorded = [e["data"] for e in outbox_events(approvals_service, "approvals.evaluation.recorded")]
    assert [(r["evaluee"], r["appointment_id"], r["person_user_id"]) for r in recorded] == [("school", None, None)]
    due = dt.date.fromisoformat(rectification["due_on"])
    assert evaluations.flag_overdue_rectifications(approvals_service.uow, today=due + dt.timedelta(days=1)) == 1
    [overdue] = outbox_events(approvals_service, "approvals.rectification.overdue")
    # the bureau told is the policy's final body above the school (Jiaozuo: the city)
    assert (overdue["data"]["org_path"], overdue["data"]["bureau_role"], overdue["data"]["bureau_org_path"]) == (
        SCHOOL2,
        "city_reviewer",
        CITY,
    )
    shown = client.get(f"/api/evaluations/rectifications/{rectification['id']}", headers=city)
    passed = client.post(
        f"/api/evaluations/rectifications/{rectification['id']}/outcome",
        headers=headers(issuer, "ev", CITY_EVALUATOR, shown.headers["ETag"]),
        json={"outcome": "failed", "notes": "仍未开展"},
    )
    assert passed.status_code == 200 and passed.json["revoked_appointment_id"] is None  # no CIO to revoke

    # 整改不合格的取消首席信息官任命: the school with a CIO fails its rectification, and its CIO's appointment ends
    failed_school = _assess_and_fail(client, issuer, rows["4108020001"]["evaluation_id"], SCHOOL, COUNTY)
    url = f"/api/evaluations/rectifications/{failed_school['rectification']['id']}"
    shown = client.get(url, headers=city)
    failed = client.post(
        f"{url}/outcome",
        headers=headers(issuer, "ev", CITY_EVALUATOR, shown.headers["ETag"]),
        json={"outcome": "failed", "notes": "复查信息化工作仍不合格"},
    )
    assert failed.status_code == 200, failed.json
    assert failed.json["revoked_appointment_id"] == appointment_id
    assert client.get(f"/api/appointments/{appointment_id}", headers=city).json["status"] == "revoked"

    done = client.get("/api/evaluations/campaigns", query_string=campaign, headers=city).json
    assert (done["completed"], done["completion_rate"], done["grades"]) == (2, 1.0, {"不合格": 2})
    assert done["rectifications"]["failed"] == 2


def test_宜春学院_orders_no_school_assessment_so_a_campaign_opens_none(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    opened = round_opened(YICHUN_POLICY, issuing_org_code="10417", issuing_org_path=YICHUN)
    feed(opened)
    party = issuer.headers("party", ("party_committee", YICHUN))
    campaign = {"org_code": "10417", "kind": KIND, "period": 2024, "round_id": opened.data["round_id"]}
    result = client.post("/api/evaluations/campaigns", json=campaign, headers=party)
    assert result.status_code == 201, result.json
    assert (result.json["opened"], result.json["not_ordered"]) == (0, 1)
    overview = client.get("/api/evaluations/campaigns", query_string=campaign, headers=party).json
    assert (overview["total"], overview["not_ordered"], overview["items"]) == (0, 1, [])
    assert outbox_events(approvals_service, "approvals.evaluation.recorded") == []
