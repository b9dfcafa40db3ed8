"""The directory projection (shared.directory) and the audit trail's writer (shared.audit.AuditTrail) on a real
PostgreSQL database: identity's events kept as upserts (a replay or a late duplicate changes nothing), the queries
the services read names, the org tree and grants with, and one `audit(...)` for every service."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shared import directory
from shared.audit import AuditTrail, audit_log
from shared.db import make_engine, make_session_factory
from shared.directory import directory_grants, directory_users
from shared.migrations import shared_metadata

pytestmark = pytest.mark.integration

CITY = {"code": "4108", "name": "焦作市", "level": "city", "parent_code": None, "path": "/4108"}
COUNTY = {"code": "410802", "name": "解放区", "level": "county", "parent_code": "4108", "path": "/4108/410802"}
SCHOOL = {
    "code": "4108020001",
    "name": "焦作一中",
    "level": "school",
    "parent_code": "410802",
    "path": "/4108/410802/4108020001",
}
TEACHER = {
    "user_id": "5b0e8a52-4a8e-4f57-9a3c-8d0d2f0c1a11",
    "username": "wang",
    "display_name": "王老师",
    "org_code": "4108020001",
    "birth_date": "1980-05-01",
    "profile": {"teaching_years": 20},
    "is_active": True,
}


@pytest.fixture
def session(pg_database: str) -> Iterator[Session]:
    engine = make_engine(pg_database)
    shared_metadata().create_all(engine)
    with make_session_factory(engine)() as session, session.begin():
        yield session
    engine.dispose()


def feed(session: Session, *events: tuple[str, dict[str, Any]]) -> None:
    for event_type, data in events:
        directory.project(event_type, data, session)


def test_the_org_tree_answers_names_and_the_schools_under_a_county(session: Session) -> None:
    feed(session, *[("identity.org.upserted", org) for org in (CITY, COUNTY, SCHOOL)])
    feed(session, ("identity.org.upserted", {**SCHOOL, "name": "焦作市第一中学"}))  # renamed: the last word counts

    found = directory.org(session, SCHOOL["code"])
    assert found is not None and found.name == "焦作市第一中学"
    assert [o.code for o in directory.orgs_within(session, COUNTY["path"], ["school"])] == [SCHOOL["code"]]
    assert sorted(directory.orgs_by_code(session, ["4108", "410802", "nowhere"])) == ["4108", "410802"]


def test_a_replayed_user_event_leaves_one_row_and_a_disabled_account_is_known(session: Session) -> None:
    feed(session, ("identity.user.provisioned", {"user": TEACHER}), ("identity.user.provisioned", {"user": TEACHER}))
    feed(session, ("identity.user.updated", {"user": {**TEACHER, "is_active": False}, "changed": ["is_active"]}))

    [row] = session.execute(sa.select(directory_users)).mappings().all()
    assert (row["display_name"], row["org_code"], row["locale"], row["is_active"]) == (
        "王老师",
        "4108020001",
        "zh-CN",
        False,
    )
    assert row["profile"] == {"teaching_years": 20} and row["birth_date"].isoformat() == "1980-05-01"


def test_a_revoked_grant_is_no_longer_held(session: Session) -> None:
    grant = {"grant_id": "g-1", "user_id": "u-1", "role": "county_reviewer", "org_code": "410802"}
    feed(session, ("identity.role.granted", {**grant, "org_path": COUNTY["path"]}))
    assert directory.holds(session, "u-1", "county_reviewer", COUNTY["path"])
    assert not directory.holds(session, "u-1", "county_reviewer", CITY["path"])

    feed(session, ("identity.role.revoked", {"grant_id": "g-1"}), ("identity.role.revoked", {"grant_id": "g-1"}))
    assert not directory.holds(session, "u-1", "county_reviewer", COUNTY["path"])
    assert session.execute(sa.select(sa.func.count()).select_from(directory_grants)).scalar_one() == 0


class Recorder(AuditTrail):
    def __init__(self, session: Session) -> None:
        self.session = session

    def audit_scope(
        self, action: str, actor: str | None, target: str | None, details: dict[str, Any] | None
    ) -> str | None:
        return "/4108" if target == "known" else None


def test_one_audit_call_records_the_target_its_parts_and_the_scope(session: Session) -> None:
    trail = Recorder(session)
    trail.audit("case.decided", actor="city", target="case:c-1", org_path="/4108/410802", details={"opinion": "同意"})
    trail.audit("login", actor="wang", target="known", outcome="failed", ip="10.0.0.1")
    trail.audit("import.run", actor=None)
    trail.audit("note", actor=None, target="sso:" + "y" * 100)  # too long an id for the parts: kept whole only

    rows = session.execute(sa.select(audit_log).order_by(audit_log.c.id)).mappings().all()
    assert [(r["target"], r["target_type"], r["target_id"], r["org_path"]) for r in rows] == [
        ("case:c-1", "case", "c-1", "/4108/410802"),
        ("known", None, None, "/4108"),
        (None, None, None, None),
        ("sso:" + "y" * 100, None, None, None),
    ]
    assert (rows[1]["outcome"], rows[1]["ip"]) == ("failed", "10.0.0.1")
