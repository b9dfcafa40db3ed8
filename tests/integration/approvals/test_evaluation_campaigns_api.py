"""Evaluation campaigns through the approvals API on PostgreSQL: seed 001 「首席信息官每年组织一次测评，不合格者限期
整改」 run by the bureau as one act with a completion overview; 宜春学院's policy orders none; an overdue
rectification tells the school and the bureau."""

from __future__ import annotations

import datetime as dt
import io

from approvals.bootstrap import Approvals
from approvals.service_layer import evaluations
from flask.testing import FlaskClient

from tests.integration.approvals.conftest import CITY, COUNTY, Feed, outbox_events
from tests.integration.approvals.test_appointments_api import PARTY, appoint_through_yichun_chain
from tests.integration.approvals.test_evaluations_api import (
    headers,
    jiaozuo_appointment,
    open_and_submit,
    verified_scores,
)
from tests.tokens import TestIssuer

CITY_EVALUATOR = ("evaluator", CITY)


def test_首席信息官每年组织一次测评_the_city_opens_the_years_evaluations_in_one_act_and_sees_completion(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    appointment_id = jiaozuo_appointment(client, issuer, feed)
    [made] = outbox_events(approvals_service, "approvals.appointment.made")
    assert [c["kind"] for c in made["data"]["evaluation_cadences"]] == ["cio_annual", "school_biennial"]
    city = issuer.headers("ev", CITY_EVALUATOR)
    campaign = {"org_code": "4108", "kind": "cio_annual", "period": 2023}

    before = client.get("/api/evaluations/campaigns", query_string=campaign, headers=city).json
    assert (before["total"], before["by_status"]["not_opened"], before["completion_rate"]) == (1, 1, 0.0)

    opened = client.post("/api/evaluations/campaigns", json=campaign, headers=city)
    assert opened.status_code == 201, opened.json
    assert (opened.json["opened"], opened.json["already_open"]) == (1, 0)
    # one act, once: a second run opens nothing twice
    again = client.post("/api/evaluations/campaigns", json=campaign, headers=city).json
    assert (again["opened"], again["already_open"]) == (0, 1)
    # a school administrator is not the bureau that runs it
    school = client.post(
        "/api/evaluations/campaigns",
        json=campaign,
        headers=issuer.headers("sa", ("school_admin", "/4108/410802/4108020001")),
    )
    assert school.status_code == 422 and school.json["errors"][0]["field"] == "org_code"

    during = client.get("/api/evaluations/campaigns", query_string=campaign, headers=city).json
    [item] = during["items"]
    assert (item["appointment_id"], item["status"], item["evaluation_id"]) == (
        appointment_id,
        "self_assessment",
        opened.json["evaluation_ids"][0],
    )
    assert during["by_status"]["self_assessment"] == 1 and during["completed"] == 0
    # the county sees its own subtree's overview too
    county = client.get(
        "/api/evaluations/campaigns",
        query_string={**campaign, "org_code": "410802"},
        headers=issuer.headers("cr", ("county_reviewer", COUNTY)),
    )
    assert county.status_code == 200 and county.json["total"] == 1


def test_宜春学院_orders_no_evaluation_so_a_campaign_opens_none(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    appoint_through_yichun_chain(client, issuer, feed)
    [made] = outbox_events(approvals_service, "approvals.appointment.made")
    assert made["data"]["evaluation_cadences"] == []  # notifications plans no evaluation reminder from this
    result = client.post(
        "/api/evaluations/campaigns",
        json={"org_code": "10417", "kind": "cio_annual", "period": dt.datetime.now(dt.UTC).year},
        headers=issuer.headers("party", PARTY),
    )
    assert result.status_code == 201, result.json
    assert (result.json["opened"], result.json["not_ordered"]) == (0, 1)


def test_不合格者限期整改_an_overdue_rectification_tells_the_school_and_the_bureau(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    appointment_id = jiaozuo_appointment(client, issuer, feed)
    sheet = open_and_submit(client, issuer, appointment_id)
    evaluator = ("evaluator", COUNTY)
    verified = client.put(
        f"/api/evaluations/{sheet.json['id']}/verification",
        headers=headers(issuer, "ev", evaluator, sheet.headers["ETag"]),
        json={
            "scores": verified_scores(sheet.json),
            "vetoes": [{"code": "V1", "triggered": True, "reason": "校园网遭勒索病毒攻击"}],
        },
    )
    final = client.post(
        f"/api/evaluations/{sheet.json['id']}/finalise",
        headers=headers(issuer, "ev", evaluator, verified.headers["ETag"]),
    )
    assert final.status_code == 200 and final.json["grade"] == "不合格"
    due = dt.date.fromisoformat(final.json["rectification"]["due_on"])
    assert evaluations.flag_overdue_rectifications(approvals_service.uow, today=due + dt.timedelta(days=1)) == 1
    [overdue] = outbox_events(approvals_service, "approvals.rectification.overdue")
    assert overdue["data"]["org_path"] == "/4108/410802/4108020001"
    # the bureau that appointed (Jiaozuo: the city) is named for notifications
    assert (overdue["data"]["bureau_role"], overdue["data"]["bureau_org_path"]) == ("city_reviewer", CITY)
    overview = client.get(
        "/api/evaluations/campaigns",
        query_string={"org_code": "4108", "kind": "cio_annual", "period": 2023},
        headers=issuer.headers("ev", CITY_EVALUATOR),
    ).json
    assert (overview["completed"], overview["grades"], overview["rectifications"]["overdue"]) == (1, {"不合格": 1}, 1)


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_整改报告_the_school_reports_with_attachments_and_the_bureau_reads_them(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    appointment_id = jiaozuo_appointment(client, issuer, feed)
    sheet = open_and_submit(client, issuer, appointment_id)
    evaluator = ("evaluator", COUNTY)
    verified = client.put(
        f"/api/evaluations/{sheet.json['id']}/verification",
        headers=headers(issuer, "ev", evaluator, sheet.headers["ETag"]),
        json={"scores": verified_scores(sheet.json), "vetoes": [{"code": "V1", "triggered": True, "reason": "事故"}]},
    )
    final = client.post(
        f"/api/evaluations/{sheet.json['id']}/finalise",
        headers=headers(issuer, "ev", evaluator, verified.headers["ETag"]),
    )
    url = f"/api/evaluations/rectifications/{final.json['rectification']['id']}/report"
    school = issuer.headers("sa", ("school_admin", "/4108/410802/4108020001"))

    # a file that is not what it claims is refused naming it, and nothing is kept
    fake = client.put(
        url,
        data={"report": "已完成整改", "attachments": [(io.BytesIO(b"MZ\x90\x00"), "整改方案.pdf")]},
        headers=school,
        content_type="multipart/form-data",
    )
    assert fake.status_code == 422 and fake.json["errors"][0]["field"] == "attachments.0"
    assert client.get(url, headers=school).status_code == 404
    # the bureau does not write the school's report
    bureau = client.put(
        url, data={"report": "x"}, headers=issuer.headers("ev", evaluator), content_type="multipart/form-data"
    )
    assert bureau.status_code == 403

    sent = client.put(
        url,
        data={"report": "已更换防火墙并完成全员网络安全培训", "attachments": [(io.BytesIO(PDF), "整改方案.pdf")]},
        headers=school,
        content_type="multipart/form-data",
    )
    assert sent.status_code == 200, sent.json
    [attachment] = sent.json["attachments"]
    assert (attachment["filename"], attachment["content_type"], attachment["size"]) == (
        "整改方案.pdf",
        "application/pdf",
        len(PDF),
    )
    [reported] = outbox_events(approvals_service, "approvals.rectification.reported")
    assert (reported["data"]["bureau_role"], reported["data"]["attachments"]) == ("city_reviewer", 1)

    # the bureau reads the report and downloads the attachment as it was sent
    read = client.get(url, headers=issuer.headers("ev", evaluator)).json
    assert read["text"] == "已更换防火墙并完成全员网络安全培训"
    file = client.get(f"{url}/attachments/{attachment['id']}", headers=issuer.headers("ev", evaluator))
    assert file.status_code == 200 and file.data == PDF and file.mimetype == "application/pdf"
    # another county sees none of it
    other = client.get(url, headers=issuer.headers("x", ("evaluator", "/4108/410821")))
    assert other.status_code == 404
