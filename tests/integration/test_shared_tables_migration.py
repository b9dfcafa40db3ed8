"""The `shared` Alembic branch (shared/migrations/versions) on real PostgreSQL databases of every service.

A fresh database and one migrated by the services' revisions of before the branch (their old heads) must end with
the schema the code declares (the service's tables plus shared's), and the old database keeps its rows: the audit
trail of each of the three old shapes is read through the one listing shape, and it is append-only everywhere.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import DBAPIError

from shared.audit import audit_log
from shared.migrations import alembic_config, service_dir, shared_metadata, upgrade
from tests.conftest import database_url
from tests.infrastructure import Infrastructure

pytestmark = pytest.mark.integration

# Each service's head before the shared branch existed (the revision labelled `service`).
OLD_HEADS = {
    "approvals": "0010",
    "identity": "0007",
    "nominations": "0007",
    "notifications": "0003",
    "training": "0005",
}
# Services born after the branch: their first revision is the one labelled `service`, with no old shape to keep.
BORN_AFTER = ("governance",)
SERVICES = sorted({*OLD_HEADS, *BORN_AFTER})
NOW = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def database(infra: Infrastructure) -> Iterator[str]:
    name = f"cio_test_shared_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(infra.pg, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(infra.pg, name)
    finally:
        with psycopg.connect(infra.pg, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def differences(url: str, service: str) -> list[Any]:
    """What the database lacks or has beyond the declared tables. Column comments are left out for the service's
    own tables (some revisions wrote shorter comments than the code has; they are documentation) but not for
    shared's."""
    metadata = importlib.import_module(f"{service}.adapters.orm").metadata
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            found = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), [metadata, shared_metadata()]
            )
    finally:
        engine.dispose()
    flat = [d for diff in found for d in (diff if isinstance(diff, list) else [diff])]
    return [d for d in flat if not (d[0] == "modify_comment" and d[2] in metadata.tables)]


def rows(url: str, query: sa.Select[Any]) -> list[dict[str, Any]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]
    finally:
        engine.dispose()


def execute(url: str, statement: str, **params: Any) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(statement), params)
    finally:
        engine.dispose()


@pytest.mark.parametrize("service", SERVICES)
def test_a_fresh_database_ends_with_the_declared_schema(database: str, service: str) -> None:
    upgrade(service_dir(service), database)
    assert differences(database, service) == []


