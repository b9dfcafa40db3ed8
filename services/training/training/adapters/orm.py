"""Tables of the training database, the imperative mapping of the domain classes, and the projections of
people, organisations and appointments kept from identity's and approvals' events."""

from __future__ import annotations

import sqlalchemy as sa

from shared import db
from shared.db import AggregateMapping, map_imperatively_once
from shared.persistence import TS, mapped_metadata
from training.domain.model import (
    Attendance,
    Certificate,
    ImportJob,
    ImportKind,
    ImportMode,
    Training,
    TrainingKind,
    TrainingLevel,
)

metadata, mapper_registry = mapped_metadata()


trainings = sa.Table(
    "trainings",
    metadata,
    db.id_column(),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("level", db.enum_type(TrainingLevel), nullable=False),
    sa.Column("kind", db.enum_type(TrainingKind), nullable=False),
    *db.org_columns("organiser_org", name="organiser_name"),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date, nullable=False),
    sa.Column("hours", sa.Float, nullable=False),
    sa.Column("centralized", sa.Boolean, nullable=False),
    sa.Column("created_by", sa.String(100), nullable=False),
    db.created_at_column(),
    db.version_column(),
)

attendance = sa.Table(
    "attendance",
    metadata,
    db.id_column(),
    sa.Column("training_id", sa.Uuid, sa.ForeignKey("trainings.id"), nullable=False),
    sa.Column("person_user_id", sa.Uuid, nullable=False, index=True),
    sa.Column("person_org_path", sa.String(400), nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("hours", sa.Float),
    sa.Column("completed_on", sa.Date),
    sa.Column("enrolled_at", TS, nullable=False),
    sa.Column("completed_at", TS),
    sa.Column("recorded_by", sa.String(100), nullable=False),
    sa.UniqueConstraint("training_id", "person_user_id", name="uq_attendance_training_person"),
)

certificates = sa.Table(
    "certificates",
    metadata,
    db.id_column(),
    sa.Column("number", sa.String(64), nullable=False, unique=True),
    sa.Column("person_user_id", sa.Uuid, nullable=False, index=True),
    sa.Column("person_name", sa.String(100), nullable=False),
    sa.Column("person_org_path", sa.String(400), nullable=False, index=True),
    sa.Column("kind", db.enum_type(TrainingKind), nullable=False),
    sa.Column("level", db.enum_type(TrainingLevel), nullable=False),
    sa.Column("issuer", sa.String(200), nullable=False),
    sa.Column("issued_on", sa.Date, nullable=False),
    sa.Column("expires_on", sa.Date),
    sa.Column("training_id", sa.Uuid, sa.ForeignKey("trainings.id")),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("revoked_reason", sa.String(500)),
    sa.Column("revoked_at", TS),
    sa.Column("revoked_by", sa.String(100)),
    sa.Column("recorded_by", sa.String(100), nullable=False),
    db.created_at_column(),
)

import_jobs = sa.Table(
    "import_jobs",
    metadata,
    db.id_column(),
    sa.Column("kind", db.enum_type(ImportKind), nullable=False),
    sa.Column("mode", db.enum_type(ImportMode), nullable=False),
    sa.Column("training_id", sa.Uuid, sa.ForeignKey("trainings.id")),
    sa.Column("filename", sa.String(200), nullable=False),
    sa.Column("file_format", sa.String(8), nullable=False),
    sa.Column("content", sa.LargeBinary, comment="the uploaded file until it is processed"),
    sa.Column("content_hash", sa.String(64), nullable=False, comment="SHA-256 of kind, target, mode, uploader, file"),
    sa.Column("created_by", sa.String(100), nullable=False),
    sa.Column("actor_paths", sa.JSON, nullable=False, comment="the uploader's training_admin subtrees"),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("rows_total", sa.Integer, nullable=False),
    sa.Column("rows_validated", sa.Integer, nullable=False),
    sa.Column("rows_written", sa.Integer, nullable=False),
    sa.Column("rows_unchanged", sa.Integer, nullable=False),
    sa.Column("rows_failed", sa.Integer, nullable=False),
    sa.Column(
        "attempts",
        sa.Integer,
        nullable=False,
        server_default="0",
        comment="times a worker took the job; it fails once a dead worker used them up",
    ),
    sa.Column("errors", sa.JSON, nullable=False),
    sa.Column("detail", sa.Text),
    db.created_at_column(),
    sa.Column("started_at", TS),
    sa.Column("finished_at", TS),
    sa.Column("heartbeat_at", TS),
    sa.UniqueConstraint("content_hash", name="uq_import_jobs_content_hash"),
)

# -- projections from other services' events (identity's directory: shared.directory) -----------------

appointments = sa.Table(
    "appointments",
    metadata,
    sa.Column("appointment_id", sa.String(64), primary_key=True),
    sa.Column("person_user_id", sa.Uuid, nullable=False, index=True),
    sa.Column("person_name", sa.String(100)),
    *db.org_columns(),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date, comment="null: no fixed term (e.g. Jiaozuo), runs until ended or revoked"),
    sa.Column("required_centralized", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, comment="active, ended, revoked or superseded"),
    sa.Column("updated_at", TS, nullable=False),
)

requirement_notices = sa.Table(
    "requirement_notices",
    metadata,
    sa.Column("person_user_id", sa.Uuid, primary_key=True),
    sa.Column("year", sa.Integer, primary_key=True),
    sa.Column("appointment_id", sa.String(64), nullable=False),
    sa.Column("required", sa.Integer, nullable=False),
    sa.Column("completed", sa.Integer, nullable=False),
    sa.Column("published_at", TS, nullable=False),
)

# 合格证 claimed on a 推荐表 (nominations.certificate.claimed): the training administrator confirms (records the
# certificate) or rejects it
certificate_claims = sa.Table(
    "certificate_claims",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True, comment="the claim_id nominations gave"),
    sa.Column("nomination_id", sa.Uuid, nullable=False, index=True),
    sa.Column("person_user_id", sa.Uuid, nullable=False),
    sa.Column("person_name", sa.String(100), nullable=False),
    sa.Column("school_org_path", sa.String(400), nullable=False, index=True),
    sa.Column("number", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("level", sa.String(32), nullable=False),
    sa.Column("issuer", sa.String(200), nullable=False),
    sa.Column("issued_on", sa.Date, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, comment="pending, confirmed, rejected, superseded"),
    sa.Column("claimed_at", TS, nullable=False),
    sa.Column("decided_by", sa.String(100)),
    sa.Column("decided_at", TS),
    sa.Column("note", sa.String(500)),
    sa.Column("certificate_id", sa.Uuid),
)


def start_mappers() -> None:
    """Map the domain classes once per process; safe to call again."""
    map_imperatively_once(
        mapper_registry,
        AggregateMapping(Training, trainings, versioned=True),
        AggregateMapping(Attendance, attendance),
        AggregateMapping(Certificate, certificates),
        AggregateMapping(ImportJob, import_jobs),
    )
