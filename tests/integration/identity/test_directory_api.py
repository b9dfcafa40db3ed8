"""Organisations, users and grants through the API on PostgreSQL: scope, imports, masking, events."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient
from identity.adapters.orm import orgs, users
from identity.bootstrap import Identity
from sqlalchemy import func, select

from shared.audit import audit_log
from shared.bus.tables import outbox
from tests.integration.identity.conftest import bearer

pytestmark = pytest.mark.integration


def outbox_types(service: Identity) -> list[str]:
    with service.session_factory() as session:
        return [r[0] for r in session.execute(select(outbox.c.type).order_by(outbox.c.created_at))]


def count(service: Identity, table) -> int:  # type: ignore[no-untyped-def]
    with service.session_factory() as session:
        return int(session.execute(select(func.count()).select_from(table)).scalar_one())


def test_org_outside_the_callers_subtree_is_404(client: FlaskClient) -> None:
    h = bearer(client, "county.reviewer")
    assert client.get("/api/orgs/4108020001", headers=h).status_code == 200
    other = client.get("/api/orgs/4108210001", headers=h)
    assert other.status_code == 404
    assert other.content_type == "application/problem+json"
    missing = client.get("/api/orgs/does-not-exist", headers=h)
    # Another county's school and a code that does not exist answer the same.
    assert (missing.status_code, missing.json["detail"]) == (404, other.json["detail"])


def test_org_list_is_scoped_and_paginated(client: FlaskClient) -> None:
    h = bearer(client, "county.reviewer")
    first = client.get("/api/orgs?limit=2", headers=h).json
    assert [o["code"] for o in first["items"]] == ["410802", "4108020001"]
    second = client.get(f"/api/orgs?limit=2&cursor={first['next_cursor']}", headers=h).json
    assert [o["code"] for o in second["items"]] == ["4108020002"]
    assert second["next_cursor"] is None


def test_request_without_token_is_401_problem(client: FlaskClient) -> None:
    r = client.get("/api/orgs")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert r.content_type == "application/problem+json"


def test_bad_org_names_each_field_and_writes_nothing(client: FlaskClient, identity_service: Identity) -> None:
    before = count(identity_service, orgs)
    r = client.post("/api/orgs", json={"code": "", "level": "planet"}, headers=bearer(client, "admin"))
    assert r.status_code == 422
    fields = {e["field"] for e in r.json["errors"]}
    assert fields == {"code", "level", "name"}
    assert count(identity_service, orgs) == before


def test_creating_an_org_publishes_org_upserted_in_the_same_transaction(
    client: FlaskClient, identity_service: Identity
) -> None:
    r = client.post(
        "/api/orgs",
        json={"code": "4108020099", "name": "解放区新建小学", "level": "school", "parent_code": "410802"},
        headers=bearer(client, "admin"),
    )
    assert r.status_code == 201
    assert r.json["path"] == "/4108/410802/4108020099"
    with identity_service.session_factory() as session:
        row = session.execute(
            select(outbox.c.body).where(outbox.c.type == "identity.org.upserted").order_by(outbox.c.created_at.desc())
        ).first()
    event = json.loads(row.body)
    assert event["specversion"] == "1.0" and event["source"] == "/cio/identity"
    assert event["data"]["path"] == "/4108/410802/4108020099"


def test_renaming_an_org_by_import_publishes_org_upserted_with_its_new_name(
    client: FlaskClient, identity_service: Identity
) -> None:
    """Every service names orgs from its directory projection, fed by `identity.org.upserted`: a name changed by
    the import must reach them as a name changed in any other way."""
    csv = "code,name,level,parent_code\n4108020001,解放区第一实验小学（更名）,school,410802\n"
    r = client.post(
        "/api/orgs/import", data=csv.encode(), headers={**bearer(client, "admin"), "Content-Type": "text/csv"}
    )
    assert (r.status_code, r.json["updated"]) == (200, 1), r.json
    with identity_service.session_factory() as session:
        bodies = session.execute(
            select(outbox.c.body).where(outbox.c.type == "identity.org.upserted").order_by(outbox.c.created_at)
        ).scalars()
        renamed = [e["data"] for e in map(json.loads, bodies) if e["data"]["code"] == "4108020001"]
    assert [d["name"] for d in renamed][-1:] == ["解放区第一实验小学（更名）"]
    assert renamed[-1]["path"] == "/4108/410802/4108020001"


def test_only_platform_admin_over_the_parent_may_create_orgs(client: FlaskClient) -> None:
    r = client.post(
        "/api/orgs",
        json={"code": "41080299", "name": "x", "level": "school", "parent_code": "410802"},
        headers=bearer(client, "county.reviewer"),
    )
    assert r.status_code == 404


ORGS_OK = (
    "code,name,level,parent_code\n150302002,海勃湾区第二中学,school,150302\n1503020003,海勃湾区第三中学,school,150302\n"
)


def test_org_import_with_parents_later_in_the_file(client: FlaskClient) -> None:
    csv = "code,name,level,parent_code\n9901001,新区一校,school,9901\n9901,新区教育局,county,1503\n"
    r = client.post(
        "/api/orgs/import", data=csv.encode(), headers={**bearer(client, "admin"), "Content-Type": "text/csv"}
    )
    assert r.status_code == 200, r.json
    assert r.json["created"] == 2
    org = client.get("/api/orgs/9901001", headers=bearer(client, "admin")).json
    assert org["path"] == "/1503/9901/9901001"


def test_org_import_with_a_bad_row_imports_nothing_and_names_each_row(
    client: FlaskClient, identity_service: Identity
) -> None:
    before = count(identity_service, orgs)
    events_before = len(outbox_types(identity_service))
    csv = (
        "code,name,level,parent_code\n"
        "1503020010,好学校,school,150302\n"
        "1503020011,,school,150302\n"
        "1503020012,坏层级,planet,150302\n"
        "1503020013,无上级,school,999999\n"
        "1503020010,重复,school,150302\n"
    )
    r = client.post(
        "/api/orgs/import", data=csv.encode(), headers={**bearer(client, "admin"), "Content-Type": "text/csv"}
    )
    assert r.status_code == 422
    assert [(e["row"], e["column"]) for e in r.json["errors"]] == [
        (3, "name"),
        (4, "level"),
        (5, "parent_code"),
        (6, "code"),
    ]
    assert all(e["message"] and e["message_zh"] for e in r.json["errors"])
    assert count(identity_service, orgs) == before
    assert len(outbox_types(identity_service)) == events_before


def test_org_import_accepts_gb18030_files(client: FlaskClient) -> None:
    csv = "code,name,level,parent_code\n1503020020,海勃湾区实验学校,school,150302\n".encode("gb18030")
    r = client.post(
        "/api/orgs/import", data={"file": (__import__("io").BytesIO(csv), "orgs.csv")}, headers=bearer(client, "admin")
    )
    assert r.status_code == 200, r.json
    assert client.get("/api/orgs/1503020020", headers=bearer(client, "admin")).json["name"] == "海勃湾区实验学校"


def test_org_import_is_idempotent(client: FlaskClient) -> None:
    h = {**bearer(client, "admin"), "Content-Type": "text/csv"}
    assert client.post("/api/orgs/import", data=ORGS_OK.encode(), headers=h).json["created"] == 2
    again = client.post("/api/orgs/import", data=ORGS_OK.encode(), headers=h).json
    assert (again["created"], again["unchanged"]) == (0, 2)


USERS = (
    "username,display_name,org_code,phone,email,gender,birth_date,external_id,external_source,roles\n"
    "t.wang,王老师,4108020001,13800138000,wang@example.cn,女,1985-03-02,ext-001,city-oidc,school_admin\n"
    "t.li,李老师,4108020002,13900139000,,男,,ext-002,city-oidc,\n"
)


def test_user_import_provisions_users_and_grants(client: FlaskClient, identity_service: Identity) -> None:
    r = client.post(
        "/api/users/import", data=USERS.encode(), headers={**bearer(client, "admin"), "Content-Type": "text/csv"}
    )
    assert r.status_code == 200, r.json
    assert r.json["created"] == 2
    types = outbox_types(identity_service)
    assert types.count("identity.user.provisioned") >= 2
    assert "identity.role.granted" in types


def test_user_import_with_bad_rows_imports_nothing(client: FlaskClient, identity_service: Identity) -> None:
    before = count(identity_service, users)
    bad = USERS + "t.zhao,赵老师,4108020001,12345,not-an-email,,1985-13-40,,,king\n,无名,nowhere,,,,,,,\n"
    r = client.post(
        "/api/users/import", data=bad.encode(), headers={**bearer(client, "admin"), "Content-Type": "text/csv"}
    )
    assert r.status_code == 422
    assert {(e["row"], e["column"]) for e in r.json["errors"]} == {
        (4, "phone"),
        (4, "email"),
        (4, "birth_date"),
        (4, "roles"),
        (5, "username"),
        (5, "org_code"),
    }
    assert count(identity_service, users) == before


def test_a_40kb_email_in_a_user_import_is_a_row_error_not_a_held_worker(client: FlaskClient) -> None:
    """The quadratic e-mail pattern held a worker about 12 s on this input; the check is linear and bounded now."""
    long_email = "a." * 20_000 + "@"
    bad = USERS + f"t.zhao,赵老师,4108020001,,{long_email},,,,,\n"
    r = client.post(
        "/api/users/import", data=bad.encode(), headers={**bearer(client, "admin"), "Content-Type": "text/csv"}
    )
    assert r.status_code == 422
    assert {(e["row"], e["column"]) for e in r.json["errors"]} == {(4, "email")}


def test_personal_data_is_masked_in_lists(client: FlaskClient) -> None:
    client.post(
        "/api/users/import", data=USERS.encode(), headers={**bearer(client, "admin"), "Content-Type": "text/csv"}
    )
    listing = client.get("/api/users?q=t.wang", headers=bearer(client, "county.reviewer")).json["items"]
    assert listing[0]["phone"] == "138****8000"
    assert listing[0]["email"] == "w***@example.cn"
    assert listing[0]["birth_date"] is None


def test_users_of_another_county_are_invisible(client: FlaskClient) -> None:
    client.post(
        "/api/users/import", data=USERS.encode(), headers={**bearer(client, "admin"), "Content-Type": "text/csv"}
    )
    other = client.get("/api/users", headers=bearer(client, "county2.reviewer")).json["items"]
    assert "t.wang" not in {u["username"] for u in other}
    wang = client.get("/api/users?q=t.wang", headers=bearer(client, "admin")).json["items"][0]
    assert client.get(f"/api/users/{wang['id']}", headers=bearer(client, "county2.reviewer")).status_code == 404
    assert client.get(f"/api/users/{wang['id']}", headers=bearer(client, "county.reviewer")).status_code == 200


def test_grant_and_revoke_are_audited_and_published(client: FlaskClient, identity_service: Identity) -> None:
    admin = bearer(client, "admin")
    user_id = client.get("/api/users?q=liaison", headers=admin).json["items"][0]["id"]
    granted = client.post(
        f"/api/users/{user_id}/grants", json={"role": "evaluator", "org_code": "410802"}, headers=admin
    )
    assert granted.status_code == 201
    assert granted.json["org_path"] == "/4108/410802"
    revoked = client.delete(f"/api/users/{user_id}/grants/{granted.json['id']}", headers=admin)
    assert revoked.status_code == 204
    types = outbox_types(identity_service)
    assert types[-2:] == ["identity.role.granted", "identity.role.revoked"]
    with identity_service.session_factory() as session:
        actions = [r[0] for r in session.execute(select(audit_log.c.action).order_by(audit_log.c.id))]
    assert actions[-2:] == ["role_granted", "role_revoked"]


def test_a_county_reviewer_cannot_grant_roles(client: FlaskClient) -> None:
    h = bearer(client, "county.reviewer")
    user_id = client.get("/api/users?q=school.admin", headers=h).json["items"][0]["id"]
    r = client.post(f"/api/users/{user_id}/grants", json={"role": "platform_admin"}, headers=h)
    assert r.status_code == 404


def test_openapi_document_describes_the_api(client: FlaskClient) -> None:
    doc = client.get("/openapi/identity/openapi.json").json
    assert {"/api/auth/token", "/api/me", "/api/orgs", "/api/orgs/import", "/api/users/{user_id}/grants"} <= set(
        doc["paths"]
    )


def _county_admin(client: FlaskClient) -> dict[str, str]:
    """county.reviewer made platform_admin over 解放区 (410802) only, and signed in again."""
    reviewer = client.get("/api/users?q=county.reviewer", headers=bearer(client, "admin")).json["items"][0]
    granted = client.post(
        f"/api/users/{reviewer['id']}/grants",
        json={"role": "platform_admin", "org_code": "410802"},
        headers=bearer(client, "admin"),
    )
    assert granted.status_code == 201, granted.json
    return {**bearer(client, "county.reviewer"), "Content-Type": "text/csv"}


def test_a_user_import_cannot_pull_in_a_user_from_outside_the_importers_subtree(
    client: FlaskClient, identity_service: Identity
) -> None:
    """school2.admin works in 修武县 (410821): a 解放区 administrator's row with that username is a row error."""
    h = _county_admin(client)
    csv = (
        "username,display_name,org_code,phone,email\n"
        "t.new,新老师,4108020001,,\n"
        "school2.admin,被改名,4108020001,13700137000,taken@evil.example\n"
    )
    r = client.post("/api/users/import", data=csv.encode(), headers=h)
    assert r.status_code == 422, r.json
    assert [(e["row"], e["column"]) for e in r.json["errors"]] == [(3, "username")]
    with identity_service.session_factory() as session:
        other = session.execute(select(users).where(users.c.username == "school2.admin")).one()
        new = session.execute(select(func.count()).select_from(users).where(users.c.username == "t.new")).scalar()
    assert (other.org_code, other.display_name, other.phone) == ("4108210001", "修武县城关小学校长", None)
    assert new == 0  # nothing half written


