"""Evaluations through the API on PostgreSQL: score sheet → grade; 不合格 → rectification → failed → revoked."""

from __future__ import annotations

import datetime as dt
from typing import Any

from approvals.bootstrap import Approvals
from approvals.service_layer import evaluations
from flask.testing import FlaskClient

from tests.integration.approvals.conftest import (
    CITY,
    COUNTY,
    COUNTY2,
    JIAOZUO,
    SCHOOL,
    Feed,
    outbox_events,
    round_opened,
    submitted,
)
from tests.tokens import TestIssuer

CIO = "cio-1"
EVALUATOR = ("evaluator", COUNTY)
OTHER_EVALUATOR = ("evaluator", COUNTY2)


def jiaozuo_appointment(client: FlaskClient, issuer: TestIssuer, feed: Feed) -> str:
    """Through the real chain: school unit opinion → county bureau → city bureau (appointed 2022-11-01)."""
    opened = round_opened(JIAOZUO)
    feed(opened, submitted(opened.data["round_id"], SCHOOL, candidate=CIO))
    result: dict[str, Any] = {}
    chain = [("sa", ("school_admin", SCHOOL)), ("cr", ("county_reviewer", COUNTY)), ("city", ("city_reviewer", CITY))]
    for who, grant in chain:
        if who == "city":
            feed.county_sends_its_batch(COUNTY)  # 推荐表、汇总表各1份，报送至市教育局
        [task] = client.get("/api/tasks", headers=issuer.headers(who, grant)).json["items"]
        result = client.post(
            f"/api/tasks/{task['id']}/decision",
            headers=issuer.headers(who, grant),
            json={"decision": "approve", "document_number": "焦教文〔2022〕88号", "starts_on": "2022-11-01"},
        ).json
    assert result["outcome"] == "approved", result
    return str(result["appointment_id"])


def headers(issuer: TestIssuer, who: str, grant: tuple[str, str], etag: str | None = None) -> dict[str, str]:
    found = issuer.headers(who, grant)
    return {**found, "If-Match": etag} if etag else found


def open_and_submit(client: FlaskClient, issuer: TestIssuer, appointment_id: str, period: int = 2023) -> Any:
    """The school opens the CIO's annual evaluation and the CIO submits full self-scores with evidence."""
    school = ("school_admin", SCHOOL)
    opened = client.post(
        "/api/evaluations",
        headers=issuer.headers("sa", school),
        json={"appointment_id": appointment_id, "kind": "cio_annual", "period": period},
    )
    assert opened.status_code == 201, opened.json
    assert (opened.json["sheet_source"], opened.json["max_total"], opened.json["status"]) == (
        "platform",
        100,
        "self_assessment",
    )
    scores = [
        {"code": row["code"], "score": row["max_score"], "evidence": [f"{row['code']}.pdf"]}
        for row in opened.json["indicators"]
        if row["scored"]
    ]
    done = client.put(
        f"/api/evaluations/{opened.json['id']}/self-assessment",
        headers=headers(issuer, CIO, ("cio", SCHOOL), opened.headers["ETag"]),
        json={
            "scores": scores,
            "summary": "全年完成信息化规划与各项应用任务",
            "evidence": [{"name": "年度总结.pdf", "ref": "files/2023-summary.pdf"}],
            "submit": True,
        },
    )
    assert done.status_code == 200, done.json
    assert (done.json["status"], done.json["self_total"], done.json["submitted_by"]) == ("submitted", 100, CIO)
    return done


def verified_scores(evaluation: dict[str, Any], **deductions: tuple[float, str | None]) -> list[dict[str, Any]]:
    rows = []
    for row in evaluation["indicators"]:
        if row["scored"]:
            score, reason = deductions.get(row["code"].replace(".", "_"), (row["max_score"], None))
            rows.append({"code": row["code"], "score": score, "deduction_reason": reason})
    return rows


