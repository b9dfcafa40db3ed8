"""The CIO's life after the appointment as the seeds describe it, through approvals' API and consumers on a real
PostgreSQL database: 免聘 and 换届 (issue 17.3), 贺兰县's 变更报备 (17.4), 宜春学院's 连任不超过2届 (17.5)."""

from __future__ import annotations

import uuid
from typing import Any

from approvals.bootstrap import Approvals
from flask.testing import FlaskClient

from tests.integration.approvals.conftest import (
    HELAN,
    HELAN_COUNTY,
    HELAN_SCHOOL,
    Feed,
    event,
    outbox_events,
    round_opened,
    submitted,
)
from tests.integration.approvals.test_appointments_api import (
    PARTY,
    appoint_through_yichun_chain,
    made_person,
    through_yichun_chain_again,
)
from tests.tokens import TestIssuer

UNIT = ("school_admin", HELAN_SCHOOL)
COUNTY = ("county_reviewer", HELAN_COUNTY)


def helan_appointment(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, person: str, document_number: str, starts_on: str
) -> Any:
    """A Helan round's nomination of `person`: 单位意见 then 县教育体育局审核聘任 (the county's response)."""
    opened = round_opened(HELAN, issuing_org_code="640122", issuing_org_path=HELAN_COUNTY)
    feed(opened, submitted(opened.data["round_id"], HELAN_SCHOOL, policy_id="helan-2024", candidate=person))
    [unit_task] = client.get("/api/tasks", headers=issuer.headers("head", UNIT)).json["items"]
    unit = client.post(
        f"/api/tasks/{unit_task['id']}/decision", headers=issuer.headers("head", UNIT), json={"decision": "approve"}
    )
    assert unit.status_code == 200, unit.json
    [task] = client.get("/api/tasks", headers=issuer.headers("county", COUNTY)).json["items"]
    return client.post(
        f"/api/tasks/{task['id']}/decision",
        headers=issuer.headers("county", COUNTY),
        json={"decision": "approve", "opinion": "同意聘任", "document_number": document_number, "starts_on": starts_on},
    )


def shown(client: FlaskClient, issuer: TestIssuer, appointment_id: str) -> dict[str, Any]:
    body = client.get(f"/api/appointments/{appointment_id}", headers=issuer.headers("county", COUNTY)).json
    assert isinstance(body, dict)
    return body


