"""Appointments through their term: renewal within the policy's limit, change filing, revocation, term end."""

from __future__ import annotations

import datetime as dt
from typing import Any

from approvals.bootstrap import Approvals
from approvals.service_layer import appointments
from flask.testing import FlaskClient

from tests.integration.approvals.conftest import (
    CITY,
    COUNTY,
    HELAN,
    HELAN_COUNTY,
    HELAN_SCHOOL,
    JIAOZUO,
    SCHOOL,
    YICHUN,
    YICHUN_POLICY,
    Feed,
    outbox_events,
    round_opened,
    submitted,
)
from tests.tokens import TestIssuer

PRESIDENT = ("university_president", YICHUN)
OFFICE = ("university_office_meeting", YICHUN)
PARTY = ("party_committee", YICHUN)


def appoint_through_yichun_chain(client: FlaskClient, issuer: TestIssuer, feed: Feed) -> dict[str, Any]:
    opened = round_opened(YICHUN_POLICY, issuing_org_code="10417", issuing_org_path=YICHUN)
    feed(opened, submitted(opened.data["round_id"], YICHUN, policy_id="yichun-university"))
    result: dict[str, Any] = {}
    for who, grant in [("president", PRESIDENT), ("office", OFFICE), ("party", PARTY)]:
        [task] = client.get("/api/tasks", headers=issuer.headers(who, grant)).json["items"]
        assert task["role"] == grant[0]
        result = client.post(
            f"/api/tasks/{task['id']}/decision",
            headers=issuer.headers(who, grant),
            json={
                "decision": "approve",
                "opinion": "同意",
                "document_number": "宜院党字〔2024〕5号",
                "starts_on": "2024-09-01",
            },
        ).json
    assert result["outcome"] == "approved"
    return result


def through_yichun_chain_again(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, candidate: str, document_number: str
) -> Any:
    """A new round's nomination of `candidate`, decided by 校长提名 → 校长办公会审议 → 党委常委会批准; the
    committee's response (its status tells whether the appointment was made)."""
    opened = round_opened(YICHUN_POLICY, issuing_org_code="10417", issuing_org_path=YICHUN)
    feed(opened, submitted(opened.data["round_id"], YICHUN, policy_id="yichun-university", candidate=candidate))
    for who, grant in [("president", PRESIDENT), ("office", OFFICE)]:
        [task] = client.get("/api/tasks", headers=issuer.headers(who, grant)).json["items"]
        decided = client.post(
            f"/api/tasks/{task['id']}/decision", headers=issuer.headers(who, grant), json={"decision": "approve"}
        )
        assert decided.status_code == 200, decided.json
    [task] = client.get("/api/tasks", headers=issuer.headers("party", PARTY)).json["items"]
    return client.post(
        f"/api/tasks/{task['id']}/decision",
        headers=issuer.headers("party", PARTY),
        json={"decision": "approve", "opinion": "同意连聘", "document_number": document_number},
    )