def test_a_full_evaluation_is_graded_from_the_verified_scores(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    appointment_id = jiaozuo_appointment(client, issuer, feed)
    sheet = open_and_submit(client, issuer, appointment_id)
    evaluation_id = sheet.json["id"]

    # a deduction without its reason is named by its position; nothing is written
    missing_reason = verified_scores(sheet.json, **{"1_2": (6, None), "3_1": (5, "融合应用未常态化")})
    refused = client.put(
        f"/api/evaluations/{evaluation_id}/verification",
        headers=headers(issuer, "ev", EVALUATOR, sheet.headers["ETag"]),
        json={"scores": missing_reason, "vetoes": [{"code": "V9", "triggered": False}]},
    )
    assert refused.status_code == 422 and refused.content_type.startswith("application/problem+json")
    assert [e["field"] for e in refused.json["errors"]] == ["scores.1.deduction_reason", "vetoes.0.code"]
    unchanged = client.get(f"/api/evaluations/{evaluation_id}", headers=issuer.headers("ev", EVALUATOR))
    assert unchanged.headers["ETag"] == sheet.headers["ETag"] and unchanged.json["verified_total"] is None

    good = verified_scores(sheet.json, **{"1_2": (6, "未明确信息化联络员"), "3_1": (5, "融合应用未常态化")})
    verified = client.put(
        f"/api/evaluations/{evaluation_id}/verification",
        headers=headers(issuer, "ev", EVALUATOR, unchanged.headers["ETag"]),
        json={"scores": good, "vetoes": [{"code": "V1", "triggered": False}]},
    )
    assert verified.status_code == 200, verified.json
    assert verified.json["verified_total"] == 86
    row = next(r for r in verified.json["indicators"] if r["code"] == "1.2")
    assert (row["self_score"], row["verified_score"], row["deduction_reason"]) == (10, 6, "未明确信息化联络员")

    final = client.post(
        f"/api/evaluations/{evaluation_id}/finalise", headers=headers(issuer, "ev", EVALUATOR, verified.headers["ETag"])
    )
    assert final.status_code == 200, final.json
    assert (final.json["status"], final.json["grade"], final.json["rectification"]) == ("finalised", "合格", None)
    [recorded] = outbox_events(approvals_service, "approvals.evaluation.recorded")
    assert {k: recorded["data"][k] for k in ("evaluation_id", "appointment_id", "person_user_id", "year", "kind")} == {
        "evaluation_id": evaluation_id,
        "appointment_id": appointment_id,
        "person_user_id": CIO,
        "year": 2023,
        "kind": "cio_annual",
    }
    assert (recorded["data"]["score"], recorded["data"]["grade"]) == (86, "合格")
    assert outbox_events(approvals_service, "approvals.rectification.ordered") == []

    # one evaluation per appointment, kind and period
    again = client.post(
        "/api/evaluations",
        headers=issuer.headers("sa", ("school_admin", SCHOOL)),
        json={"appointment_id": appointment_id, "kind": "cio_annual", "period": 2023},
    )
    assert again.status_code == 409 and again.json["errors"][0]["field"] == "period"
    # the CIO sees their own result; the auditor reads the trail
    mine = client.get("/api/evaluations", headers=issuer.headers(CIO, ("cio", SCHOOL))).json["items"]
    assert [(e["id"], e["grade"]) for e in mine] == [(evaluation_id, "合格")]
    history = client.get(f"/api/evaluations/{evaluation_id}/history", headers=issuer.headers("aud", ("auditor", CITY)))
    assert [h["action"] for h in history.json["items"]] == [
        "evaluation.opened",
        "evaluation.submitted",
        "evaluation.verified",
        "evaluation.finalised",
    ]


def test_jiaozuo_unqualified_orders_rectification_and_its_failure_revokes_the_appointment(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    appointment_id = jiaozuo_appointment(client, issuer, feed)
    sheet = open_and_submit(client, issuer, appointment_id)
    evaluation_id = sheet.json["id"]
    verified = client.put(
        f"/api/evaluations/{evaluation_id}/verification",
        headers=headers(issuer, "ev", EVALUATOR, sheet.headers["ETag"]),
        json={
            "scores": verified_scores(sheet.json),
            "vetoes": [{"code": "V1", "triggered": True, "reason": "2023年5月校园网遭勒索病毒攻击"}],
        },
    )
    assert verified.status_code == 200, verified.json
    final = client.post(
        f"/api/evaluations/{evaluation_id}/finalise", headers=headers(issuer, "ev", EVALUATOR, verified.headers["ETag"])
    )
    assert final.status_code == 200, final.json
    assert (final.json["grade"], final.json["verified_total"], final.json["vetoed"]) == ("不合格", 100, True)
    rectification = final.json["rectification"]
    due = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=90)  # the policy's rectification_due_days
    assert (rectification["status"], rectification["due_on"]) == ("ordered", due.isoformat())
    [ordered] = outbox_events(approvals_service, "approvals.rectification.ordered")
    assert ordered["data"] == {
        "rectification_id": rectification["id"],
        "evaluation_id": evaluation_id,
        "appointment_id": appointment_id,
        "org_path": SCHOOL,
        "due_on": due.isoformat(),
        "reason": "一票否决：发生重大网络安全事件（2023年5月校园网遭勒索病毒攻击）",
        "org_code": SCHOOL.rsplit("/", 1)[1],
        "kind": "cio_annual",
    }
    [recorded] = outbox_events(approvals_service, "approvals.evaluation.recorded")
    assert recorded["data"]["grade"] == "不合格"

    # past due with no outcome: the timer flags it once
    assert evaluations.flag_overdue_rectifications(approvals_service.uow, today=due) == 0
    assert evaluations.flag_overdue_rectifications(approvals_service.uow, today=due + dt.timedelta(days=1)) == 1
    assert evaluations.flag_overdue_rectifications(approvals_service.uow, today=due + dt.timedelta(days=2)) == 0
    url = f"/api/evaluations/rectifications/{rectification['id']}"
    shown = client.get(url, headers=issuer.headers("ev", EVALUATOR))
    assert shown.json["overdue_at"] is not None
    listed = client.get(
        "/api/evaluations/rectifications", headers=issuer.headers("ev", EVALUATOR), query_string={"overdue": "true"}
    )
    assert [r["id"] for r in listed.json["items"]] == [rectification["id"]]

    # the school cannot judge its own rectification; a failure needs its reason
    school = client.post(
        f"{url}/outcome",
        headers=headers(issuer, "sa", ("school_admin", SCHOOL), shown.headers["ETag"]),
        json={"outcome": "failed", "notes": "x"},
    )
    assert school.status_code == 403
    no_notes = client.post(
        f"{url}/outcome", headers=headers(issuer, "ev", EVALUATOR, shown.headers["ETag"]), json={"outcome": "failed"}
    )
    assert no_notes.status_code == 422 and no_notes.json["errors"][0]["field"] == "notes"

    failed = client.post(
        f"{url}/outcome",
        headers=headers(issuer, "ev", EVALUATOR, shown.headers["ETag"]),
        json={"outcome": "failed", "notes": "复查网络安全责任制仍未落实"},
    )
    assert failed.status_code == 200, failed.json
    assert failed.json["rectification"]["status"] == "failed"
    assert failed.json["revoked_appointment_id"] == appointment_id
    appointment = client.get(
        f"/api/appointments/{appointment_id}", headers=issuer.headers("city", ("city_reviewer", CITY))
    )
    assert appointment.json["status"] == "revoked"
    assert appointment.json["revoked_reason"] == "整改不合格，取消首席信息官任命：复查网络安全责任制仍未落实"
    [revoked] = outbox_events(approvals_service, "approvals.appointment.revoked")
    assert (revoked["data"]["appointment_id"], revoked["data"]["revoked_by"]) == (appointment_id, "ev")
    assert revoked["data"]["reason"].startswith("整改不合格")
    trail = client.get(f"/api/appointments/{appointment_id}/history", headers=issuer.headers("aud", ("auditor", CITY)))
    assert [h["action"] for h in trail.json["items"]][-1] == "appointment.revoked"
    assert trail.json["items"][-1]["details"]["rectification_id"] == rectification["id"]
    steps = client.get(f"{url}/history", headers=issuer.headers("aud", ("auditor", CITY))).json["items"]
    assert [h["action"] for h in steps] == ["rectification.ordered", "rectification.overdue", "rectification.failed"]
    # recorded once: a second outcome is a conflict, and nothing more is revoked
    twice = client.post(
        f"{url}/outcome",
        headers=headers(issuer, "ev", EVALUATOR, "*"),
        json={"outcome": "passed"},
    )
    assert twice.status_code == 409
    assert len(outbox_events(approvals_service, "approvals.appointment.revoked")) == 1


def test_another_countys_evaluator_finds_nothing_and_the_school_cannot_verify(
    client: FlaskClient, issuer: TestIssuer, feed: Feed
) -> None:
    appointment_id = jiaozuo_appointment(client, issuer, feed)
    sheet = open_and_submit(client, issuer, appointment_id)
    evaluation_id, etag = sheet.json["id"], sheet.headers["ETag"]
    other = issuer.headers("ev2", OTHER_EVALUATOR)
    assert client.get(f"/api/evaluations/{evaluation_id}", headers=other).status_code == 404
    assert client.get("/api/evaluations", headers=other).json["items"] == []
    body = {"scores": verified_scores(sheet.json), "vetoes": []}
    assert (
        client.put(
            f"/api/evaluations/{evaluation_id}/verification",
            headers=headers(issuer, "ev2", OTHER_EVALUATOR, etag),
            json=body,
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/api/evaluations",
            headers=other,
            json={"appointment_id": appointment_id, "kind": "school_biennial", "period": 2023},
        ).status_code
        == 422
    )
    school = client.put(
        f"/api/evaluations/{evaluation_id}/verification",
        headers=headers(issuer, "sa", ("school_admin", SCHOOL), etag),
        json=body,
    )
    assert school.status_code == 403
    # a kind the policy does not order is refused by name; the county reviewer verifies as the bureau
    refused = client.post(
        "/api/evaluations",
        headers=issuer.headers("sa", ("school_admin", SCHOOL)),
        json={"appointment_id": appointment_id, "kind": "cto_annual", "period": 2023},
    )
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "kind"
    reviewer = client.put(
        f"/api/evaluations/{evaluation_id}/verification",
        headers=headers(issuer, "cr", ("county_reviewer", COUNTY), etag),
        json=body,
    )
    assert reviewer.status_code == 200 and reviewer.json["verified_by"] == "cr"


def test_a_stale_if_match_is_412_and_a_missing_one_428(client: FlaskClient, issuer: TestIssuer, feed: Feed) -> None:
    appointment_id = jiaozuo_appointment(client, issuer, feed)
    school = ("school_admin", SCHOOL)
    # 每2年对学校信息化工作考核一次 is the school's, not the appointment's: it is not opened through the appointment
    per_appointment = client.post(
        "/api/evaluations",
        headers=issuer.headers("sa", school),
        json={"appointment_id": appointment_id, "kind": "school_biennial", "period": 2023},
    )
    assert per_appointment.status_code == 422 and per_appointment.json["errors"][0]["field"] == "kind"
    round_id = client.get(f"/api/appointments/{appointment_id}", headers=issuer.headers("sa", school)).json["round_id"]
    campaign = {"org_code": "410802", "kind": "school_biennial", "period": 2023, "round_id": round_id}
    run = client.post("/api/evaluations/campaigns", headers=issuer.headers("ev", EVALUATOR), json=campaign)
    assert run.status_code == 201 and run.json["opened"] == 1, run.json
    opened = client.get(f"/api/evaluations/{run.json['evaluation_ids'][0]}", headers=issuer.headers("sa", school))
    assert opened.status_code == 200 and opened.json["sheet_name"] == "学校信息化工作考核表"
    url = f"/api/evaluations/{opened.json['id']}/self-assessment"
    first_etag = opened.headers["ETag"]
    draft = {"scores": [{"code": "1.1", "score": 9}], "summary": "初稿"}
    saved = client.put(url, headers=headers(issuer, "sa", school, first_etag), json=draft)
    assert saved.status_code == 200 and saved.headers["ETag"] != first_etag
    stale = client.put(
        url, headers=headers(issuer, "sa", school, first_etag), json={"scores": [{"code": "1.1", "score": 5}]}
    )
    assert stale.status_code == 412
    assert client.put(url, headers=issuer.headers("sa", school), json=draft).status_code == 428
    shown = client.get(f"/api/evaluations/{opened.json['id']}", headers=issuer.headers("sa", school)).json
    assert next(r for r in shown["indicators"] if r["code"] == "1.1")["self_score"] == 9
    # biennial: 2024 is within two years of 2023, so the school is not assessed again
    too_soon = client.post(
        "/api/evaluations/campaigns", headers=issuer.headers("ev", EVALUATOR), json={**campaign, "period": 2024}
    )
    assert too_soon.status_code == 201 and (too_soon.json["opened"], too_soon.json["already_open"]) == (0, 1)
