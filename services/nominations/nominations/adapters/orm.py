"""Tables of the nominations database: rounds, nominations, their history and photos, the audit trail, and the
local projections (orgs, users, certificates, appointments) fed by other services' events."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from shared.db import UtcDateTime, new_metadata

metadata = new_metadata()

TS = UtcDateTime()
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
DEAD_STATUSES = ("rejected", "withdrawn")

# -- projections ---------------------------------------------------------------------------------
org_projection = sa.Table(
    "org_projection",
    metadata,
    sa.Column("code", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("parent_code", sa.String(32)),
    sa.Column("path", sa.String(400), nullable=False, index=True),
    sa.Column("updated_at", TS, nullable=False),
)

user_projection = sa.Table(
    "user_projection",
    metadata,
    sa.Column("user_id", sa.Uuid, primary_key=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("display_name", sa.String(100), nullable=False),
    sa.Column("org_code", sa.String(32), index=True),
    sa.Column("phone", sa.String(32)),
    sa.Column("email", sa.String(254)),
    sa.Column("gender", sa.String(16)),
    sa.Column("birth_date", sa.Date),
    sa.Column("profile", JSON, comment="学历, 民族, 教龄, 职务, 职称, 政治面貌 from identity: what the forms prefill"),
    sa.Column("is_active", sa.Boolean, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
)

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
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("policy_id", sa.String(64), nullable=False),
    sa.Column("policy_version", sa.Integer, nullable=False),
    sa.Column("policy", JSON, nullable=False, comment="the policy snapshot taken when the round opened"),
    sa.Column("issuing_org_code", sa.String(32), nullable=False),
    sa.Column("issuing_org_path", sa.String(400), nullable=False, index=True),
    sa.Column("opens_at", TS, nullable=False),
    sa.Column("deadline", TS, nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("closed_at", TS),
    sa.Column("close_reason", sa.String(16)),
    sa.Column("created_by", sa.String(100), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("notice", JSON, comment="通知: 文号, text, contacts, attachments"),
    sa.Column("level_deadlines", JSON, comment="{org level: ISO deadline} of each level's 报送"),
)

nominations = sa.Table(
    "nominations",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("round_id", sa.Uuid, sa.ForeignKey("rounds.id"), nullable=False, index=True),
    sa.Column("policy_id", sa.String(64), nullable=False),
    sa.Column("school_org_code", sa.String(32), nullable=False),
    sa.Column("school_org_path", sa.String(400), nullable=False, index=True),
    sa.Column("school_name", sa.String(200), nullable=False),
    sa.Column("candidate_user_id", sa.Uuid),
    sa.Column("candidate", JSON, nullable=False),
    sa.Column("form", JSON, nullable=False),
    sa.Column("photo_sha256", sa.String(64)),
    sa.Column("photo_type", sa.String(32)),
    sa.Column("attested_by", sa.String(100)),
    sa.Column("attested_name", sa.String(100)),
    sa.Column("attested_at", TS),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("returned_at_stage", sa.Integer),
    sa.Column("submitted_at", TS),
    sa.Column("decided_at", TS),
    sa.Column("certificate_claim", JSON, comment="合格证 claimed on the form, for training to confirm"),
    sa.Column("created_by", sa.String(100), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Index("ix_nominations_created_at_id", "created_at", "id"),
    # Subtree filters are `path = X OR path LIKE 'X/%'`: a pattern operator class lets LIKE use the index
    # whatever the database's collation (migration 0002).
    sa.Index(
        "ix_nominations_school_org_path_prefix",
        "school_org_path",
        postgresql_ops={"school_org_path": "varchar_pattern_ops"},
    ),
    sa.Index(
        "uq_nominations_live_per_school",
        "round_id",
        "school_org_code",
        unique=True,
        postgresql_where=sa.text("status NOT IN ('rejected', 'withdrawn')"),
    ),
)

batches = sa.Table(
    "batches",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("round_id", sa.Uuid, sa.ForeignKey("rounds.id"), nullable=False, index=True),
    sa.Column("org_code", sa.String(32), nullable=False),
    sa.Column("org_path", sa.String(400), nullable=False, index=True),
    sa.Column("org_name", sa.String(200), nullable=False),
    sa.Column("to_role", sa.String(40), nullable=False),
    sa.Column("to_org_path", sa.String(400), nullable=False),
    sa.Column("nominations", JSON, nullable=False),
    sa.Column("opinion", sa.Text, nullable=False),
    sa.Column("submitted_by", sa.String(100), nullable=False),
    sa.Column("submitted_at", TS, nullable=False),
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