def test_yichun_renewal_is_not_a_single_call_of_the_party_committee(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    """「可连聘连任」 goes through 校长提名 → 校长办公会审议 → 党委常委会批准 again (tests/integration/approvals/
    test_seed_rules_api.py takes that path); `/renew` is refused with the reason, and nothing is written."""
    made = appoint_through_yichun_chain(client, issuer, feed)
    first = client.get(f"/api/appointments/{made['appointment_id']}", headers=issuer.headers("party", PARTY)).json
    assert (first["term_number"], first["starts_on"], first["ends_on"]) == (1, "2024-09-01", "2027-08-31")
    # the liaison of the university can read it, but renewal belongs to the party committee
    liaison = issuer.headers("liaison", ("liaison", YICHUN))
    assert (
        client.post(
            f"/api/appointments/{first['id']}/renew", headers=liaison, json={"document_number": "x"}
        ).status_code
        == 403
    )
    single = client.post(
        f"/api/appointments/{first['id']}/renew",
        headers=issuer.headers("party", PARTY),
        json={"document_number": "宜院党字〔2027〕9号"},
    )
    assert single.status_code == 422, single.json
    assert single.json["errors"][0]["field"] == "policy" and "连聘" in single.json["detail"]
    assert outbox_events(approvals_service, "approvals.appointment.renewed") == []
    again = client.get(f"/api/appointments/{first['id']}", headers=issuer.headers("party", PARTY)).json
    assert again["status"] == "active"


def test_filing_and_revocation_of_an_appointment(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    made = appoint_through_yichun_chain(client, issuer, feed)
    appointment_id = made["appointment_id"]
    liaison = issuer.headers("liaison", ("liaison", YICHUN))
    filed = client.post(
        f"/api/appointments/{appointment_id}/filings",
        headers=liaison,
        json={"kind": "post", "change": "职务变更：任副校长", "details": {"position": "副校长"}},
    )
    assert filed.status_code == 201, filed.json
    [event] = outbox_events(approvals_service, "approvals.appointment.filed")
    assert event["data"]["change"] == "职务变更：任副校长"
    # the body to notify: the one that appointed (notifications sends it there, tests/unit/approvals)
    assert (event["data"]["bureau_role"], event["data"]["bureau_org_path"]) == ("party_committee", YICHUN)
    assert (event["data"]["person_user_id"], event["data"]["org_code"]) == (
        made_person(client, issuer, appointment_id),
        "10417",
    )
    assert (
        client.get(f"/api/appointments/{appointment_id}/filings", headers=liaison).json["items"][0]["filed_by"]
        == "liaison"
    )

    missing_reason = client.post(
        f"/api/appointments/{appointment_id}/revoke", headers=issuer.headers("party", PARTY), json={}
    )
    assert missing_reason.status_code == 422 and missing_reason.json["errors"][0]["field"] == "reason"
    revoked = client.post(
        f"/api/appointments/{appointment_id}/revoke",
        headers=issuer.headers("party", PARTY),
        json={"reason": "整改不到位"},
    )
    assert revoked.status_code == 200 and revoked.json["status"] == "revoked"
    assert outbox_events(approvals_service, "approvals.appointment.revoked")[0]["data"]["reason"] == "整改不到位"
    history = client.get(f"/api/appointments/{appointment_id}/history", headers=issuer.headers("aud", ("auditor", "/")))
    assert [h["action"] for h in history.json["items"]] == [
        "appointment.made",
        "appointment.filed",
        "appointment.revoked",
    ]
    # outside the university's tree the appointment does not exist
    assert (
        client.get(
            f"/api/appointments/{appointment_id}", headers=issuer.headers("sa", ("school_admin", SCHOOL))
        ).status_code
        == 404
    )


def made_person(client: FlaskClient, issuer: TestIssuer, appointment_id: str) -> str:
    shown = client.get(f"/api/appointments/{appointment_id}", headers=issuer.headers("party", PARTY))
    return str(shown.json["person_user_id"])


def approve_chain(
    client: FlaskClient,
    issuer: TestIssuer,
    chain: list[tuple[str, tuple[str, str]]],
    document_number: str,
    feed: Feed | None = None,
) -> dict[str, Any]:
    """Every stage approves in turn; before a city decides, the county before it sends its batch (报送, with `feed`)."""
    result: dict[str, Any] = {}
    for step, (who, grant) in enumerate(chain):
        if grant[0] == "city_reviewer" and feed is not None:
            feed.county_sends_its_batch(chain[step - 1][1][1])
        [task] = client.get("/api/tasks", headers=issuer.headers(who, grant)).json["items"]
        result = client.post(
            f"/api/tasks/{task['id']}/decision",
            headers=issuer.headers(who, grant),
            json={"decision": "approve", "document_number": document_number, "starts_on": "2022-11-01"},
        ).json
    assert result["outcome"] == "approved", result
    return result


def test_a_helan_term_ends_by_itself_after_its_last_day(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    opened = round_opened(HELAN, issuing_org_code="640122", issuing_org_path=HELAN_COUNTY)
    feed(opened, submitted(opened.data["round_id"], HELAN_SCHOOL, policy_id="helan-2024"))
    county = ("county_reviewer", HELAN_COUNTY)
    approve_chain(client, issuer, [("hs", ("school_admin", HELAN_SCHOOL)), ("hc", county)], "贺教体发〔2022〕8号")
    [made] = outbox_events(approvals_service, "approvals.appointment.made")
    # 每届任期一般不少于3年; 一般每年不少于1次集中培训
    assert (made["data"]["starts_on"], made["data"]["ends_on"]) == ("2022-11-01", "2025-10-31")
    assert made["data"]["training_requirement"] == {"centralized_per_year": 1}
    assert appointments.end_due_terms(approvals_service.uow, today=dt.date(2025, 10, 31)) == 0
    assert appointments.end_due_terms(approvals_service.uow, today=dt.date(2025, 11, 1)) == 1
    assert appointments.end_due_terms(approvals_service.uow, today=dt.date(2025, 11, 2)) == 0
    [ended] = outbox_events(approvals_service, "approvals.appointment.ended")
    assert (ended["data"]["ended_on"], ended["data"]["term_number"]) == ("2025-10-31", 1)
    headers = issuer.headers("hc", county)
    assert (
        client.get("/api/appointments", headers=headers, query_string={"status": "ended"}).json["items"][0]["status"]
        == "ended"
    )
    assert (
        client.get("/api/appointments", headers=headers, query_string={"ends_before": "2025-01-01"}).json["items"] == []
    )
    ending = client.get(
        "/api/appointments", headers=headers, query_string={"ends_before": "2025-11-01", "org_path": HELAN_SCHOOL}
    ).json["items"]
    assert [(a["org_path"], a["ends_on"]) for a in ending] == [(HELAN_SCHOOL, "2025-10-31")]
    assert client.get("/api/appointments", headers=headers, query_string={"status": "active"}).json["items"] == []


def test_a_jiaozuo_appointment_lasts_until_revoked_and_has_nothing_to_renew(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    opened = round_opened(JIAOZUO)
    feed(opened, submitted(opened.data["round_id"], SCHOOL))
    city = ("city_reviewer", CITY)
    chain = [("sa", ("school_admin", SCHOOL)), ("cr", ("county_reviewer", COUNTY)), ("city", city)]
    made = approve_chain(client, issuer, chain, "焦教文〔2022〕88号", feed)
    appointment_id = made["appointment_id"]
    headers = issuer.headers("city", city)
    shown = client.get(f"/api/appointments/{appointment_id}", headers=headers).json
    assert (shown["starts_on"], shown["ends_on"], shown["status"]) == ("2022-11-01", None, "active")

    # the term-end timer never ends it, however late
    assert appointments.end_due_terms(approvals_service.uow, today=dt.date(2099, 1, 1)) == 0
    assert outbox_events(approvals_service, "approvals.appointment.ended") == []
    assert (
        client.get("/api/appointments", headers=headers, query_string={"ends_before": "2099-01-01"}).json["items"] == []
    )

    renewed = client.post(
        f"/api/appointments/{appointment_id}/renew", headers=headers, json={"document_number": "焦教文〔2025〕1号"}
    )
    assert renewed.status_code == 422, renewed.json
    assert renewed.json["errors"][0]["field"] == "ends_on"
    assert "nothing to renew" in renewed.json["detail"]
    assert outbox_events(approvals_service, "approvals.appointment.renewed") == []
    assert client.get(f"/api/appointments/{appointment_id}", headers=headers).json["status"] == "active"

    revoked = client.post(
        f"/api/appointments/{appointment_id}/revoke", headers=headers, json={"reason": "整改不合格，取消任命"}
    )
    assert revoked.status_code == 200 and revoked.json["status"] == "revoked"
    [event] = outbox_events(approvals_service, "approvals.appointment.revoked")
    assert event["data"]["ended_on"] == dt.datetime.now(dt.UTC).date().isoformat() and event["data"]["term_number"] == 1
