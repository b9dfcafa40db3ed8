"""The review chain through the API on PostgreSQL: cases from nominations' events, the inbox, decisions."""

from __future__ import annotations

import datetime as dt
import io
import threading
from typing import Any

import openpyxl
from approvals.bootstrap import Approvals
from approvals.service_layer import reviews
from flask.testing import FlaskClient
from sqlalchemy import text

from shared import clock
from tests.integration.approvals.conftest import (
    CITY,
    COUNTY,
    COUNTY2,
    HELAN,
    HELAN_COUNTY,
    HELAN_SCHOOL,
    JIAOZUO,
    SCHOOL,
    SCHOOL2,
    YICHUN,
    YICHUN_POLICY,
    Feed,
    batch_sent,
    outbox_events,
    round_opened,
    submitted,
    withdrawn,
)
from tests.tokens import TestIssuer

SCHOOL_ADMIN = ("school_admin", SCHOOL)
COUNTY_REVIEWER = ("county_reviewer", COUNTY)
COUNTY2_REVIEWER = ("county_reviewer", COUNTY2)
CITY_REVIEWER = ("city_reviewer", CITY)


def open_jiaozuo_case(feed: Feed) -> tuple[str, str]:
    opened = round_opened(JIAOZUO)
    sub = submitted(opened.data["round_id"], SCHOOL)
    feed(opened, sub)
    return opened.data["round_id"], sub.data["nomination_id"]


def inbox(client: FlaskClient, issuer: TestIssuer, who: str, *grants: tuple[str, str], **query: Any) -> list[Any]:
    response = client.get("/api/tasks", headers=issuer.headers(who, *grants), query_string=query)
    assert response.status_code == 200, response.json
    return list(response.json["items"])


def decide(
    client: FlaskClient, issuer: TestIssuer, who: str, grant: tuple[str, str] | None, task_id: str, **body: Any
) -> Any:
    """`grant` None: a caller holding no grant of their own (e.g. one whose role was taken away)."""
    body.setdefault("decision", "approve")
    headers = issuer.headers(who, *([grant] if grant else []))
    return client.post(f"/api/tasks/{task_id}/decision", json=body, headers=headers)


