"""shared.persistence: a unit of work scoping audit rows by the record audited, versioned mappings, and the column
groups more than one table declares."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from shared.db import OverSession, Repository, UtcDateTime
from shared.persistence import (
    RecordScopedUnitOfWork,
    authored_columns,
    mapped_metadata,
    parent_column,
    versioned,
)

metadata = sa.MetaData()
plans = sa.Table("plans", metadata, sa.Column("id", sa.Uuid, primary_key=True), sa.Column("unit_path", sa.String))


@dataclass
class Plan:
    id: uuid.UUID
    unit_path: str
    events: list[Any] = field(default_factory=list)


class PlanRepository(Repository):
    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session


class PlansUnitOfWork(RecordScopedUnitOfWork):
    audit_scopes = (plans.c.unit_path,)
    plans = OverSession(PlanRepository)


class PlansFromSeenUnitOfWork(PlansUnitOfWork):
    audit_scopes_from_seen = True


@pytest.fixture
def session_factory() -> Iterator[sessionmaker[Session]]:
    engine = sa.create_engine("sqlite://")
    metadata.create_all(engine)
    yield sessionmaker(bind=engine)
    engine.dispose()


def test_an_audit_row_about_a_stored_record_is_scoped_to_its_org(session_factory: sessionmaker[Session]) -> None:
    plan = uuid.uuid4()
    with session_factory.begin() as session:
        session.execute(plans.insert().values(id=plan, unit_path="/41/4108"))
    with PlansUnitOfWork(session_factory, source="/cio/test") as uow:
        assert uow.audit_scope("plan.submitted", "school", str(plan), None) == "/41/4108"
        assert uow.audit_scope("plan.submitted", "school", str(uuid.uuid4()), None) is None
        assert uow.audit_scope("login", "school", "login:school", None) is None


def test_only_a_unit_of_work_that_says_so_answers_from_what_it_has_seen(
    session_factory: sessionmaker[Session],
) -> None:
    plan = Plan(uuid.uuid4(), "/41/4108")
    with PlansFromSeenUnitOfWork(session_factory, source="/cio/test") as uow:
        uow.plans._saw(plan)
        assert uow.audit_scope("plan.submitted", "school", str(plan.id), None) == "/41/4108"
    with PlansUnitOfWork(session_factory, source="/cio/test") as uow:
        uow.plans._saw(plan)
        assert uow.audit_scope("plan.submitted", "school", str(plan.id), None) is None


class Desk:
    events: list[Any]


class Chair:
    events: list[Any]


def test_versioned_mappings_and_the_shared_column_groups() -> None:
    metadata, mapper_registry = mapped_metadata()
    assert mapper_registry.metadata is metadata and metadata.naming_convention["pk"] == "pk_%(table_name)s"
    desks = sa.Table("desks", metadata, sa.Column("id", sa.Uuid, primary_key=True), *authored_columns())
    chairs = sa.Table("chairs", metadata, sa.Column("id", sa.Uuid, primary_key=True), parent_column("desk_id", "desks"))

    assert [(m.cls, m.table, m.versioned) for m in versioned((Desk, desks), (Chair, chairs))] == [
        (Desk, desks, True),
        (Chair, chairs, True),
    ]
    assert [c.name for c in desks.columns] == ["id", "created_by", "created_at", "updated_at", "version"]
    assert not any(c.nullable for c in desks.columns)
    assert isinstance(desks.c.updated_at.type, UtcDateTime)
    desk_id = chairs.c.desk_id
    assert not desk_id.nullable and desk_id.index
    assert [fk.column for fk in desk_id.foreign_keys] == [desks.c.id]