@pytest.mark.parametrize("service", BORN_AFTER)
def test_a_service_born_after_the_branch_gets_the_one_append_only_trail(database: str, service: str) -> None:
    upgrade(service_dir(service), database)
    execute(
        database,
        "INSERT INTO audit_log (at, actor, action, target, org_path, outcome) "
        "VALUES (:at, 'city', 'plan.submitted', 'p-1', '/1503', 'ok')",
        at=NOW,
    )
    for statement in ("UPDATE audit_log SET actor = 'someone-else'", "DELETE FROM audit_log", "TRUNCATE audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            execute(database, statement)
    assert [r["actor"] for r in rows(database, sa.select(audit_log))] == ["city"]


@pytest.mark.parametrize("service", sorted(OLD_HEADS))
def test_a_database_of_before_the_shared_branch_keeps_its_audit_trail(database: str, service: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(service_dir(service), database), OLD_HEADS[service])
    if service == "approvals":  # the shape without `target`: its parts only, scope required
        execute(
            database,
            "INSERT INTO audit_log (at, actor, action, target_type, target_id, org_path, outcome, details) "
            "VALUES (:at, 'city', 'case.decided', 'case', 'c-1', '/4108', 'ok', '{\"opinion\": \"同意\"}')",
            at=NOW,
        )
    else:
        ip = ", ip" if service == "identity" else ""
        execute(
            database,
            f"INSERT INTO audit_log (at, actor, action, target, org_path, outcome, details{ip}) "
            f"VALUES (:at, 'city', 'case.decided', 'c-1', '/4108', 'ok', '{{\"opinion\": \"同意\"}}'"
            f"{', :ip' if ip else ''})",
            at=NOW,
            ip="10.0.0.1",
        )

    upgrade(service_dir(service), database)

    assert differences(database, service) == []
    [row] = rows(database, sa.select(audit_log))
    expected_target = "case:c-1" if service == "approvals" else "c-1"
    assert (row["actor"], row["action"], row["target"], row["org_path"], row["outcome"]) == (
        "city",
        "case.decided",
        expected_target,
        "/4108",
        "ok",
    )
    assert row["details"] == {"opinion": "同意"}
    assert row["at"] == NOW
    assert row["ip"] == ("10.0.0.1" if service == "identity" else None)
    # one trail, append-only for every service now (approvals' guard of before)
    for statement in ("UPDATE audit_log SET actor = 'someone-else'", "DELETE FROM audit_log", "TRUNCATE audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            execute(database, statement)
    assert [r["actor"] for r in rows(database, sa.select(audit_log))] == ["city"]


def test_downgrading_below_the_shared_branch_and_back_is_harmless(database: str) -> None:
    from alembic import command

    config = alembic_config(service_dir("training"), database)
    command.upgrade(config, "head")
    command.downgrade(config, "0004")
    command.upgrade(config, "head")
    assert differences(database, "training") == []


def test_approvals_directory_rows_of_before_move_into_the_shared_projection(database: str) -> None:
    from alembic import command

    from shared.directory import directory_grants, directory_orgs, directory_users

    command.upgrade(alembic_config(service_dir("approvals"), database), OLD_HEADS["approvals"])
    execute(
        database,
        "INSERT INTO orgs (code, name, level, parent_code, path) VALUES ('4108', '焦作市', 'city', NULL, '/4108')",
    )
    execute(
        database,
        "INSERT INTO role_grants (grant_id, user_id, role, org_code, org_path) "
        "VALUES ('g-1', 'u-1', 'city_reviewer', '4108', '/4108')",
    )
    execute(
        database,
        "INSERT INTO disabled_accounts (user_id, is_active, updated_at) VALUES ('u-2', false, :at)",
        at=NOW,
    )

    upgrade(service_dir("approvals"), database)

    assert differences(database, "approvals") == []
    assert [(r["code"], r["name"], r["level"], r["path"]) for r in rows(database, sa.select(directory_orgs))] == [
        ("4108", "焦作市", "city", "/4108")
    ]
    assert [
        (r["grant_id"], r["user_id"], r["role"], r["org_code"], r["org_path"])
        for r in rows(database, sa.select(directory_grants))
    ] == [("g-1", "u-1", "city_reviewer", "4108", "/4108")]
    assert [(r["user_id"], r["is_active"]) for r in rows(database, sa.select(directory_users))] == [("u-2", False)]


def test_training_people_and_orgs_of_before_move_into_the_shared_projection(database: str) -> None:
    from alembic import command

    from shared.directory import directory_orgs, directory_users

    person = uuid.uuid4()
    command.upgrade(alembic_config(service_dir("training"), database), OLD_HEADS["training"])
    execute(
        database,
        "INSERT INTO orgs (code, name, level, parent_code, path) "
        "VALUES ('4108020001', '焦作一中', 'school', '410802', '/4108/410802/4108020001')",
    )
    execute(
        database,
        "INSERT INTO people (user_id, username, display_name, org_code, is_active, updated_at) "
        "VALUES (:id, 'teacher', '王老师', '4108020001', true, :at)",
        id=person,
        at=NOW,
    )

    upgrade(service_dir("training"), database)

    assert differences(database, "training") == []
    assert [(r["code"], r["path"]) for r in rows(database, sa.select(directory_orgs))] == [
        ("4108020001", "/4108/410802/4108020001")
    ]
    [user] = rows(database, sa.select(directory_users))
    assert (user["user_id"], user["username"], user["display_name"], user["org_code"], user["is_active"]) == (
        str(person),
        "teacher",
        "王老师",
        "4108020001",
        True,
    )


def test_nominations_directory_rows_of_before_move_into_the_shared_projection_and_back(database: str) -> None:
    """What the 推荐表 prefills and the 任职条件 read (profile with 教龄 as teaching_since, gender, birth date,
    contact data) survives the move, and a downgrade puts the rows back where they were."""
    from alembic import command

    from shared.directory import directory_orgs, directory_users

    person = uuid.uuid4()
    profile = {"education": "本科", "teaching_since": 2004}
    config = alembic_config(service_dir("nominations"), database)
    command.upgrade(config, OLD_HEADS["nominations"])
    execute(
        database,
        "INSERT INTO org_projection (code, name, level, parent_code, path, updated_at) "
        "VALUES ('4108020001', '焦作一中', 'school', '410802', '/4108/410802/4108020001', :at)",
        at=NOW,
    )
    execute(
        database,
        "INSERT INTO user_projection (user_id, username, display_name, org_code, phone, email, gender, birth_date, "
        "profile, is_active, updated_at) VALUES (:id, 'teacher', '王老师', '4108020001', '13800000000', "
        "'t@example.cn', 'female', '1980-05-04', CAST(:profile AS jsonb), true, :at)",
        id=person,
        profile=json.dumps(profile),
        at=NOW,
    )

    upgrade(service_dir("nominations"), database)

    assert differences(database, "nominations") == []
    assert [
        (r["code"], r["name"], r["level"], r["parent_code"], r["path"], r["updated_at"])
        for r in rows(database, sa.select(directory_orgs))
    ] == [("4108020001", "焦作一中", "school", "410802", "/4108/410802/4108020001", NOW)]
    [user] = rows(database, sa.select(directory_users))
    assert {k: user[k] for k in ("user_id", "username", "display_name", "org_code", "phone", "email")} == {
        "user_id": str(person),
        "username": "teacher",
        "display_name": "王老师",
        "org_code": "4108020001",
        "phone": "13800000000",
        "email": "t@example.cn",
    }
    assert (user["gender"], user["birth_date"], user["profile"], user["is_active"], user["updated_at"]) == (
        "female",
        dt.date(1980, 5, 4),
        profile,
        True,
        NOW,
    )

    command.downgrade(config, "0009")
    back = rows(database, sa.select(sa.text("user_id, display_name, birth_date, profile FROM user_projection")))
    assert back == [
        {"user_id": person, "display_name": "王老师", "birth_date": dt.date(1980, 5, 4), "profile": profile}
    ]
    assert [r["code"] for r in rows(database, sa.select(sa.text("code FROM org_projection")))] == ["4108020001"]
    assert rows(database, sa.select(directory_users)) == []
    upgrade(service_dir("nominations"), database)
    assert differences(database, "nominations") == []
    assert [r["user_id"] for r in rows(database, sa.select(directory_users))] == [str(person)]
