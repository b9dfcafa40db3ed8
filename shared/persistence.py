"""Declarations the services' persistence code shares beyond shared.db's: the metadata and mapper registry of a
service's tables, the unit of work whose audit rows are
scoped by the record they are about, the mapping of aggregates that are all versioned, and the column groups more
than one table declares (a child's reference to its parent, a record authored and then changed, a record kept one
per org)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from sqlalchemy import Column, ForeignKey, MetaData, String, Table, Uuid
from sqlalchemy.orm import registry

from shared.audit import AuditTrail
from shared.db import (
    AggregateMapping,
    SqlAlchemyUnitOfWork,
    UtcDateTime,
    new_metadata,
    record_scope,
    timestamps,
    version_column,
)

TS = UtcDateTime()
"""The type of a point-in-time column, one instance for every service's tables (see `UtcDateTime`)."""


def mapped_metadata() -> tuple[MetaData, registry]:
    """A service's metadata (the platform's naming convention) and the registry its domain classes are mapped onto
    its tables with (`shared.db.map_imperatively_once`)."""
    metadata = new_metadata()
    return metadata, registry(metadata=metadata)


class RecordScopedUnitOfWork(AuditTrail, SqlAlchemyUnitOfWork):
    """A service's unit of work with the audit trail, where an audit row about one of its records is scoped to the
    org that record belongs to: `audit_scopes` names, for each kind of record audited, the column keeping its org
    path (tables keyed by `id`; the first with a row for the target wins, see `shared.db.record_scope`). With
    `audit_scopes_from_seen`, a record this unit of work already loaded answers without a query."""

    audit_scopes: ClassVar[Sequence[Column[Any]]] = ()
    audit_scopes_from_seen: ClassVar[bool] = False

    def audit_scope(
        self, action: str, actor: str | None, target: str | None, details: dict[str, Any] | None
    ) -> str | None:
        """The org path of the record `target` names, when its writer did not say; None (platform-wide auditors
        only) for any other target."""
        loaded = self.seen if self.audit_scopes_from_seen else ()
        return record_scope(self.session, target, self.audit_scopes, loaded=loaded)


def versioned(*mapped: tuple[type, Table]) -> tuple[AggregateMapping, ...]:
    """The mappings of aggregates that are each versioned (optimistic locking, see `AggregateMapping`), given as
    `(domain class, table)`: where people and timers change the same rows, every aggregate is."""
    return tuple(AggregateMapping(cls, table, versioned=True) for cls, table in mapped)


def parent_column(name: str, parent: str) -> Column[Any]:
    """The `id` of the `parent` table's record a child record belongs to (always set, indexed: the children are
    read by their parent)."""
    return Column(name, Uuid, ForeignKey(f"{parent}.id"), nullable=False, index=True)


def authored_columns() -> tuple[Column[Any], ...]:
    """Who created a record that changes afterwards (`created_by`, a username), `created_at`, `updated_at` and its
    `version` (optimistic locking), all always set."""
    return Column("created_by", String(100), nullable=False), *timestamps(), version_column()
