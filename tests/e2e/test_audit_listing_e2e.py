"""The cross-record audit listing through the gateway (issue 20): `GET /api/audit/<service>` on every service, for
auditors and platform administrators, each seeing the subtrees of their grants, newest first, cursor-paginated and
filtered by actor, action, target and time; identity's trail has the sign-ins and the grant changes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
import requests

from shared.pagination import encode_cursor
from tests.e2e.conftest import DEMO_PASSWORD, Stack, token

pytestmark = pytest.mark.e2e

SERVICES = ("identity", "nominations", "approvals", "training", "notifications", "governance")
COUNTY_AUDITOR_PASSWORD = "county-auditor-password-2026"


def get(stack: Stack, access: str, path: str, **params: Any) -> requests.Response:
    return requests.get(
        f"{stack.gateway}{path}", params=params, headers={"Authorization": f"Bearer {access}"}, timeout=15
    )


def entries(stack: Stack, access: str, service: str, **params: Any) -> list[dict[str, Any]]:
    response = get(stack, access, f"/api/audit/{service}", **params)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


@pytest.fixture(scope="module")
def county_auditor(stack: Stack) -> str:
    """An auditor of 解放区 (410802) only, made by the platform administrator (a grant change, itself audited)."""
    admin = token(stack, "admin")
    username = f"audit.{uuid.uuid4().hex[:6]}"
    created = requests.post(
        f"{stack.gateway}/api/users",
        headers={"Authorization": f"Bearer {admin}"},
        json={
            "username": username,
            "display_name": "审计员",
            "org_code": "410802",
            "password": COUNTY_AUDITOR_PASSWORD,
        },
        timeout=15,
    )
    assert created.status_code == 201, created.text
    granted = requests.post(
        f"{stack.gateway}/api/users/{created.json()['id']}/grants",
        headers={"Authorization": f"Bearer {admin}"},
        json={"role": "auditor", "org_code": "410802"},
        timeout=15,
    )
    assert granted.status_code == 201, granted.text
    return username


def test_every_service_serves_its_trail_to_a_platform_auditor_through_the_gateway(stack: Stack) -> None:
    auditor = token(stack, "auditor")
    for service in SERVICES:
        response = get(stack, auditor, f"/api/audit/{service}", limit=5)
        assert response.status_code == 200, (service, response.text)
        assert set(response.json()) == {"items", "next_cursor"}
    spec = requests.get(f"{stack.gateway}/openapi/identity/openapi.json", timeout=15).json()
    parameters = {p["name"] for p in spec["paths"]["/api/audit/identity"]["get"]["parameters"]}
    assert {"actor", "action", "target", "from", "to", "limit", "cursor"} <= parameters


def test_sign_ins_and_grant_changes_are_in_identitys_trail_scoped_to_the_auditors_subtree(
    stack: Stack, county_auditor: str
) -> None:
    token(stack, "county.reviewer")  # 解放区, inside the county auditor's subtree
    token(stack, "county2.reviewer")  # 修武县, outside it
    mine = token(stack, county_auditor, COUNTY_AUDITOR_PASSWORD)

    sign_ins = entries(stack, mine, "identity", action="login", limit=200)
    actors = {e["actor"] for e in sign_ins}
    assert "county.reviewer" in actors and county_auditor in actors
    assert "county2.reviewer" not in actors and "admin" not in actors
    assert all(e["org_path"].startswith("/4108/410802") for e in sign_ins)
    assert all(e["ip"] for e in sign_ins)

    grants = entries(stack, mine, "identity", action="role_granted")
    assert any(e["details"] == {"role": "auditor", "org_path": "/4108/410802"} for e in grants)
    # The auditor's own account, created in the same transaction as its audit row, is in the county's trail.
    created = entries(stack, mine, "identity", action="user_created")
    assert any(e["details"] == {"org": "410802"} and e["org_path"] == "/4108/410802" for e in created)

    everyone = entries(stack, token(stack, "auditor"), "identity", action="login", limit=500)
    assert {"county.reviewer", "county2.reviewer", "admin"} <= {e["actor"] for e in everyone}


def test_the_listing_filters_by_actor_target_and_time_and_pages_with_a_cursor(
    stack: Stack, county_auditor: str
) -> None:
    token(stack, "county.reviewer")  # a sign-in before the window
    before = dt.datetime.now(dt.UTC)
    for _ in range(3):
        token(stack, "county.reviewer")
    mine = token(stack, county_auditor, COUNTY_AUDITOR_PASSWORD)

    recent = entries(stack, mine, "identity", actor="county.reviewer", action="login", **{"from": before.isoformat()})
    assert len(recent) == 3 and all(e["outcome"] == "ok" for e in recent)
    assert [e["id"] for e in recent] == sorted((e["id"] for e in recent), reverse=True)  # newest first
    older = entries(stack, mine, "identity", actor="county.reviewer", to=before.isoformat(), limit=500)
    assert older and all(dt.datetime.fromisoformat(e["at"]) < before for e in older)

    target = recent[0]["target"]
    assert {e["target"] for e in entries(stack, mine, "identity", target=target)} == {target}

    first = get(stack, mine, "/api/audit/identity", actor="county.reviewer", limit=2, **{"from": before.isoformat()})
    assert first.status_code == 200 and len(first.json()["items"]) == 2 and first.json()["next_cursor"]
    rest = entries(
        stack,
        mine,
        "identity",
        actor="county.reviewer",
        limit=2,
        cursor=first.json()["next_cursor"],
        **{"from": before.isoformat()},
    )
    assert [e["id"] for e in first.json()["items"] + rest] == [e["id"] for e in recent]


def test_nominations_trail_shows_a_county_auditor_only_rounds_and_nominations_in_the_county(
    stack: Stack, county_auditor: str
) -> None:
    city = token(stack, "city.reviewer")
    deadline = (dt.datetime.now(dt.UTC) + dt.timedelta(days=20)).isoformat()
    opened = requests.post(
        f"{stack.gateway}/api/rounds",
        headers={"Authorization": f"Bearer {city}"},
        json={"title": "审计演练批次", "policy_id": "jiaozuo-2022", "issuing_org_code": "4108", "deadline": deadline},
        timeout=15,
    )
    assert opened.status_code == 201, opened.text
    round_id = opened.json()["id"]

    platform = entries(stack, token(stack, "auditor"), "nominations", action="round.opened", target=round_id)
    assert [e["org_path"] for e in platform] == ["/4108"]
    # A round of the city is not the county's record.
    mine = token(stack, county_auditor, COUNTY_AUDITOR_PASSWORD)
    assert entries(stack, mine, "nominations", target=round_id) == []


def test_only_auditors_and_platform_administrators_read_the_trail(stack: Stack) -> None:
    school = token(stack, "school.admin")
    refused = get(stack, school, "/api/audit/approvals")
    assert refused.status_code == 403 and refused.headers["Content-Type"] == "application/problem+json"
    assert requests.get(f"{stack.gateway}/api/audit/training", timeout=15).status_code == 401
    assert get(stack, token(stack, "admin"), "/api/audit/training").status_code == 200


def test_bad_filters_are_named(stack: Stack) -> None:
    auditor = token(stack, "auditor", DEMO_PASSWORD)
    bad = get(stack, auditor, "/api/audit/identity", **{"from": "yesterday", "limit": "0"})
    assert bad.status_code == 422 and bad.headers["Content-Type"] == "application/problem+json"
    assert {e["field"] for e in bad.json()["errors"]} == {"from", "limit"}
    now = dt.datetime.now(dt.UTC)
    backwards = get(stack, auditor, "/api/audit/identity", **{"from": now.isoformat(), "to": now.isoformat()})
    assert backwards.status_code == 422 and [e["field"] for e in backwards.json()["errors"]] == ["to"]
    forged = get(stack, auditor, "/api/audit/identity", cursor=encode_cursor(["not", "an", "id"]))
    assert forged.status_code == 422 and [e["field"] for e in forged.json()["errors"]] == ["cursor"]
