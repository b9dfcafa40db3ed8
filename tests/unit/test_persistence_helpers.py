"""shared.db's helpers for units of work and tables: repositories declared once and built over each new session,
an audit row's org found from the record it targets, and the column groups tables share."""

from __future__ import annotations

import argparse
import datetime as dt
import enum
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, registry

from shared import db
from shared.db import OverSession, Repository, SqlAlchemyUnitOfWork, record_scope
from shared.service import today_argument


class SessionRepository(Repository):
    def __init__(self, session: Any) -> None:
        super().__init__()
        self.session = session


class DeskUnitOfWork(SqlAlchemyUnitOfWork):
    desks = OverSession(SessionRepository)
    chairs = OverSession(SessionRepository)


class FakeSession:
    def close(self) -> None:
        """Nothing to release: this stand-in holds no connection."""


@dataclass
class Aggregate:
    events: list[Any] = field(default_factory=list)


def test_each_entry_builds_the_declared_repositories_over_its_own_session() -> None:
    uow = DeskUnitOfWork(FakeSession, source="/cio/test")
    with uow:
        first = uow.desks
        assert first.session is uow.session and uow.chairs.session is uow.session
    with uow:
        assert uow.desks is not first and uow.desks.session is uow.session


def test_a_repository_is_not_there_before_the_unit_of_work_is_entered() -> None:
    with pytest.raises(AttributeError, match="desks"):
        DeskUnitOfWork(FakeSession, source="/cio/test").desks  # noqa: B018 - the access is the test


def test_what_the_declared_repositories_saw_is_seen_in_the_order_seen() -> None:
    first, second = Aggregate(), Aggregate()
    with DeskUnitOfWork(FakeSession, source="/cio/test") as uow:
        uow.chairs._saw(first)
        uow.desks._saw(second)
        assert uow.seen == [first, second]


metadata = sa.MetaData()
plans = sa.Table("plans", metadata, sa.Column("id", sa.Uuid, primary_key=True), sa.Column("unit_path", sa.String))
checks = sa.Table("checks", metadata, sa.Column("id", sa.Uuid, primary_key=True), sa.Column("org_path", sa.String))


@dataclass
class Plan:
    id: uuid.UUID
    unit_path: str


@pytest.fixture
def session() -> Any:
    engine = sa.create_engine("sqlite://")
    metadata.create_all(engine)
    with Session(engine) as session:
        yield session


def test_the_scope_of_a_stored_record_is_its_first_org_column_with_a_row(session: Session) -> None:
    plan, check = uuid.uuid4(), uuid.uuid4()
    session.execute(plans.insert().values(id=plan, unit_path="/41/4108"))
    session.execute(checks.insert().values(id=check, org_path="/41/4101"))
    scopes = (plans.c.unit_path, checks.c.org_path)
    assert record_scope(session, str(plan), scopes) == "/41/4108"
    assert record_scope(session, str(check), scopes) == "/41/4101"
    assert record_scope(session, str(uuid.uuid4()), scopes) is None


def test_a_record_loaded_already_answers_without_a_query(session: Session) -> None:
    plan = Plan(uuid.uuid4(), "/41/4108")
    assert record_scope(session, str(plan.id), (plans.c.unit_path,), loaded=[plan]) == "/41/4108"
    assert record_scope(session, str(plan.id), (plans.c.unit_path,)) is None


def test_a_target_that_is_no_record_id_has_no_scope(session: Session) -> None:
    assert record_scope(session, "login:someone", (plans.c.unit_path,)) is None
    assert record_scope(session, None, (plans.c.unit_path,)) is None


class Colour(enum.Enum):
    RED = "red"


def test_the_shared_column_groups() -> None:
    table = sa.Table(
        "records",
        sa.MetaData(),
        *db.org_columns("school_org", name="school_name"),
        *db.act_columns("recorded"),
        sa.Column("colour", db.enum_type(Colour, 16)),
        db.unique_where("uq_records_live", "school_org_code", where="colour = 'red'"),
    )
    c = table.c
    assert [column.name for column in table.columns] == [
        "school_org_code",
        "school_org_path",
        "school_name",
        "recorded_by",
        "recorded_at",
        "colour",
    ]
    assert not any(column.nullable for column in table.columns if column.name != "colour")
    assert c.school_org_path.index and not c.school_org_code.index
    assert isinstance(c.recorded_at.type, db.UtcDateTime)
    assert c.colour.type.enums == ["red"] and not c.colour.type.native_enum  # type: ignore[attr-defined]
    index = next(index for index in table.indexes if index.name == "uq_records_live")
    assert index.unique and str(index.dialect_options["postgresql"]["where"]) == "colour = 'red'"


def test_today_argument_reads_an_iso_date() -> None:
    parser = argparse.ArgumentParser()
    today_argument(parser)
    assert parser.parse_args(["--today", "2025-10-01"]).today == dt.date(2025, 10, 1)
    assert parser.parse_args([]).today is None


class Counted:
    events: list[Any]


class Stamped:
    events: list[Any]


def test_a_version_the_domain_counts_is_checked_but_never_set_by_the_mapper() -> None:
    mapper_registry = registry()
    counted = sa.Table("counted", mapper_registry.metadata, db.id_column(), db.version_column())
    stamped = sa.Table("stamped", mapper_registry.metadata, db.id_column(), db.version_column())
    db.map_imperatively_once(
        mapper_registry,
        db.AggregateMapping(Counted, counted, versioned=True, domain_counts_versions=True),
        db.AggregateMapping(Stamped, stamped, versioned=True),
    )
    assert sa.inspect(Counted).version_id_col is counted.c.version
    assert sa.inspect(Counted).version_id_generator is False
    assert callable(sa.inspect(Stamped).version_id_generator)
