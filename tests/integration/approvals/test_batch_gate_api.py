"""报送 before the city decides, through the API on PostgreSQL (seed 001 焦教文〔2022〕60号: 「请各县（市、区）…将焦作市
首席教育信息官推荐表、汇总表各1份，报送至市教育局」): the city's stage decides a county's form only once the county has
sent it up in its batch; a 市直 school's form has no county to wait for."""

from __future__ import annotations

import uuid

from approvals.bootstrap import Approvals
from flask.testing import FlaskClient

from tests.integration.approvals.conftest import (
    CITY,
    COUNTY,
    COUNTY2,
    JIAOZUO,
    SCHOOL,
    SCHOOL2,
    Feed,
    batch_sent,
    event,
    outbox_events,
    round_opened,
    submitted,
)
from tests.integration.approvals.test_reviews_api import decide, inbox
from tests.tokens import TestIssuer

CITY_REVIEWER = ("city_reviewer", CITY)
CITY_RUN_SCHOOL = "/4108/4108000001"


def _approve_below_the_city(client: FlaskClient, issuer: TestIssuer, school: str, county: str | None) -> None:
    chain = [("head", ("school_admin", school))] + ([("cr", ("county_reviewer", county))] if county else [])
    for who, grant in chain:
        [task] = inbox(client, issuer, who, grant)
        response = decide(client, issuer, who, grant, task["id"], opinion="同意推荐")
        assert response.status_code == 200, response.json


def test_报送至市教育局_the_city_decides_a_countys_form_only_after_the_county_sent_its_batch(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    opened = round_opened(JIAOZUO)
    round_id = opened.data["round_id"]
    sub = submitted(round_id, SCHOOL)
    feed(opened, sub)
    nomination_id = sub.data["nomination_id"]
    _approve_below_the_city(client, issuer, SCHOOL, COUNTY)

    # the city's inbox shows the task, and why it waits: the county's 报送 has not come
    [city_task] = inbox(client, issuer, "city", CITY_REVIEWER)
    assert (city_task["stage_key"], city_task["awaits_batch_from"], city_task["awaiting_batch"]) == (
        "city_review",
        COUNTY,
        True,
    )
    decisions = [
        {"opinion": "同意聘任", "document_number": "焦教文〔2022〕88号"},
        {"decision": "return", "opinion": "请补充材料"},
        {"decision": "reject", "opinion": "不同意"},
    ]
    for body in decisions:
        held = decide(client, issuer, "city", CITY_REVIEWER, city_task["id"], **body)
        assert held.status_code == 409, held.json
        assert held.headers["Content-Type"].startswith("application/problem+json")
        assert [e["field"] for e in held.json["errors"]] == ["batch"]
        assert COUNTY in held.json["detail"] and "报送" in held.json["detail"]
    assert outbox_events(approvals_service, "approvals.appointment.made") == []
    [still] = inbox(client, issuer, "city", CITY_REVIEWER)
    assert (still["id"], still["status"]) == (city_task["id"], "open")

    # another county's batch (its own forms) releases nothing of this county
    feed(batch_sent(round_id, COUNTY2, str(uuid.uuid4())))
    assert inbox(client, issuer, "city", CITY_REVIEWER)[0]["awaiting_batch"] is True

    # the county sends its batch (told twice: one receipt); the city decides
    sent = batch_sent(round_id, COUNTY, nomination_id)
    feed(sent, sent)
    [released] = inbox(client, issuer, "city", CITY_REVIEWER)
    assert released["awaiting_batch"] is False
    single = client.get(f"/api/tasks/{released['id']}", headers=issuer.headers("city", CITY_REVIEWER))
    assert single.json["awaiting_batch"] is False
    final = decide(
        client, issuer, "city", CITY_REVIEWER, released["id"], opinion="同意聘任", document_number="焦教文〔2022〕88号"
    )
    assert final.status_code == 200, final.json
    assert final.json["outcome"] == "approved" and final.json["appointment_id"]


def test_报送至市教育局_a_bulk_decision_names_the_item_whose_batch_has_not_come(
    client: FlaskClient, issuer: TestIssuer, feed: Feed
) -> None:
    opened = round_opened(JIAOZUO)
    round_id = opened.data["round_id"]
    first, second = submitted(round_id, SCHOOL), submitted(round_id, SCHOOL2)
    feed(opened, first, second)
    _approve_below_the_city(client, issuer, SCHOOL, COUNTY)
    _approve_below_the_city(client, issuer, SCHOOL2, COUNTY2)
    feed(batch_sent(round_id, COUNTY, first.data["nomination_id"]))

    tasks = {t["nomination_id"]: t for t in inbox(client, issuer, "city", CITY_REVIEWER)}
    assert {n: t["awaiting_batch"] for n, t in tasks.items()} == {
        first.data["nomination_id"]: False,
        second.data["nomination_id"]: True,
    }
    items = [
        {"task_id": tasks[first.data["nomination_id"]]["id"], "decision": "return", "opinion": "请补充"},
        {"task_id": tasks[second.data["nomination_id"]]["id"], "decision": "return", "opinion": "请补充"},
    ]
    refused = client.post("/api/tasks/decisions", json={"items": items}, headers=issuer.headers("city", CITY_REVIEWER))
    assert refused.status_code == 409, refused.json
    assert [e["field"] for e in refused.json["errors"]] == ["items.1.batch"]
    # all or nothing: the first task is still open too
    assert {t["status"] for t in inbox(client, issuer, "city", CITY_REVIEWER)} == {"open"}


def test_市直各学校_a_city_run_schools_form_waits_for_no_batch(
    client: FlaskClient, issuer: TestIssuer, feed: Feed
) -> None:
    """「各县（市、区）教育（教体）局，市直各学校」: a school directly under the city has no county, so nobody sends its
    form up; the city decides it as soon as the unit has."""
    feed(
        event(
            "identity.org.upserted",
            {
                "code": "4108000001",
                "name": "焦作市第一中学",
                "level": "school",
                "parent_code": "4108",
                "path": CITY_RUN_SCHOOL,
            },
        )
    )
    opened = round_opened(JIAOZUO)
    feed(opened, submitted(opened.data["round_id"], CITY_RUN_SCHOOL))
    _approve_below_the_city(client, issuer, CITY_RUN_SCHOOL, None)
    [city_task] = inbox(client, issuer, "city", CITY_REVIEWER)
    assert (city_task["awaits_batch_from"], city_task["awaiting_batch"]) == (None, False)
    final = decide(
        client, issuer, "city", CITY_REVIEWER, city_task["id"], opinion="同意聘任", document_number="焦教文〔2022〕89号"
    )
    assert final.status_code == 200, final.json
    assert final.json["outcome"] == "approved"
