"""名单公示 through the approvals API on a real PostgreSQL database: the city publishes the people awaiting its
final approval for a period (公示期), anyone objects (异议) with contact details without signing in, and the city
resolves every objection before the appointment takes effect."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from approvals.bootstrap import Approvals
from flask.testing import FlaskClient

from tests.integration.approvals.conftest import (
    CITY,
    COUNTY,
    JIAOZUO,
    SCHOOL,
    Feed,
    outbox_events,
    round_opened,
    submitted,
)
from tests.integration.approvals.test_reviews_api import decide, inbox, open_jiaozuo_case
from tests.tokens import TestIssuer

CITY_REVIEWER = ("city_reviewer", CITY)
TODAY = dt.datetime.now(dt.UTC).date()


def at_the_city(client: FlaskClient, issuer: TestIssuer, feed: Feed) -> tuple[str, str]:
    """A Jiaozuo nomination past its unit and county: its task is the city's final approval."""
    round_id, _nomination_id = open_jiaozuo_case(feed)
    for who, grant in [("sa", ("school_admin", SCHOOL)), ("cr", ("county_reviewer", COUNTY))]:
        [task] = inbox(client, issuer, who, grant)
        assert decide(client, issuer, who, grant, task["id"], opinion="同意").status_code == 200
    feed.county_sends_its_batch(COUNTY)  # 推荐表、汇总表各1份，报送至市教育局
    [city_task] = inbox(client, issuer, "city", CITY_REVIEWER)
    return round_id, city_task["id"]


def publish(client: FlaskClient, issuer: TestIssuer, round_id: str, **body: Any) -> Any:
    return client.post(
        "/api/publications",
        json={
            "round_id": round_id,
            "org_code": "4108",
            "title": "焦作市首席教育信息官拟聘任人选公示",
            "starts_on": TODAY.isoformat(),
            "ends_on": (TODAY + dt.timedelta(days=4)).isoformat(),
            **body,
        },
        headers=issuer.headers("city", CITY_REVIEWER),
    )


def period_over(service: Approvals, publication_id: str) -> None:
    """The 公示期 passed (moved into the past in the database, as time would)."""
    with service.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE publications SET starts_on = :s, ends_on = :e WHERE id = :id"),
            {"s": TODAY - dt.timedelta(days=6), "e": TODAY - dt.timedelta(days=1), "id": publication_id},
        )


def approve(client: FlaskClient, issuer: TestIssuer, task_id: str) -> Any:
    return decide(
        client, issuer, "city", CITY_REVIEWER, task_id, opinion="同意聘任", document_number="焦教文〔2022〕88号"
    )


