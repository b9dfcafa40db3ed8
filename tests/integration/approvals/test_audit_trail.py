"""The audit trail (SPEC §3, issue 4 item 6): every case, task, decision, appointment change and
evaluation is appended to it, the database refuses to rewrite it, and auditors read it in their scope."""

from __future__ import annotations

import datetime as dt

import pytest
from approvals.bootstrap import Approvals
from approvals.service_layer import reviews
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.integration.approvals.conftest import (
    CITY,
    COUNTY,
    COUNTY2,
    JIAOZUO,
    SCHOOL,
    Feed,
    round_opened,
    submitted,
    withdrawn,
)
from tests.tokens import TestIssuer

SCHOOL_ADMIN = ("school_admin", SCHOOL)
COUNTY_REVIEWER = ("county_reviewer", COUNTY)


def test_every_step_of_a_case_is_on_the_trail_an_auditor_in_scope_reads(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    opened = round_opened(JIAOZUO)
    sub = submitted(opened.data["round_id"], SCHOOL)
    feed(opened, sub)
    [unit] = client.get("/api/tasks", headers=issuer.headers("sa", SCHOOL_ADMIN)).json["items"]
    client.post(
        f"/api/tasks/{unit['id']}/decision",
        headers=issuer.headers("sa", SCHOOL_ADMIN),
        json={"decision": "approve", "seal": {"unit_name": "解放区第一实验小学", "date": "2022-10-02"}},
    )
    [county] = client.get("/api/tasks", headers=issuer.headers("cr", COUNTY_REVIEWER)).json["items"]
    client.post(
        f"/api/tasks/{county['id']}/decision",
        headers=issuer.headers("cr", COUNTY_REVIEWER),
        json={"decision": "return", "opinion": "请补充工作事迹"},
    )
    feed(
        submitted(
            opened.data["round_id"],
            SCHOOL,
            nomination_id=sub.data["nomination_id"],
            revision=2,
            returned_at_stage=1,
            event_type="nominations.nomination.resubmitted",
        )
    )
    with approvals_service.engine.begin() as conn:
        conn.execute(text("UPDATE review_tasks SET due_at = now() - interval '1 day' WHERE status = 'open'"))
    assert reviews.mark_overdue_tasks(approvals_service.uow) == 1
    feed(withdrawn(opened.data["round_id"], sub.data["nomination_id"], SCHOOL, "sa"))

    url = f"/api/cases/{unit['case_id']}/history"
    for auditor in (("auditor", "/"), ("auditor", CITY), ("auditor", COUNTY), ("auditor", SCHOOL)):
        trail = client.get(url, headers=issuer.headers("aud", auditor))
        assert trail.status_code == 200, (auditor, trail.json)
    items = trail.json["items"]
    assert [h["action"] for h in items] == [
        "case.opened",
        "task.decided",
        "task.decided",
        "case.resubmitted",
        "task.overdue",
        "case.cancelled",
    ]
    decided = items[1]
    assert decided["actor"] == "sa" and decided["org_path"] == SCHOOL and decided["at"]
    assert {k: decided["details"][k] for k in ("decision", "seal_unit_name", "seal_date", "stage_index")} == {
        "decision": "approve",
        "seal_unit_name": "解放区第一实验小学",
        "seal_date": "2022-10-02",
        "stage_index": 0,
    }
    assert (items[2]["actor"], items[2]["details"]["opinion"], items[2]["details"]["outcome"]) == (
        "cr",
        "请补充工作事迹",
        "returned",
    )
    # an auditor of another county reads nothing of it: the case does not exist for them
    other = issuer.headers("aud2", ("auditor", COUNTY2))
    assert client.get(url, headers=other).status_code == 404
    assert client.get(f"/api/cases/{unit['case_id']}", headers=other).status_code == 404
    assert client.get("/api/cases", headers=other).json["items"] == []
    # reading is all an auditor does
    assert (
        client.get("/api/cases", headers=issuer.headers("aud", ("auditor", COUNTY))).json["items"][0]["id"]
        == (unit["case_id"])
    )


def test_the_database_refuses_to_rewrite_or_delete_the_trail(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    opened = round_opened(JIAOZUO)
    feed(opened, submitted(opened.data["round_id"], SCHOOL))
    with approvals_service.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one() == 1
    for statement in (
        "UPDATE audit_log SET actor = 'someone-else'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ):
        with pytest.raises(DBAPIError, match="append-only"), approvals_service.engine.begin() as conn:
            conn.execute(text(statement))
    with approvals_service.engine.connect() as conn:
        assert conn.execute(text("SELECT actor FROM audit_log")).scalars().all() == ["school-admin"]

    # past the 180 days it must be kept, a row may be pruned (and only such a row)
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=181)
    with approvals_service.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_log (at, actor, action, target_type, target_id, org_path, outcome) "
                "VALUES (:at, 'x', 'case.opened', 'case', 'old', '/4108', 'ok')"
            ),
            {"at": old},
        )
    with approvals_service.engine.begin() as conn:
        pruned = conn.execute(text("DELETE FROM audit_log WHERE at < now() - interval '180 days'")).rowcount
    assert pruned == 1
    with approvals_service.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one() == 1