def test_a_user_import_updates_a_user_already_inside_the_importers_subtree(client: FlaskClient) -> None:
    h = _county_admin(client)
    csv = "username,display_name,org_code,phone\nschool.admin,第一实验小学校长,4108020001,13700137000\n"
    r = client.post("/api/users/import", data=csv.encode(), headers=h)
    assert (r.status_code, r.json["updated"]) == (200, 1), r.json


def test_only_a_platform_wide_admin_imports_external_ids(client: FlaskClient) -> None:
    h = _county_admin(client)
    csv = "username,display_name,org_code,external_id,external_source\nt.plant,张明,4108020001,base-1,city-oidc\n"
    r = client.post("/api/users/import", data=csv.encode(), headers=h)
    assert r.status_code == 422
    assert [(e["row"], e["column"]) for e in r.json["errors"]] == [(2, "external_id")]
    half = "username,display_name,org_code,external_id\nt.half,张明,4108020001,base-2\n"
    r = client.post(
        "/api/users/import", data=half.encode(), headers={**bearer(client, "admin"), "Content-Type": "text/csv"}
    )
    assert [(e["row"], e["column"]) for e in r.json["errors"]] == [(2, "external_source")]


def test_a_root_admin_names_the_source_of_an_existing_users_external_id(
    client: FlaskClient, identity_service: Identity
) -> None:
    h = {**bearer(client, "admin"), "Content-Type": "text/csv"}
    csv = "username,display_name,org_code,external_id,external_source\nschool.admin,校长,4108020001,base-77,city-oidc\n"
    r = client.post("/api/users/import", data=csv.encode(), headers=h)
    assert (r.status_code, r.json["updated"]) == (200, 1), r.json
    with identity_service.session_factory() as session:
        row = session.execute(select(users).where(users.c.username == "school.admin")).one()
        audited = session.execute(
            select(func.count()).select_from(audit_log).where(audit_log.c.action == "external_id_set")
        ).scalar()
    assert (row.external_source, row.external_id, audited) == ("city-oidc", "base-77", 1)


def test_an_external_id_someone_else_holds_is_a_row_error_and_a_conflict(client: FlaskClient) -> None:
    h = {**bearer(client, "admin"), "Content-Type": "text/csv"}
    first = "username,display_name,org_code,external_id,external_source\nt.one,甲,4108020001,base-88,city-oidc\n"
    assert client.post("/api/users/import", data=first.encode(), headers=h).status_code == 200
    again = (
        "username,display_name,org_code,external_id,external_source\n"
        "t.two,乙,4108020001,base-88,city-oidc\n"
        "t.three,丙,4108020001,base-89,city-oidc\n"
        "t.four,丁,4108020001,base-89,city-oidc\n"
    )
    r = client.post("/api/users/import", data=again.encode(), headers=h)
    assert r.status_code == 422
    assert [(e["row"], e["column"]) for e in r.json["errors"]] == [(2, "external_id"), (4, "external_id")]
    body = {"username": "t.five", "display_name": "戊", "org_code": "4108020001"}
    taken = client.post(
        "/api/users",
        json={**body, "external_id": "base-88", "external_source": "city-oidc"},
        headers=bearer(client, "admin"),
    )
    assert taken.status_code == 409
