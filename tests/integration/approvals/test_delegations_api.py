"""Delegation (委托) through the API on PostgreSQL: who decides in whose name, and revoking a delegation."""

from __future__ import annotations

import datetime as dt
from typing import Any

from approvals.bootstrap import Approvals
from flask.testing import FlaskClient
from sqlalchemy import text

from shared import clock
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
from tests.integration.approvals.test_reviews_api import (
    COUNTY_REVIEWER,
    SCHOOL_ADMIN,
    decide,
    inbox,
    reviews_granted,
    reviews_revoked,
)
from tests.tokens import TestIssuer


def at_the_county_stage(feed: Feed, client: FlaskClient, issuer: TestIssuer, cases: int = 1) -> list[Any]:
    """`cases` Jiaozuo cases past the unit stage: their open county tasks."""
    opened = round_opened(JIAOZUO)
    feed(opened, *(submitted(opened.data["round_id"], SCHOOL) for _ in range(cases)))
    for task in inbox(client, issuer, "sa", SCHOOL_ADMIN):
        assert decide(client, issuer, "sa", SCHOOL_ADMIN, task["id"]).status_code == 200
    return inbox(client, issuer, "cr", COUNTY_REVIEWER)


def delegate_this_week(client: FlaskClient, issuer: TestIssuer, delegator: str = "cr", to: str = "cr-deputy") -> Any:
    today = clock.today()
    created = client.post(
        "/api/tasks/delegations",
        headers=issuer.headers(delegator, COUNTY_REVIEWER),
        json={
            "role": "county_reviewer",
            "org_path": COUNTY,
            "delegate_user_id": to,
            "starts_on": today.isoformat(),
            "ends_on": (today + dt.timedelta(days=7)).isoformat(),
        },
    )
    assert created.status_code == 201, created.json
    return created.json


def revoke(client: FlaskClient, issuer: TestIssuer, delegation_id: str, who: str, *grants: tuple[str, str]) -> Any:
    return client.post(f"/api/tasks/delegations/{delegation_id}/revoke", headers=issuer.headers(who, *grants))