def test_名单公示_objections_during_the_period_are_resolved_before_the_appointment(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    round_id, task_id = at_the_city(client, issuer, feed)
    # a county reviewer is not the body that appoints: nothing of the round awaits them, nothing is published
    refused = client.post(
        "/api/publications",
        json={
            "round_id": round_id,
            "org_code": "410802",
            "title": "公示",
            "starts_on": TODAY.isoformat(),
            "ends_on": TODAY.isoformat(),
        },
        headers=issuer.headers("cr", ("county_reviewer", COUNTY)),
    )
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "round_id"
    backwards = publish(client, issuer, round_id, ends_on=(TODAY - dt.timedelta(days=1)).isoformat())
    assert backwards.status_code == 422 and backwards.json["errors"][0]["field"] == "ends_on"

    published = publish(client, issuer, round_id)
    assert published.status_code == 201, published.json
    publication = published.json
    [entry] = publication["entries"]
    assert entry["school_name"] and entry["case_id"]
    (opened,) = outbox_events(approvals_service, "approvals.publication.opened")
    assert opened["data"]["ends_on"] == (TODAY + dt.timedelta(days=4)).isoformat()
    # a person is on one list
    assert publish(client, issuer, round_id).status_code == 422

    # anyone reads the list without signing in: names and units, the period, no contact data
    public = client.get(f"/api/public/publications/{publication['id']}")
    assert public.status_code == 200, public.json
    assert public.json["state"] == "open" and public.json["accepts_objections"] is True
    assert public.json["entries"] == [
        {"case_id": entry["case_id"], "candidate_name": entry["candidate_name"], "school_name": entry["school_name"]}
    ]
    assert [p["id"] for p in client.get("/api/public/publications").json["items"]] == [publication["id"]]

    # during the period the appointment waits
    early = approve(client, issuer, task_id)
    assert early.status_code == 409 and early.json["errors"][0]["field"] == "publication"

    # an objection needs a way to reach the objector, and names someone on the list
    anonymous = client.post(
        f"/api/public/publications/{publication['id']}/objections",
        json={"case_id": entry["case_id"], "content": "该同志不在本校工作", "contact_name": "赵六"},
    )
    assert anonymous.status_code == 422 and anonymous.json["errors"][0]["field"] == "contact_phone"
    objected = client.post(
        f"/api/public/publications/{publication['id']}/objections",
        json={
            "case_id": entry["case_id"],
            "content": "该同志已调离本校",
            "contact_name": "赵六",
            "contact_phone": "13900001111",
        },
    )
    assert objected.status_code == 201, objected.json
    objection_id = objected.json["id"]
    (received,) = outbox_events(approvals_service, "approvals.objection.received")
    assert received["data"]["publisher_org_path"] == CITY and received["data"]["publisher_role"] == "city_reviewer"
    assert "13900001111" not in str(received["data"])  # contact details stay in the service

    # the city sees the objection with the objector's contact; a school does not see the publication at all
    seen = client.get(f"/api/publications/{publication['id']}", headers=issuer.headers("city", CITY_REVIEWER))
    assert [(o["contact_phone"], o["status"]) for o in seen.json["objections"]] == [("13900001111", "received")]
    school = client.get(
        f"/api/publications/{publication['id']}", headers=issuer.headers("sa", ("school_admin", SCHOOL))
    )
    assert school.status_code == 404

    period_over(approvals_service, publication["id"])
    late = client.post(
        f"/api/public/publications/{publication['id']}/objections",
        json={"content": "迟到的异议", "contact_name": "钱七", "contact_email": "q7@example.cn"},
    )
    assert late.status_code == 409 and late.json["errors"][0]["field"] == "period"
    # the period is over, but the objection is not resolved: still waiting
    unresolved = approve(client, issuer, task_id)
    assert unresolved.status_code == 409 and "异议" in unresolved.json["errors"][0]["messages"][0]

    resolved = client.post(
        f"/api/publications/{publication['id']}/objections/{objection_id}/resolution",
        json={"outcome": "dismissed", "resolution": "经核实，该同志仍在本校任职"},
        headers=issuer.headers("city", CITY_REVIEWER),
    )
    assert resolved.status_code == 200 and resolved.json["status"] == "dismissed"
    again = client.post(
        f"/api/publications/{publication['id']}/objections/{objection_id}/resolution",
        json={"outcome": "upheld", "resolution": "改判"},
        headers=issuer.headers("city", CITY_REVIEWER),
    )
    assert again.status_code == 409

    appointed = approve(client, issuer, task_id)
    assert appointed.status_code == 200, appointed.json
    assert appointed.json["outcome"] == "approved"
    assert len(outbox_events(approvals_service, "approvals.appointment.made")) == 1


def test_名单公示_an_upheld_objection_bars_the_appointment(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    round_id, task_id = at_the_city(client, issuer, feed)
    publication = publish(client, issuer, round_id).json
    [entry] = publication["entries"]
    objected = client.post(
        f"/api/public/publications/{publication['id']}/objections",
        json={
            "case_id": entry["case_id"],
            "content": "未取得合格证",
            "contact_name": "孙八",
            "contact_email": "s8@example.cn",
        },
    )
    assert objected.status_code == 201
    period_over(approvals_service, publication["id"])
    upheld = client.post(
        f"/api/publications/{publication['id']}/objections/{objected.json['id']}/resolution",
        json={"outcome": "upheld", "resolution": "经核实，异议成立"},
        headers=issuer.headers("city", CITY_REVIEWER),
    )
    assert upheld.status_code == 200
    barred = approve(client, issuer, task_id)
    assert barred.status_code == 409 and "异议成立" in barred.json["errors"][0]["messages"][0]
    rejected = decide(client, issuer, "city", CITY_REVIEWER, task_id, decision="reject", opinion="公示异议成立")
    assert rejected.status_code == 200 and rejected.json["outcome"] == "rejected"
    assert outbox_events(approvals_service, "approvals.appointment.made") == []


def test_名单公示_a_policy_that_orders_it_appoints_nobody_before_a_long_enough_period(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    """A region whose policy orders 公示 before the appointment (`publication.before_appointment`, `min_days`): the
    final approval waits for a list of at least that period; the seeds order none (test_letter… appoints without)."""
    ordering = {**JIAOZUO, "publication": {"before_appointment": True, "min_days": 5}}
    opened = round_opened(ordering)
    feed(opened, submitted(opened.data["round_id"], SCHOOL))
    round_id = opened.data["round_id"]
    for who, grant in [("sa", ("school_admin", SCHOOL)), ("cr", ("county_reviewer", COUNTY))]:
        [task] = inbox(client, issuer, who, grant)
        assert decide(client, issuer, who, grant, task["id"], opinion="同意").status_code == 200
    feed.county_sends_its_batch(COUNTY)  # 推荐表、汇总表各1份，报送至市教育局
    [city_task] = inbox(client, issuer, "city", CITY_REVIEWER)

    unlisted = approve(client, issuer, city_task["id"])
    assert unlisted.status_code == 409 and unlisted.json["errors"][0]["field"] == "publication"
    assert "名单公示" in unlisted.json["errors"][0]["messages"][0]
    short = publish(client, issuer, round_id, ends_on=(TODAY + dt.timedelta(days=3)).isoformat())
    assert short.status_code == 422 and short.json["errors"][0]["field"] == "ends_on"
    assert "不少于5天" in short.json["errors"][0]["messages"][0]

    publication = publish(client, issuer, round_id)  # five days, today included
    assert publication.status_code == 201, publication.json
    during = approve(client, issuer, city_task["id"])
    assert during.status_code == 409 and "公示期满" in during.json["errors"][0]["messages"][0]
    period_over(approvals_service, publication.json["id"])
    appointed = approve(client, issuer, city_task["id"])
    assert appointed.status_code == 200 and appointed.json["outcome"] == "approved", appointed.json
