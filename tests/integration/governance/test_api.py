"""The governance API on PostgreSQL: the city's catalogue, plans checked against it, the registry's overview."""

from __future__ import annotations

from flask.testing import FlaskClient
from governance.adapters.orm import disabled_accounts
from governance.bootstrap import GovernanceService
from governance.entrypoints.web import create_app

from shared.auth import ActiveAccountsOnly, directory_is_disabled
from shared.bus.envelope import CloudEvent
from tests.integration.governance.conftest import (
    CITY,
    DISTRICT,
    OTHER_CITY,
    OTHER_DISTRICT,
    SCHOOL,
    add_catalogue_entry,
    apply_events,
    plan_body,
)
from tests.tokens import TestIssuer


def test_the_city_bureau_keeps_the_catalogue_of_what_its_platform_provides(
    client: FlaskClient, issuer: TestIssuer
) -> None:
    city = issuer.headers("city", CITY)
    entry = add_catalogue_entry(client, city)
    assert entry["org_path"] == "/1503" and entry["keywords"] == ["单点登录", "统一认证"]
    # every unit under the city reads it; another city does not see it
    listed = client.get("/api/platform-catalogue", headers=issuer.headers("school", SCHOOL)).json
    assert [e["code"] for e in listed["items"]] == ["unified-identity"]
    assert client.get("/api/platform-catalogue", headers=issuer.headers("jz", OTHER_CITY)).json["items"] == []
    # a district bureau does not change the city's catalogue
    refused = client.post(
        "/api/platform-catalogue",
        json={"org_code": "1503", "code": "x", "kind": "function", "name": "x"},
        headers=issuer.headers("district", DISTRICT),
    )
    assert refused.status_code == 404


def test_a_catalogue_code_is_used_once_per_city(client: FlaskClient, issuer: TestIssuer) -> None:
    city = issuer.headers("city", CITY)
    add_catalogue_entry(client, city)
    again = client.post(
        "/api/platform-catalogue",
        json={"org_code": "1503", "code": "unified-identity", "kind": "function", "name": "统一身份认证"},
        headers=city,
    )
    assert again.status_code == 409
    assert again.json["errors"][0]["field"] == "code"


def test_catalogue_changes_need_the_version_read(client: FlaskClient, issuer: TestIssuer) -> None:
    city = issuer.headers("city", CITY)
    entry = add_catalogue_entry(client, city)
    url = f"/api/platform-catalogue/{entry['id']}"
    change = {"kind": "function", "name": "统一身份认证", "keywords": [], "active": False}
    assert client.put(url, json=change, headers=city).status_code == 428
    etag = client.get(url, headers=city).headers["ETag"]
    changed = client.put(url, json=change, headers={**city, "If-Match": etag})
    assert changed.status_code == 200 and changed.json["active"] is False
    assert client.put(url, json=change, headers={**city, "If-Match": etag}).status_code == 412


def test_a_plan_declaring_a_city_platform_function_is_flagged_before_it_is_sent(
    client: FlaskClient, issuer: TestIssuer
) -> None:
    """乌海: 「各区、各校不得规划建设数据中心以及与市级平台系统功能相同的应用系统」."""
    add_catalogue_entry(client, issuer.headers("city", CITY))
    add_catalogue_entry(
        client,
        issuer.headers("city", CITY),
        code="data-center",
        kind="data_center",
        name="市级教育数据中心",
        keywords=[],
    )
    district = issuer.headers("district", DISTRICT)
    created = client.post(
        "/api/project-plans",
        json=plan_body(functions=["智慧课堂", "统一身份认证平台"], builds_data_center=True),
        headers=district,
    )
    assert created.status_code == 201, created.json
    plan = created.json
    assert plan["status"] == "draft"
    assert [(f["code"], f["matched"]) for f in plan["flags"]] == [
        ("data-center", ["builds_data_center"]),
        ("unified-identity", ["统一身份认证平台"]),
    ]
    # sent as it is, it needs the unit's reason; revised, it goes without one
    url = f"/api/project-plans/{plan['id']}"
    refused = client.post(f"{url}/submit", json={}, headers={**district, "If-Match": created.headers["ETag"]})
    assert refused.status_code == 422
    assert refused.json["errors"][0]["field"] == "justification"
    revised = client.put(
        url,
        json={k: v for k, v in plan_body().items() if k != "unit_org_code"},
        headers={**district, "If-Match": created.headers["ETag"]},
    )
    assert revised.status_code == 200 and revised.json["flags"] == []
    sent = client.post(f"{url}/submit", json={}, headers={**district, "If-Match": revised.headers["ETag"]})
    assert sent.status_code == 200 and sent.json["status"] == "in_review" and sent.json["revision"] == 1


def test_plans_of_other_districts_do_not_exist_for_a_district(client: FlaskClient, issuer: TestIssuer) -> None:
    created = client.post("/api/project-plans", json=plan_body(), headers=issuer.headers("d", DISTRICT)).json
    other = issuer.headers("other", OTHER_DISTRICT)
    assert client.get(f"/api/project-plans/{created['id']}", headers=other).status_code == 404
    assert client.get("/api/project-plans", headers=other).json["items"] == []
    city = client.get("/api/project-plans", headers=issuer.headers("city", CITY)).json
    assert [p["id"] for p in city["items"]] == [created["id"]]
    # a district writes plans for its own units only
    elsewhere = client.post(
        "/api/project-plans", json=plan_body(unit_org_code="150303"), headers=issuer.headers("d", DISTRICT)
    )
    assert elsewhere.status_code == 404


def test_a_disabled_accounts_token_is_refused_until_it_is_enabled_again(
    issuer: TestIssuer, governance_service: GovernanceService
) -> None:
    """停用: identity disables an account; its tokens, still unexpired, stop working here too."""
    given = issuer.verifier()
    # the verifier the service builds in production, over the test issuer's keys
    governance_service.given_verifier = ActiveAccountsOnly(
        given.settings, given.keys, directory_is_disabled(governance_service.session_factory, disabled_accounts)
    )
    client = create_app(governance_service).test_client()
    headers = issuer.headers("district-1", DISTRICT)
    assert client.get("/api/project-plans", headers=headers).status_code == 200
    user = {"user_id": "district-1", "username": "d1", "display_name": "区审核员", "org_code": "150302"}
    for active, expected in ((False, 401), (True, 200)):
        event = CloudEvent(
            "identity.user.updated", "/cio/identity", {"user": {**user, "is_active": active}, "changed": ["is_active"]}
        )
        apply_events(governance_service, [event])
        assert client.get("/api/project-plans", headers=headers).status_code == expected