# -- 换届 -----------------------------------------------------------------------------------------
def test_换届_the_next_rounds_cio_takes_over_and_the_old_appointment_ends_the_day_before(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    old_cio, new_cio = str(uuid.uuid4()), str(uuid.uuid4())
    first = helan_appointment(client, issuer, feed, old_cio, "贺教体发〔2024〕1号", "2024-09-01")
    assert first.status_code == 200, first.json
    # the next round names another person: its final approval is the succession, not a conflict
    second = helan_appointment(client, issuer, feed, new_cio, "贺教体发〔2026〕7号", "2026-09-01")
    assert second.status_code == 200, second.json
    old, new = shown(client, issuer, first.json["appointment_id"]), shown(client, issuer, second.json["appointment_id"])
    assert (old["status"], old["ended_on"], old["end_reason"]) == ("ended", "2026-08-31", "succeeded")
    assert (new["status"], new["person_user_id"], new["starts_on"], new["term_number"]) == (
        "active",
        new_cio,
        "2026-09-01",
        1,
    )
    [ended] = outbox_events(approvals_service, "approvals.appointment.ended")
    assert (ended["data"]["person_user_id"], ended["data"]["reason"], ended["data"]["reason_zh"]) == (
        old_cio,
        "succeeded",
        "换届",
    )
    assert ended["data"]["successor_appointment_id"] == new["id"]
    assert outbox_events(approvals_service, "approvals.appointment.revoked") == []  # no sanction
    active = client.get(
        "/api/appointments", headers=issuer.headers("county", COUNTY), query_string={"status": "active"}
    )
    assert [a["id"] for a in active.json["items"]] == [new["id"]]


# -- 免聘 -----------------------------------------------------------------------------------------
def test_免聘_the_bureau_ends_the_appointment_of_a_cio_who_left_the_school(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    made = helan_appointment(client, issuer, feed, str(uuid.uuid4()), "贺教体发〔2024〕2号", "2024-09-01")
    url = f"/api/appointments/{made.json['appointment_id']}/end"
    body = {"reason": "left_school", "note": "调任银川市第二中学", "ended_on": "2025-02-28"}
    # the school cannot end its own CIO's appointment: the appointing bureau does
    assert client.post(url, headers=issuer.headers("head", UNIT), json=body).status_code == 403
    wrong = client.post(url, headers=issuer.headers("county", COUNTY), json={**body, "reason": "misconduct"})
    assert wrong.status_code == 422 and wrong.json["errors"][0]["field"] == "reason"
    ended = client.post(url, headers=issuer.headers("county", COUNTY), json=body)
    assert ended.status_code == 200, ended.json
    assert (ended.json["status"], ended.json["ended_on"], ended.json["end_reason"], ended.json["revoked_reason"]) == (
        "ended",
        "2025-02-28",
        "left_school",
        None,
    )
    [event_] = outbox_events(approvals_service, "approvals.appointment.ended")
    assert (event_["data"]["reason"], event_["data"]["reason_zh"], event_["data"]["note"]) == (
        "left_school",
        "调离本校",
        "调任银川市第二中学",
    )
    assert outbox_events(approvals_service, "approvals.appointment.revoked") == []
    again = client.post(url, headers=issuer.headers("county", COUNTY), json=body)
    assert again.status_code == 409


# -- 宜春学院 「任期3年，可连聘连任，连任不超过2届」 ---------------------------------------------------------
def test_连任不超过2届_a_third_consecutive_term_through_a_new_round_is_refused(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    made = appoint_through_yichun_chain(client, issuer, feed)  # 2024-09-01 .. 2027-08-31
    person = made_person(client, issuer, made["appointment_id"])
    second = through_yichun_chain_again(client, issuer, feed, person, "宜院党字〔2027〕9号")
    assert second.status_code == 200, second.json
    party = issuer.headers("party", PARTY)
    term2 = client.get(f"/api/appointments/{second.json['appointment_id']}", headers=party).json
    assert (term2["term_number"], term2["starts_on"], term2["ends_on"]) == (2, "2027-09-01", "2030-08-31")
    assert term2["previous_appointment_id"] == made["appointment_id"]
    term1 = client.get(f"/api/appointments/{made['appointment_id']}", headers=party).json
    assert (term1["status"], term1["ended_on"]) == ("renewed", "2027-08-31")
    [renewed] = outbox_events(approvals_service, "approvals.appointment.renewed")
    assert renewed["data"]["term_number"] == 2
    assert outbox_events(approvals_service, "approvals.appointment.ended") == []  # the cio role stays

    third = through_yichun_chain_again(client, issuer, feed, person, "宜院党字〔2030〕1号")
    assert third.status_code == 422, third.json
    assert third.json["errors"][0]["field"] == "term_number" and "连任不超过2届" in third.json["detail"]
    # nothing was written: the committee's task is still open
    assert len(client.get("/api/tasks", headers=party).json["items"]) == 1


def test_连任不超过2届_a_gap_ends_the_run_so_two_old_terms_bar_no_one(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    made = appoint_through_yichun_chain(client, issuer, feed)  # 2024-09-01 .. 2027-08-31, then 免聘
    person = made_person(client, issuer, made["appointment_id"])
    party = issuer.headers("party", PARTY)
    ended = client.post(
        f"/api/appointments/{made['appointment_id']}/end",
        headers=party,
        json={"reason": "reassigned", "ended_on": "2025-08-31"},
    )
    assert ended.status_code == 200, ended.json
    # more than a day after the last one ended: the person starts a new run at term 1
    back = through_yichun_chain_again(client, issuer, feed, person, "宜院党字〔2026〕3号")
    assert back.status_code == 200, back.json
    again = client.get(f"/api/appointments/{back.json['appointment_id']}", headers=party).json
    assert again["term_number"] == 1 and again["previous_appointment_id"] is None


# -- 贺兰县 「任期中若有变更，需要重新向主管教育行政部门报备」 -----------------------------------------------------
def user_moved(person: str, org_code: str, *, active: bool = True) -> Any:
    user = {
        "user_id": person,
        "username": "cio",
        "display_name": "马明",
        "org_code": org_code,
        "phone": None,
        "email": None,
        "gender": None,
        "birth_date": None,
        "external_id": None,
        "locale": "zh-CN",
        "is_active": active,
    }
    return event("identity.user.updated", {"user": user, "changed": ["org_code"]}, person)


def test_任期中若有变更_a_cio_who_leaves_the_school_raises_a_filing_the_school_owes(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    cio, successor = str(uuid.uuid4()), str(uuid.uuid4())
    made = helan_appointment(client, issuer, feed, cio, "贺教体发〔2024〕3号", "2024-09-01")
    appointment_id = made.json["appointment_id"]
    filings_url = f"/api/appointments/{appointment_id}/filings"

    feed(user_moved(cio, "6401220001"))  # a profile change within the school: nothing owed
    assert client.get(filings_url, headers=issuer.headers("head", UNIT)).json["items"] == []
    feed(user_moved(cio, "640122"), user_moved(cio, "640122"))  # moved to the bureau, told twice
    [owed] = client.get(filings_url, headers=issuer.headers("head", UNIT)).json["items"]
    assert (owed["kind"], owed["status"]) == ("person", "due") and "离开本校" in owed["change"]
    [due] = outbox_events(approvals_service, "approvals.appointment.filing_due")
    assert (due["data"]["org_path"], due["data"]["person_user_id"]) == (HELAN_SCHOOL, cio)

    # the school files the change of person: it answers the filing it owed
    incomplete = client.post(
        filings_url, headers=issuer.headers("head", UNIT), json={"kind": "person", "change": "原首席信息官调离"}
    )
    assert incomplete.status_code == 422 and incomplete.json["errors"][0]["field"] == "new_person_user_id"
    filed = client.post(
        filings_url,
        headers=issuer.headers("head", UNIT),
        json={
            "kind": "person",
            "change": "原首席信息官调任县教育体育局，由副校长接任",
            "new_person_user_id": successor,
            "new_person_name": "杨帆",
            "effective_on": "2025-03-01",
        },
    )
    assert filed.status_code == 201, filed.json
    assert (filed.json["id"], filed.json["status"]) == (owed["id"], "filed")
    [filed_event] = outbox_events(approvals_service, "approvals.appointment.filed")
    assert filed_event["data"]["details"]["kind"] == "person"
    assert (filed_event["data"]["bureau_role"], filed_event["data"]["bureau_org_path"]) == COUNTY

    decision_url = f"{filings_url}/{owed['id']}/decision"
    assert (
        client.post(decision_url, headers=issuer.headers("head", UNIT), json={"decision": "acknowledge"}).status_code
        == 403
    )
    undocumented = client.post(decision_url, headers=issuer.headers("county", COUNTY), json={"decision": "acknowledge"})
    assert undocumented.status_code == 422 and undocumented.json["errors"][0]["field"] == "document_number"
    acknowledged = client.post(
        decision_url,
        headers=issuer.headers("county", COUNTY),
        json={"decision": "acknowledge", "opinion": "同意备案", "document_number": "贺教体发〔2025〕4号"},
    )
    assert acknowledged.status_code == 200, acknowledged.json
    assert acknowledged.json["status"] == "acknowledged"
    old = shown(client, issuer, appointment_id)
    new = shown(client, issuer, acknowledged.json["successor_appointment_id"])
    assert (old["status"], old["ended_on"], old["end_reason"]) == ("ended", "2025-02-28", "changed")
    assert (new["person_user_id"], new["person_name"], new["starts_on"], new["document_number"]) == (
        successor,
        "杨帆",
        "2025-03-01",
        "贺教体发〔2025〕4号",
    )
    [ended] = outbox_events(approvals_service, "approvals.appointment.ended")
    [made_event] = [
        e
        for e in outbox_events(approvals_service, "approvals.appointment.made")
        if e["data"]["person_user_id"] == successor
    ]
    assert ended["data"]["successor_appointment_id"] == made_event["data"]["appointment_id"]
    [decided] = outbox_events(approvals_service, "approvals.appointment.filing_decided")
    assert (decided["data"]["decision"], decided["data"]["org_path"]) == ("acknowledge", HELAN_SCHOOL)


def test_任期中若有变更_the_bureau_rejects_a_filing_with_its_reason_and_nothing_changes(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    made = helan_appointment(client, issuer, feed, str(uuid.uuid4()), "贺教体发〔2024〕5号", "2024-09-01")
    filings_url = f"/api/appointments/{made.json['appointment_id']}/filings"
    unnamed = client.post(filings_url, headers=issuer.headers("head", UNIT), json={"change": "电话变更"})
    assert unnamed.status_code == 422 and unnamed.json["errors"][0]["field"] == "kind"
    filed = client.post(
        filings_url,
        headers=issuer.headers("head", UNIT),
        json={"kind": "contact", "change": "联系电话变更", "details": {"phone": "13900001111"}},
    )
    assert filed.status_code == 201, filed.json
    url = f"{filings_url}/{filed.json['id']}/decision"
    bare = client.post(url, headers=issuer.headers("county", COUNTY), json={"decision": "reject"})
    assert bare.status_code == 422 and bare.json["errors"][0]["field"] == "opinion"
    rejected = client.post(
        url, headers=issuer.headers("county", COUNTY), json={"decision": "reject", "opinion": "号码有误"}
    )
    assert rejected.status_code == 200 and rejected.json["status"] == "rejected"
    assert shown(client, issuer, made.json["appointment_id"])["status"] == "active"
    assert (
        client.post(url, headers=issuer.headers("county", COUNTY), json={"decision": "acknowledge"}).status_code == 409
    )
    assert outbox_events(approvals_service, "approvals.appointment.filing_decided")[0]["data"]["opinion"] == "号码有误"