def test_submission_assigns_the_unit_stage_then_the_county_bureau_containing_the_school(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    open_jiaozuo_case(feed)
    [unit_task] = inbox(client, issuer, "sa", SCHOOL_ADMIN)
    assert (unit_task["stage_name"], unit_task["org_path"]) == ("所在单位意见", SCHOOL)
    assert inbox(client, issuer, "cr", COUNTY_REVIEWER) == []

    seal = {"unit_name": "解放区第一实验小学", "date": "2022-10-02"}
    response = decide(client, issuer, "sa", SCHOOL_ADMIN, unit_task["id"], opinion="同意推荐", seal=seal)
    assert response.status_code == 200, response.json
    assert response.json["outcome"] == "in_review"

    [county_task] = inbox(client, issuer, "cr", COUNTY_REVIEWER)
    assert (county_task["role"], county_task["org_code"], county_task["org_path"]) == (
        "county_reviewer",
        "410802",
        COUNTY,
    )
    due = dt.datetime.fromisoformat(county_task["due_at"]) - dt.datetime.fromisoformat(county_task["assigned_at"])
    assert due == dt.timedelta(days=10)
    # another county's reviewer neither sees nor decides it; a school admin cannot decide the county stage
    assert inbox(client, issuer, "cr2", COUNTY2_REVIEWER) == []
    assert (
        client.get(f"/api/tasks/{county_task['id']}", headers=issuer.headers("cr2", COUNTY2_REVIEWER)).status_code
        == 404
    )
    assert decide(client, issuer, "cr2", COUNTY2_REVIEWER, county_task["id"]).status_code == 404
    assert decide(client, issuer, "sa", SCHOOL_ADMIN, county_task["id"]).status_code == 404
    # the unit stage is no longer current
    assert decide(client, issuer, "sa", SCHOOL_ADMIN, unit_task["id"]).status_code == 409

    decided = outbox_events(approvals_service, "approvals.review.decided")
    assert decided[0]["data"]["seal_unit_name"] == "解放区第一实验小学"
    assert decided[0]["data"]["decided_by"] == "sa"
    assert (decided[0]["data"]["stage_index"], decided[0]["data"]["stage_key"]) == (0, "unit")
    assigned = outbox_events(approvals_service, "approvals.task.assigned")
    assert [e["data"]["org_path"] for e in assigned] == [SCHOOL, COUNTY]
    # the display name is the policy's name_zh; the key is the policy's stage name
    assert [(e["data"]["stage_key"], e["data"]["stage_name"]) for e in assigned] == [
        ("unit", "所在单位意见"),
        ("county_review", "县（市、区）教育行政部门审核意见"),
    ]
    assert (county_task["stage_key"], county_task["stage_name"]) == (
        "county_review",
        "县（市、区）教育行政部门审核意见",
    )
    [opened] = outbox_events(approvals_service, "approvals.case.opened")
    assert [(s["key"], s["due_days"]) for s in opened["data"]["stages"]] == [
        ("unit", 5),
        ("county_review", 10),
        ("city_review", 10),
    ]


def test_full_jiaozuo_chain_ends_in_an_appointment_without_an_end_date(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    round_id, nomination_id = open_jiaozuo_case(feed)
    for who, grant in [("sa", SCHOOL_ADMIN), ("cr", COUNTY_REVIEWER)]:
        [task] = inbox(client, issuer, who, grant)
        assert decide(client, issuer, who, grant, task["id"], opinion="同意").status_code == 200
    feed(batch_sent(round_id, COUNTY, nomination_id))  # 报送至市教育局
    [city_task] = inbox(client, issuer, "city", CITY_REVIEWER)
    missing = decide(client, issuer, "city", CITY_REVIEWER, city_task["id"])
    assert missing.status_code == 422
    assert missing.json["errors"][0]["field"] == "document_number"

    response = decide(
        client,
        issuer,
        "city",
        CITY_REVIEWER,
        city_task["id"],
        opinion="同意聘任",
        document_number="焦教文〔2022〕88号",
        starts_on="2022-11-01",
    )
    assert response.status_code == 200, response.json
    assert response.json["outcome"] == "approved"

    [made] = outbox_events(approvals_service, "approvals.appointment.made")
    assert made["data"]["nomination_id"] == nomination_id
    # Jiaozuo's policy sets no term: the appointment lasts until revoked
    assert (made["data"]["starts_on"], made["data"]["ends_on"], made["data"]["term_number"]) == (
        "2022-11-01",
        None,
        1,
    )
    assert made["data"]["document_number"] == "焦教文〔2022〕88号"
    assert (made["data"]["policy_id"], made["data"]["training_requirement"]) == ("jiaozuo-2022", {})
    final = outbox_events(approvals_service, "approvals.review.decided")[-1]["data"]
    assert (final["outcome"], final["nomination_id"]) == ("approved", nomination_id)

    listed = client.get(
        "/api/appointments", headers=issuer.headers("cr", COUNTY_REVIEWER), query_string={"status": "active"}
    ).json["items"]
    assert [(a["id"], a["ends_on"]) for a in listed] == [(made["data"]["appointment_id"], None)]
    assert client.get("/api/appointments", headers=issuer.headers("cr2", COUNTY2_REVIEWER)).json["items"] == []

    history = client.get(
        f"/api/cases/{response.json['case_id']}/history", headers=issuer.headers("aud", ("auditor", "/"))
    )
    assert [h["action"] for h in history.json["items"]] == [
        "case.opened",
        "task.decided",
        "task.decided",
        "task.decided",
    ]

    csv_body = client.get(
        "/api/appointments/published-list",
        query_string={"round_id": round_id},
        headers=issuer.headers("city", CITY_REVIEWER),
    )
    assert csv_body.status_code == 200
    lines = csv_body.data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("序号,单位") and "解放区第一实验小学" in lines[1] and "焦教文〔2022〕88号" in lines[1]
    assert lines[1].split(",")[5:7] == ["2022-11-01", ""]  # 任期开始, 任期结束 (none: until revoked)
    xlsx = client.get(
        "/api/appointments/published-list",
        query_string={"round_id": round_id, "format": "xlsx"},
        headers=issuer.headers("city", CITY_REVIEWER),
    )
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert xlsx.headers["Content-Disposition"].endswith('.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data), read_only=True).active
    assert sheet is not None
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["序号", "单位", "单位代码", "姓名", "任期", "任期开始", "任期结束", "发文字号"]
    assert rows[1:] == [[1, "解放区第一实验小学", "4108020001", "张三", 1, "2022-11-01", None, "焦教文〔2022〕88号"]]
    # another county's bureau publishes none of this school's appointments
    elsewhere = client.get(
        "/api/appointments/published-list",
        query_string={"round_id": round_id},
        headers=issuer.headers("cr2", COUNTY2_REVIEWER),
    )
    assert elsewhere.data.decode("utf-8-sig").splitlines()[1:] == []


def test_two_reviewers_deciding_one_task_one_wins_the_other_gets_409(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    open_jiaozuo_case(feed)
    [task] = inbox(client, issuer, "sa", SCHOOL_ADMIN)
    decide(client, issuer, "sa", SCHOOL_ADMIN, task["id"])
    [county_task] = inbox(client, issuer, "cr", COUNTY_REVIEWER)
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def reviewer(who: str, decision: str) -> None:
        own = approvals_service_client(approvals_service)
        barrier.wait()
        statuses.append(
            decide(own, issuer, who, COUNTY_REVIEWER, county_task["id"], decision=decision, opinion="意见").status_code
        )

    threads = [threading.Thread(target=reviewer, args=a) for a in [("cr-a", "approve"), ("cr-b", "reject")]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 409]
    assert len(outbox_events(approvals_service, "approvals.review.decided")) == 2  # the unit stage and the winner


def approvals_service_client(service: Approvals) -> FlaskClient:
    from approvals.entrypoints.web import create_app

    return create_app(service).test_client()


def test_return_needs_an_opinion_and_resubmission_reenters_at_the_returning_stage(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    round_id, nomination_id = open_jiaozuo_case(feed)
    [task] = inbox(client, issuer, "sa", SCHOOL_ADMIN)
    decide(client, issuer, "sa", SCHOOL_ADMIN, task["id"])
    [county_task] = inbox(client, issuer, "cr", COUNTY_REVIEWER)
    refused = decide(client, issuer, "cr", COUNTY_REVIEWER, county_task["id"], decision="return")
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "opinion"
    returned = decide(
        client, issuer, "cr", COUNTY_REVIEWER, county_task["id"], decision="return", opinion="工作事迹不完整，请补充"
    )
    assert returned.json["outcome"] == "returned"
    assert inbox(client, issuer, "cr", COUNTY_REVIEWER) == []

    again = submitted(
        round_id,
        SCHOOL,
        nomination_id=nomination_id,
        revision=2,
        returned_at_stage=1,
        event_type="nominations.nomination.resubmitted",
    )
    feed(again, again)  # a redelivery changes nothing
    [back] = inbox(client, issuer, "cr", COUNTY_REVIEWER)
    assert (back["stage_index"], back["revision"]) == (1, 2)
    assert inbox(client, issuer, "sa", SCHOOL_ADMIN) == []


def test_helan_resubmission_reenters_at_the_first_stage_and_withdrawal_cancels(
    client: FlaskClient, issuer: TestIssuer, feed: Feed
) -> None:
    opened = round_opened(HELAN)
    sub = submitted(opened.data["round_id"], HELAN_SCHOOL)
    feed(opened, sub)
    school = ("school_admin", HELAN_SCHOOL)
    county = ("county_reviewer", HELAN_COUNTY)
    [task] = inbox(client, issuer, "hs", school)
    decide(client, issuer, "hs", school, task["id"])
    [county_task] = inbox(client, issuer, "hc", county)
    decide(client, issuer, "hc", county, county_task["id"], decision="return", opinion="请补充工作简历")
    feed(
        submitted(
            opened.data["round_id"],
            HELAN_SCHOOL,
            nomination_id=sub.data["nomination_id"],
            revision=2,
            returned_at_stage=1,
            event_type="nominations.nomination.resubmitted",
        )
    )
    [first_again] = inbox(client, issuer, "hs", school)
    assert first_again["stage_index"] == 0

    feed(withdrawn(opened.data["round_id"], sub.data["nomination_id"], HELAN_SCHOOL, "hs"))
    assert inbox(client, issuer, "hs", school) == []
    case = client.get(f"/api/cases/{first_again['case_id']}", headers=issuer.headers("hs", school)).json
    assert case["status"] == "cancelled"


def test_bulk_decision_is_all_or_nothing(client: FlaskClient, issuer: TestIssuer, feed: Feed) -> None:
    opened = round_opened(JIAOZUO)
    feed(opened, submitted(opened.data["round_id"], SCHOOL), submitted(opened.data["round_id"], SCHOOL))
    tasks = inbox(client, issuer, "sa", SCHOOL_ADMIN)
    assert len(tasks) == 2
    headers = issuer.headers("sa", SCHOOL_ADMIN)
    bad = client.post(
        "/api/tasks/decisions",
        headers=headers,
        json={
            "items": [
                {"task_id": tasks[0]["id"], "decision": "approve"},
                {"task_id": tasks[1]["id"], "decision": "reject"},
            ]
        },
    )
    assert bad.status_code == 422
    assert bad.json["errors"][0]["field"] == "items.1.opinion"
    assert len(inbox(client, issuer, "sa", SCHOOL_ADMIN)) == 2  # nothing written
    ok = client.post(
        "/api/tasks/decisions",
        headers=headers,
        json={
            "items": [
                {"task_id": t["id"], "decision": "approve", "seal": {"unit_name": "解放区第一实验小学"}} for t in tasks
            ]
        },
    )
    assert ok.status_code == 200, ok.json
    assert [r["outcome"] for r in ok.json["items"]] == ["in_review", "in_review"]
    assert len(inbox(client, issuer, "cr", COUNTY_REVIEWER)) == 2


def test_delegated_decision_records_both_people(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    feed(reviews_granted("cr", "county_reviewer", COUNTY), reviews_granted("cr-deputy", "county_reviewer", COUNTY))
    open_jiaozuo_case(feed)
    [task] = inbox(client, issuer, "sa", SCHOOL_ADMIN)
    decide(client, issuer, "sa", SCHOOL_ADMIN, task["id"])
    today = clock.today()
    body = {
        "role": "county_reviewer",
        "org_path": COUNTY,
        "starts_on": today.isoformat(),
        "ends_on": (today + dt.timedelta(days=7)).isoformat(),
    }
    headers = issuer.headers("cr", COUNTY_REVIEWER)
    stranger = client.post("/api/tasks/delegations", headers=headers, json={**body, "delegate_user_id": "nobody"})
    assert stranger.status_code == 422 and stranger.json["errors"][0]["field"] == "delegate_user_id"
    created = client.post("/api/tasks/delegations", headers=headers, json={**body, "delegate_user_id": "cr-deputy"})
    assert created.status_code == 201, created.json
    # the deputy decides for the reviewer, saying so; the delegation backs it
    [county_task] = inbox(client, issuer, "cr-deputy", COUNTY_REVIEWER)
    assert decide(client, issuer, "cr-deputy", COUNTY_REVIEWER, county_task["id"], on_behalf_of="cr").status_code == 200
    decided = outbox_events(approvals_service, "approvals.review.decided")[-1]["data"]
    assert (decided["decided_by"], decided["on_behalf_of"]) == ("cr-deputy", "cr")


def reviews_granted(user: str, role: str, path: str) -> Any:
    from tests.integration.approvals.conftest import event

    return event(
        "identity.role.granted",
        {
            "grant_id": f"g-{user}",
            "user_id": user,
            "role": role,
            "org_code": path.rsplit("/", 1)[1],
            "org_path": path,
            "source": "manual",
            "granted_by": "admin",
        },
        user,
    )


def reviews_revoked(user: str) -> Any:
    """`identity.role.revoked` of the grant `reviews_granted` gave `user`."""
    from tests.integration.approvals.conftest import event

    return event("identity.role.revoked", {"grant_id": f"g-{user}", "user_id": user, "revoked_by": "admin"}, user)


def test_overdue_tasks_are_reported_once(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    open_jiaozuo_case(feed)
    with approvals_service.engine.begin() as conn:
        conn.execute(text("UPDATE review_tasks SET due_at = now() - interval '1 day'"))
    assert reviews.mark_overdue_tasks(approvals_service.uow) == 1
    assert reviews.mark_overdue_tasks(approvals_service.uow) == 0
    [overdue] = outbox_events(approvals_service, "approvals.task.overdue")
    assert overdue["data"]["org_path"] == SCHOOL and overdue["data"]["escalate_to_org_path"] == COUNTY
    assert len(inbox(client, issuer, "sa", SCHOOL_ADMIN, overdue="true")) == 1


def test_a_bad_decision_names_each_field(client: FlaskClient, issuer: TestIssuer, feed: Feed) -> None:
    open_jiaozuo_case(feed)
    [task] = inbox(client, issuer, "sa", SCHOOL_ADMIN)
    response = client.post(
        f"/api/tasks/{task['id']}/decision",
        headers=issuer.headers("sa", SCHOOL_ADMIN),
        json={"decision": "maybe", "seal": {"date": "yesterday"}},
    )
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert {e["field"] for e in response.json["errors"]} == {"decision", "seal.unit_name", "seal.date"}
    assert client.get("/api/tasks").status_code == 401


def test_a_delegation_counts_only_within_its_dates_and_the_task_and_trail_record_both(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    for user in ("cr", "cr-deputy", "cr-next"):
        feed(reviews_granted(user, "county_reviewer", COUNTY))
    opened = round_opened(JIAOZUO)
    feed(opened, submitted(opened.data["round_id"], SCHOOL), submitted(opened.data["round_id"], SCHOOL))
    for task in inbox(client, issuer, "sa", SCHOOL_ADMIN):
        assert decide(client, issuer, "sa", SCHOOL_ADMIN, task["id"]).status_code == 200
    today = clock.today()
    headers = issuer.headers("cr", COUNTY_REVIEWER)
    base = {"role": "county_reviewer", "org_path": COUNTY, "delegate_user_id": "cr-deputy"}
    refused = client.post(
        "/api/tasks/delegations",
        headers=headers,
        json={**base, "role": "city_reviewer", "starts_on": today.isoformat(), "ends_on": today.isoformat()},
    )
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "role"  # not the caller's role
    backwards = client.post(
        "/api/tasks/delegations",
        headers=headers,
        json={**base, "starts_on": today.isoformat(), "ends_on": (today - dt.timedelta(days=1)).isoformat()},
    )
    assert backwards.status_code == 422 and backwards.json["errors"][0]["field"] == "ends_on"
    # next week to one colleague, today to another
    later = {
        "starts_on": (today + dt.timedelta(days=7)).isoformat(),
        "ends_on": (today + dt.timedelta(days=14)).isoformat(),
        "delegate_user_id": "cr-next",
    }
    assert client.post("/api/tasks/delegations", headers=headers, json={**base, **later}).status_code == 201
    now = {"starts_on": today.isoformat(), "ends_on": today.isoformat()}
    assert client.post("/api/tasks/delegations", headers=headers, json={**base, **now}).status_code == 201

    # next week's delegation does not count today
    first, second = inbox(client, issuer, "cr-deputy", COUNTY_REVIEWER)
    early = decide(client, issuer, "cr-next", COUNTY_REVIEWER, first["id"], opinion="同意", on_behalf_of="cr")
    assert early.status_code == 422 and early.json["errors"][0]["field"] == "on_behalf_of"

    # today's does: the deputy decides on the reviewer's behalf; the task, the event and the trail name both
    listed = client.get("/api/tasks/delegations", headers=issuer.headers("cr-deputy")).json
    assert {(d["delegator_user_id"], d["delegate_user_id"]) for d in listed["items"]} == {("cr", "cr-deputy")}
    assert (
        decide(
            client, issuer, "cr-deputy", COUNTY_REVIEWER, second["id"], opinion="同意", on_behalf_of="cr"
        ).status_code
        == 200
    )
    shown = client.get(f"/api/tasks/{second['id']}", headers=headers).json
    assert (shown["status"], shown["decided_by"], shown["on_behalf_of"]) == ("decided", "cr-deputy", "cr")
    decided = outbox_events(approvals_service, "approvals.review.decided")[-1]["data"]
    assert (decided["task_id"], decided["decided_by"], decided["on_behalf_of"]) == (second["id"], "cr-deputy", "cr")
    trail = client.get(f"/api/cases/{second['case_id']}/history", headers=issuer.headers("aud", ("auditor", CITY)))
    [by_deputy] = [h for h in trail.json["items"] if h["details"].get("stage_index") == 1]
    assert (by_deputy["actor"], by_deputy["details"]["on_behalf_of"]) == ("cr-deputy", "cr")


def test_bulk_decision_with_a_task_out_of_scope_or_already_decided_writes_nothing(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    opened = round_opened(JIAOZUO)
    feed(
        opened,
        submitted(opened.data["round_id"], SCHOOL),
        submitted(opened.data["round_id"], SCHOOL),
        submitted(opened.data["round_id"], SCHOOL2),
    )
    mine = inbox(client, issuer, "sa", SCHOOL_ADMIN)
    [elsewhere] = inbox(client, issuer, "sa2", ("school_admin", SCHOOL2))
    headers = issuer.headers("sa", SCHOOL_ADMIN)
    approve = [{"task_id": t["id"], "decision": "approve"} for t in mine]
    foreign = client.post(
        "/api/tasks/decisions",
        headers=headers,
        json={"items": [*approve, {"task_id": elsewhere["id"], "decision": "approve"}]},
    )
    assert foreign.status_code == 404 and [e["field"] for e in foreign.json["errors"]] == ["items.2.task_id"]
    assert (
        len(inbox(client, issuer, "sa", SCHOOL_ADMIN)) == 2
        and outbox_events(approvals_service, "approvals.review.decided") == []
    )

    assert decide(client, issuer, "sa", SCHOOL_ADMIN, mine[0]["id"]).status_code == 200
    stale = client.post("/api/tasks/decisions", headers=headers, json={"items": approve})
    assert stale.status_code == 409 and [e["field"] for e in stale.json["errors"]] == ["items.0.task_id"]
    twice = client.post("/api/tasks/decisions", headers=headers, json={"items": [approve[1], approve[1]]})
    assert twice.status_code == 422 and [e["field"] for e in twice.json["errors"]] == ["items.1.task_id"]
    assert [t["id"] for t in inbox(client, issuer, "sa", SCHOOL_ADMIN)] == [mine[1]["id"]]
    assert len(outbox_events(approvals_service, "approvals.review.decided")) == 1


def test_the_inbox_is_filtered_and_paginated_in_scope(client: FlaskClient, issuer: TestIssuer, feed: Feed) -> None:
    first_round, second_round = round_opened(JIAOZUO), round_opened(JIAOZUO)
    feed(first_round, second_round)
    for round_ in (first_round, first_round, second_round):
        feed(submitted(round_.data["round_id"], SCHOOL))
    feed(submitted(first_round.data["round_id"], SCHOOL2))
    everything = inbox(client, issuer, "city", ("school_admin", CITY), limit=10)
    assert len(everything) == 4  # a school_admin grant at the city covers every school below it

    seen: list[str] = []
    cursor = None
    while True:
        query: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/tasks", headers=issuer.headers("city", ("school_admin", CITY)), query_string=query).json
        seen += [t["id"] for t in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == [t["id"] for t in everything]  # two pages, no task twice, none lost

    by_round = inbox(client, issuer, "sa", SCHOOL_ADMIN, round_id=second_round.data["round_id"])
    assert len(by_round) == 1 and by_round[0]["round_id"] == second_round.data["round_id"]
    assert len(inbox(client, issuer, "city", ("school_admin", CITY), school_org_path=SCHOOL2)) == 1
    assert len(inbox(client, issuer, "sa", SCHOOL_ADMIN, stage_name="所在单位意见")) == 3
    assert inbox(client, issuer, "sa", SCHOOL_ADMIN, role="county_reviewer") == []
    assert inbox(client, issuer, "sa", SCHOOL_ADMIN, status="decided") == []
    bad = client.get("/api/tasks", headers=issuer.headers("sa", SCHOOL_ADMIN), query_string={"cursor": "%%%"})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "cursor"


def test_an_auditor_sees_the_tasks_in_scope_but_cannot_decide(
    client: FlaskClient, issuer: TestIssuer, feed: Feed
) -> None:
    open_jiaozuo_case(feed)
    auditor = ("auditor", COUNTY)
    [task] = inbox(client, issuer, "aud", auditor)
    refused = decide(client, issuer, "aud", auditor, task["id"], opinion="同意")
    assert refused.status_code == 403 and refused.content_type == "application/problem+json"
    assert inbox(client, issuer, "aud2", ("auditor", COUNTY2)) == []
    assert decide(client, issuer, "aud2", ("auditor", COUNTY2), task["id"]).status_code == 404
    assert inbox(client, issuer, "sa", SCHOOL_ADMIN)[0]["status"] == "open"


def test_yichun_return_restarts_the_chain_with_the_president(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    opened = round_opened(YICHUN_POLICY, issuing_org_code="10417", issuing_org_path=YICHUN)
    sub = submitted(opened.data["round_id"], YICHUN, policy_id="yichun-university")
    feed(opened, sub)
    president, office = ("university_president", YICHUN), ("university_office_meeting", YICHUN)
    [nominated] = inbox(client, issuer, "president", president)
    assert decide(client, issuer, "president", president, nominated["id"], opinion="提名").status_code == 200
    [meeting] = inbox(client, issuer, "office", office)
    returned = decide(client, issuer, "office", office, meeting["id"], decision="return", opinion="请补充任职经历")
    assert returned.json["outcome"] == "returned"
    [event] = [
        e for e in outbox_events(approvals_service, "approvals.review.decided") if e["data"]["outcome"] == "returned"
    ]
    assert (event["data"]["stage_key"], event["data"]["nomination_id"]) == ("office_meeting", sub.data["nomination_id"])
    feed(
        submitted(
            opened.data["round_id"],
            YICHUN,
            nomination_id=sub.data["nomination_id"],
            revision=2,
            returned_at_stage=1,
            event_type="nominations.nomination.resubmitted",
            policy_id="yichun-university",
        )
    )
    # yichun-university: resubmission_reenters first_stage — the president nominates again
    [again] = inbox(client, issuer, "president", president)
    assert (again["stage_key"], again["revision"]) == ("president_nomination", 2)
    assert inbox(client, issuer, "office", office) == []
    trail = client.get(f"/api/cases/{again['case_id']}/history", headers=issuer.headers("aud", ("auditor", YICHUN)))
    assert [h["action"] for h in trail.json["items"]] == [
        "case.opened",
        "task.decided",
        "task.decided",
        "case.resubmitted",
    ]


def test_two_final_approvals_for_one_school_make_one_appointment(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    """Two cases of one school reach the city at once: the database keeps one active appointment."""
    opened = round_opened(JIAOZUO)
    cases = submitted(opened.data["round_id"], SCHOOL), submitted(opened.data["round_id"], SCHOOL)
    feed(opened, *cases)
    for who, grant in [("sa", SCHOOL_ADMIN), ("cr", COUNTY_REVIEWER)]:
        for task in inbox(client, issuer, who, grant):
            assert decide(client, issuer, who, grant, task["id"], opinion="同意").status_code == 200
    feed(batch_sent(opened.data["round_id"], COUNTY, *(c.data["nomination_id"] for c in cases)))  # 报送至市教育局
    city_tasks = inbox(client, issuer, "city", CITY_REVIEWER)
    assert len(city_tasks) == 2
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def approve(task: dict[str, Any], number: str) -> None:
        own = approvals_service_client(approvals_service)
        barrier.wait()
        response = decide(own, issuer, "city", CITY_REVIEWER, task["id"], opinion="同意聘任", document_number=number)
        statuses.append(response.status_code)
        if response.status_code == 409:
            losers.append(response.json)

    losers: list[Any] = []
    threads = [
        threading.Thread(target=approve, args=(task, f"焦教文〔2022〕{n}号")) for n, task in enumerate(city_tasks, 90)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 409]
    # the second waited for the first and was told why, by field
    assert losers[0]["errors"] == [
        {"field": "task_id", "in": "json", "messages": ["the org already has an active CIO appointment"]}
    ]
    assert len(outbox_events(approvals_service, "approvals.appointment.made")) == 1
    active = client.get(
        "/api/appointments", headers=issuer.headers("city", CITY_REVIEWER), query_string={"status": "active"}
    ).json["items"]
    assert len(active) == 1
    # the loser's case is still at the city stage, its task open: nothing of it was written
    assert len(inbox(client, issuer, "city", CITY_REVIEWER)) == 1
