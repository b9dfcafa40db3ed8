"""Tables of the nominations database: rounds, nominations, their history and photos, the audit trail, and the
local projections (certificates, appointments) fed by other services' events (orgs and users are the shared
directory's, shared.directory); and the imperative mapping of the domain's rounds, nominations (with their
history) and batches onto them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import relationship
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.types import TypeDecorator

from nominations.domain.batches import Batch
from nominations.domain.model import Change, Nomination, Round, RoundStatus, Status
from shared import db
from shared.db import AggregateMapping, map_imperatively_once
from shared.persistence import TS, authored_columns, mapped_metadata, parent_column

metadata, mapper_registry = mapped_metadata()
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
DEAD_STATUSES = ("rejected", "withdrawn")


class _JsonObject(TypeDecorator[dict[str, Any]]):
    """A JSON object the domain always holds as a dict; an empty one is stored as NULL (nothing to say)."""

    impl = sa.JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        return dialect.type_descriptor(postgresql.JSONB() if dialect.name == "postgresql" else sa.JSON())

    def process_bind_param(self, value: dict[str, Any] | None, dialect: sa.Dialect) -> dict[str, Any] | None:
        return self._to_json(value) if value else None

    def process_result_value(self, value: dict[str, Any] | None, dialect: sa.Dialect) -> dict[str, Any]:
        return self._from_json(value) if value else {}

    def _to_json(self, value: dict[str, Any]) -> dict[str, Any]:
        return dict(value)

    def _from_json(self, value: dict[str, Any]) -> dict[str, Any]:
        return dict(value)


class _LevelDeadlines(_JsonObject):
    """{org level: deadline}: aware datetimes in the domain, ISO 8601 strings in the JSON column."""

    cache_ok = True

    def _to_json(self, value: dict[str, Any]) -> dict[str, Any]:
        return {level: due.isoformat() for level, due in value.items()}

    def _from_json(self, value: dict[str, Any]) -> dict[str, Any]:
        return {level: dt.datetime.fromisoformat(due) for level, due in value.items()}


# -- projections ---------------------------------------------------------------------------------
certificate_projection = sa.Table(
    "certificate_projection",
    metadata,
    sa.Column("certificate_id", sa.String(64), primary_key=True),
    sa.Column("number", sa.String(100)),
    sa.Column("person_user_id", sa.Uuid, nullable=False, index=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("level", sa.String(32), nullable=False),
    sa.Column("issuer", sa.String(200)),
    sa.Column("issued_on", sa.Date),
    sa.Column("expires_on", sa.Date),
    sa.Column("revoked_at", TS),
    sa.Column("revoke_reason", sa.String(500)),
)

appointment_projection = sa.Table(
    "appointment_projection",
    metadata,
    sa.Column("appointment_id", sa.String(64), primary_key=True),
    sa.Column("person_user_id", sa.Uuid, nullable=False, index=True),
    sa.Column("org_code", sa.String(32)),
    sa.Column("org_path", sa.String(400)),
    sa.Column("term_number", sa.Integer, nullable=False, default=1),
    sa.Column("starts_on", sa.Date),
    sa.Column("ends_on", sa.Date),
    sa.Column("status", sa.String(16), nullable=False, comment="active, ended or revoked"),
    sa.Column("policy_id", sa.String(64)),
    sa.Column("updated_at", TS, nullable=False),
)

# -- own aggregates ------------------------------------------------------------------------------
rounds = sa.Table(
    "rounds",
    metadata,
    db.id_column(),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("policy_id", sa.String(64), nullable=False),
    sa.Column("policy_version", sa.Integer, nullable=False),
    sa.Column("policy", JSON, nullable=False, comment="the policy snapshot taken when the round opened"),
    *db.org_columns("issuing_org"),
    sa.Column("opens_at", TS, nullable=False),
    sa.Column("deadline", TS, nullable=False, index=True),
    sa.Column("status", db.enum_type(RoundStatus, 16), nullable=False, index=True),
    sa.Column("closed_at", TS),
    sa.Column("close_reason", sa.String(16)),
    sa.Column("created_by", sa.String(100), nullable=False),
    db.version_column(),
    sa.Column("notice", _JsonObject(), comment="通知: 文号, text, contacts, attachments"),
    sa.Column("level_deadlines", _LevelDeadlines(), comment="{org level: ISO deadline} of each level's 报送"),
)

nominations = sa.Table(
    "nominations",
    metadata,
    db.id_column(),
    parent_column("round_id", "rounds"),
    sa.Column("policy_id", sa.String(64), nullable=False),
    *db.org_columns("school_org", name="school_name"),
    sa.Column("candidate_user_id", sa.Uuid),
    sa.Column("candidate", JSON, nullable=False),
    sa.Column("form", JSON, nullable=False),
    sa.Column("photo_sha256", sa.String(64)),
    sa.Column("photo_type", sa.String(32)),
    sa.Column("attested_by", sa.String(100)),
    sa.Column("attested_name", sa.String(100)),
    sa.Column("attested_at", TS),
    sa.Column("status", db.enum_type(Status, 16), nullable=False, index=True),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("returned_at_stage", sa.Integer),
    sa.Column("submitted_at", TS),
    sa.Column("decided_at", TS),
    sa.Column("certificate_claim", JSON, comment="合格证 claimed on the form, for training to confirm"),
    *authored_columns(),
    sa.Index("ix_nominations_created_at_id", "created_at", "id"),
    # Subtree filters are `path = X OR path LIKE 'X/%'`: a pattern operator class lets LIKE use the index
    # whatever the database's collation (migration 0002).
    sa.Index(
        "ix_nominations_school_org_path_prefix",
        "school_org_path",
        postgresql_ops={"school_org_path": "varchar_pattern_ops"},
    ),
    db.unique_where(
        "uq_nominations_live_per_school", "round_id", "school_org_code", where="status NOT IN ('rejected', 'withdrawn')"
    ),
)

batches = sa.Table(
    "batches",
    metadata,
    db.id_column(),
    parent_column("round_id", "rounds"),
    *db.org_columns(name="org_name"),
    sa.Column("to_role", sa.String(40), nullable=False),
    sa.Column("to_org_path", sa.String(400), nullable=False),
    sa.Column("nominations", JSON, nullable=False),
    sa.Column("opinion", sa.Text, nullable=False),
    *db.act_columns("submitted"),
    # 报送 is one act: one batch per county and round
    sa.UniqueConstraint("round_id", "org_code", name="uq_batches_round_org"),
)

nomination_photos = sa.Table(
    "nomination_photos",
    metadata,
    sa.Column("nomination_id", sa.Uuid, sa.ForeignKey("nominations.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("content_type", sa.String(32), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("uploaded_at", TS, nullable=False),
)

nomination_evidence = sa.Table(
    "nomination_evidence",
    metadata,
    sa.Column("nomination_id", sa.Uuid, sa.ForeignKey("nominations.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("kind", sa.String(40), primary_key=True, comment="a kind of the policy's form.evidence"),
    sa.Column("filename", sa.String(200), nullable=False),
    sa.Column("content_type", sa.String(100), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("uploaded_by", sa.String(100), nullable=False),
    sa.Column("uploaded_at", TS, nullable=False),
)

nomination_history = sa.Table(
    "nomination_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "nomination_id", sa.Uuid, sa.ForeignKey("nominations.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("at", TS, nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("details", JSON),
)


def start_mappers() -> None:
    """Map the domain classes once per process; safe to call again.

    The domain keeps its own version counter (a round or nomination counts its changes, and that number is the
    ETag clients send back in If-Match), so the mapper checks it on every UPDATE (`WHERE version = <as read>`,
    StaleDataError when someone else saved first) but never generates it.
    """
    map_imperatively_once(
        mapper_registry,
        AggregateMapping(Round, rounds, versioned=True, domain_counts_versions=True),
        AggregateMapping(Change, nomination_history, raises_events=False),
        AggregateMapping(
            Nomination,
            nominations,
            versioned=True,
            domain_counts_versions=True,
            properties=lambda: {
                # The history, appended to as the nomination changes (see _history_is_appended_to), oldest first.
                "changes": relationship(Change, order_by=nomination_history.c.id, cascade="all, delete-orphan"),
            },
        ),
        AggregateMapping(Batch, batches),
    )
    if not event.contains(Nomination, "load", _history_is_appended_to):
        event.listen(Nomination, "load", _history_is_appended_to)


def _history_is_appended_to(nomination: Nomination, _context: Any) -> None:
    """A loaded nomination's `changes` start empty, as if loaded: the aggregate only appends the changes it records
    (inserted on flush), and the history is read from the table (`NominationRepository.history`), never through
    the aggregate. Recording a change then costs its INSERT, not also a SELECT of every earlier line first."""
    set_committed_value(nomination, "changes", [])