def test_a_reviewer_with_their_own_grant_decides_in_their_own_name(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    feed(reviews_granted("cr", "county_reviewer", COUNTY), reviews_granted("cr-deputy", "county_reviewer", COUNTY))
    [task] = at_the_county_stage(feed, client, issuer)
    delegate_this_week(client, issuer)
    # a delegation covers the deputy, but they decide for themselves unless they say otherwise
    assert decide(client, issuer, "cr-deputy", COUNTY_REVIEWER, task["id"], opinion="同意").status_code == 200
    shown = client.get(f"/api/tasks/{task['id']}", headers=issuer.headers("cr", COUNTY_REVIEWER)).json
    assert (shown["decided_by"], shown["on_behalf_of"]) == ("cr-deputy", None)
    decided = outbox_events(approvals_service, "approvals.review.decided")[-1]["data"]
    assert (decided["decided_by"], decided["on_behalf_of"]) == ("cr-deputy", None)
    trail = client.get(f"/api/cases/{task['case_id']}/history", headers=issuer.headers("aud", ("auditor", CITY)))
    [county] = [h for h in trail.json["items"] if h["details"].get("stage_index") == 1]
    assert (county["actor"], county["details"]["on_behalf_of"]) == ("cr-deputy", None)


def test_deciding_for_a_colleague_is_refused_without_their_delegation(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    feed(reviews_granted("cr", "county_reviewer", COUNTY), reviews_granted("cr-deputy", "county_reviewer", COUNTY))
    [task] = at_the_county_stage(feed, client, issuer)
    claimed = decide(client, issuer, "cr-deputy", COUNTY_REVIEWER, task["id"], on_behalf_of="cr")
    assert claimed.status_code == 422 and claimed.json["errors"][0]["field"] == "on_behalf_of"
    shown = client.get(f"/api/tasks/{task['id']}", headers=issuer.headers("cr", COUNTY_REVIEWER)).json
    assert shown["status"] == "open"  # nothing was written
    assert outbox_events(approvals_service, "approvals.review.decided")[-1]["data"]["task_id"] != task["id"]


def test_a_revoked_delegation_can_no_longer_be_claimed(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    feed(reviews_granted("cr", "county_reviewer", COUNTY), reviews_granted("cr-deputy", "county_reviewer", COUNTY))
    first, second = at_the_county_stage(feed, client, issuer, cases=2)
    delegation = delegate_this_week(client, issuer)
    assert decide(client, issuer, "cr-deputy", COUNTY_REVIEWER, first["id"], on_behalf_of="cr").status_code == 200

    revoked = revoke(client, issuer, delegation["id"], "cr", COUNTY_REVIEWER)
    assert revoked.status_code == 200, revoked.json
    assert revoked.json["id"] == delegation["id"] and revoked.json["revoked_at"] is not None
    again = revoke(client, issuer, delegation["id"], "cr", COUNTY_REVIEWER)
    assert again.status_code == 409 and again.json["errors"][0]["field"] == "delegation_id"

    # the deputy can no longer act in the reviewer's name, one by one or in bulk; in their own name they can
    claimed = decide(client, issuer, "cr-deputy", COUNTY_REVIEWER, second["id"], on_behalf_of="cr")
    assert claimed.status_code == 422 and claimed.json["errors"][0]["field"] == "on_behalf_of"
    bulk = client.post(
        "/api/tasks/decisions",
        headers=issuer.headers("cr-deputy", COUNTY_REVIEWER),
        json={"items": [{"task_id": second["id"], "decision": "approve", "on_behalf_of": "cr"}]},
    )
    assert bulk.status_code == 422
    assert decide(client, issuer, "cr-deputy", COUNTY_REVIEWER, second["id"]).status_code == 200
    # the decision made before the revocation stands, in both names
    shown = client.get(f"/api/tasks/{first['id']}", headers=issuer.headers("cr", COUNTY_REVIEWER)).json
    assert (shown["decided_by"], shown["on_behalf_of"]) == ("cr-deputy", "cr")
    shown = client.get(f"/api/tasks/{second['id']}", headers=issuer.headers("cr", COUNTY_REVIEWER)).json
    assert (shown["decided_by"], shown["on_behalf_of"]) == ("cr-deputy", None)

    # both still list it, revoked; the trail says who revoked it
    for who in ("cr", "cr-deputy"):
        [listed] = client.get("/api/tasks/delegations", headers=issuer.headers(who)).json["items"]
        assert (listed["id"], listed["revoked_at"]) == (delegation["id"], revoked.json["revoked_at"])
    with approvals_service.engine.connect() as conn:
        trail = conn.execute(
            text("SELECT action, actor, org_path FROM audit_log WHERE target_type = 'delegation' ORDER BY id")
        ).all()
    assert [tuple(r) for r in trail] == [("delegation.created", "cr", COUNTY), ("delegation.revoked", "cr", COUNTY)]


def test_a_role_taken_away_takes_the_right_to_decide_with_it(
    client: FlaskClient, issuer: TestIssuer, feed: Feed
) -> None:
    feed(reviews_granted("cr", "county_reviewer", COUNTY), reviews_granted("cr-deputy", "county_reviewer", COUNTY))
    [task] = at_the_county_stage(feed, client, issuer)
    delegate_this_week(client, issuer)
    feed(reviews_revoked("cr-deputy"))
    # a delegation passes on no power: without the role, the deputy sees and decides nothing
    assert inbox(client, issuer, "cr-deputy") == []
    assert decide(client, issuer, "cr-deputy", None, task["id"], on_behalf_of="cr").status_code == 404


def test_only_the_delegator_or_a_platform_admin_over_the_org_revokes_a_delegation(
    client: FlaskClient, issuer: TestIssuer, feed: Feed
) -> None:
    feed(reviews_granted("cr-deputy", "county_reviewer", COUNTY))
    delegation = delegate_this_week(client, issuer)
    assert revoke(client, issuer, delegation["id"], "cr-deputy", COUNTY_REVIEWER).status_code == 403
    assert revoke(client, issuer, delegation["id"], "aud", ("auditor", CITY)).status_code == 403
    # outside the org, or not a party to it: there is no such delegation
    assert revoke(client, issuer, delegation["id"], "cr2", ("county_reviewer", COUNTY2)).status_code == 404
    assert revoke(client, issuer, delegation["id"], "cr3", COUNTY_REVIEWER).status_code == 404
    assert revoke(client, issuer, delegation["id"], "pa2", ("platform_admin", COUNTY2)).status_code == 404
    unknown = "00000000-0000-4000-8000-000000000000"
    assert revoke(client, issuer, unknown, "pa", ("platform_admin", "/")).status_code == 404

    revoked = revoke(client, issuer, delegation["id"], "pa", ("platform_admin", CITY))
    assert revoked.status_code == 200 and revoked.json["revoked_at"] is not None
    assert revoke(client, issuer, delegation["id"], "cr", COUNTY_REVIEWER).status_code == 409


def test_a_delegation_ends_with_its_delegators_grant(client: FlaskClient, issuer: TestIssuer, feed: Feed) -> None:
    feed(reviews_granted("cr", "county_reviewer", COUNTY), reviews_granted("cr-deputy", "county_reviewer", COUNTY))
    [task] = at_the_county_stage(feed, client, issuer)
    delegate_this_week(client, issuer)
    # one can only act for a reviewer who still is one
    feed(reviews_revoked("cr"))
    claimed = decide(client, issuer, "cr-deputy", COUNTY_REVIEWER, task["id"], on_behalf_of="cr")
    assert claimed.status_code == 422 and claimed.json["errors"][0]["field"] == "on_behalf_of"


def test_the_openapi_document_describes_revocation(client: FlaskClient) -> None:
    spec = client.get("/openapi/approvals/openapi.json").json
    assert "post" in spec["paths"]["/api/tasks/delegations/{delegation_id}/revoke"]
    assert {"created_at", "revoked_at"} <= set(spec["components"]["schemas"]["Delegation"]["properties"])
