"""Tables of the approvals database and the imperative mapping of the domain classes onto them."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import relationship

from approvals.domain.evaluation import Evaluation, Rectification
from approvals.domain.filings import ChangeFiling
from approvals.domain.model import Appointment, ReviewCase, ReviewTask
from approvals.domain.publication import Objection, Publication
from shared import db
from shared.db import AggregateMapping, map_imperatively_once
from shared.persistence import TS, mapped_metadata, parent_column, versioned

metadata, mapper_registry = mapped_metadata()

# -- projections of other services' facts ---------------------------------------------------------
rounds = sa.Table(
    "rounds",
    metadata,
    sa.Column("round_id", sa.Uuid, primary_key=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("policy_id", sa.String(64), nullable=False),
    sa.Column("policy_version", sa.Integer, nullable=False),
    sa.Column("policy", sa.JSON, nullable=False, comment="the snapshot from nominations.round.opened"),
    sa.Column("issuing_org_path", sa.String(400)),
    sa.Column("opened_at", TS, nullable=False),
)

# 报送: the nominations a county sent up in its batch (nominations.batch.submitted), one receipt per nomination
batch_receipts = sa.Table(
    "batch_receipts",
    metadata,
    sa.Column("nomination_id", sa.Uuid, primary_key=True),
    sa.Column("batch_id", sa.Uuid, nullable=False),
    sa.Column("round_id", sa.Uuid, nullable=False),
    sa.Column("org_code", sa.String(32), nullable=False),
    sa.Column("org_path", sa.String(400), nullable=False, comment="the sending body (the county)"),
    sa.Column("submitted_at", TS, nullable=False),
)

# -- owned records ----------------------------------------------------------------------------
review_cases = sa.Table(
    "review_cases",
    metadata,
    db.id_column(),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("nomination_id", sa.Uuid, nullable=False, unique=True),
    sa.Column("round_id", sa.Uuid, nullable=False, index=True),
    sa.Column("policy_id", sa.String(64), nullable=False),
    *db.org_columns("school_org", name="school_name"),
    sa.Column("candidate_user_id", sa.String(64), nullable=False),
    sa.Column("candidate_name", sa.String(100), nullable=False),
    sa.Column("stages", sa.JSON, nullable=False),
    sa.Column("resubmit_reenters", sa.String(16), nullable=False),
    sa.Column("current_stage", sa.Integer, nullable=False),
    sa.Column("returned_at_stage", sa.Integer),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("opened_at", TS, nullable=False),
    sa.Column("closed_at", TS),
    db.version_column(),
)

review_tasks = sa.Table(
    "review_tasks",
    metadata,
    db.id_column(),
    parent_column("case_id", "review_cases"),
    sa.Column("nomination_id", sa.Uuid, nullable=False),
    sa.Column("round_id", sa.Uuid, nullable=False),
    sa.Column("school_org_path", sa.String(400), nullable=False),
    sa.Column("school_name", sa.String(200), nullable=False),
    sa.Column("candidate_name", sa.String(100), nullable=False),
    sa.Column("stage_index", sa.Integer, nullable=False),
    sa.Column("stage_key", sa.String(64)),
    sa.Column("stage_name", sa.String(100), nullable=False),
    sa.Column("role", sa.String(40), nullable=False),
    sa.Column("org_code", sa.String(32), nullable=False),
    sa.Column("org_path", sa.String(400), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("assigned_at", TS, nullable=False),
    sa.Column("due_at", TS, nullable=False),
    sa.Column("overdue_at", TS),
    sa.Column("decision", sa.String(16)),
    sa.Column("opinion", sa.Text),
    sa.Column("seal_unit_name", sa.String(200)),
    sa.Column("seal_date", sa.Date),
    sa.Column("decided_by", sa.String(64)),
    sa.Column("on_behalf_of", sa.String(64)),
    sa.Column("decided_at", TS),
    sa.Column("awaits_batch_from", sa.String(400), comment="报送: the org whose batch must hold the form first"),
    db.version_column(),
    sa.Index("ix_review_tasks_inbox", "status", "role", "org_path", "due_at", "id"),
)

delegations = sa.Table(
    "delegations",
    metadata,
    db.id_column(),
    sa.Column("delegator_user_id", sa.String(64), nullable=False),
    sa.Column("delegate_user_id", sa.String(64), nullable=False, index=True),
    sa.Column("role", sa.String(40), nullable=False),
    sa.Column("org_path", sa.String(400), nullable=False),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date, nullable=False),
    db.created_at_column(),
    sa.Column("revoked_at", TS),
)

appointments = sa.Table(
    "appointments",
    metadata,
    db.id_column(),
    sa.Column("person_user_id", sa.String(64), nullable=False, index=True),
    sa.Column("person_name", sa.String(100), nullable=False),
    *db.org_columns(),
    sa.Column("term_number", sa.Integer, nullable=False),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date, index=True, comment="null: no term set, lasts until revoked"),
    sa.Column("document_number", sa.String(100), nullable=False),
    sa.Column("round_id", sa.Uuid, index=True),
    sa.Column("nomination_id", sa.Uuid),
    sa.Column("case_id", sa.Uuid),
    sa.Column("policy_id", sa.String(64), nullable=False),
    sa.Column("policy", sa.JSON, nullable=False),
    sa.Column("appointing_role", sa.String(40), nullable=False),
    sa.Column("appointing_org_path", sa.String(400), nullable=False),
    sa.Column("previous_appointment_id", sa.Uuid),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("ended_on", sa.Date),
    sa.Column("end_reason", sa.String(32), comment="免聘/换届: left_school, retired, reassigned, succeeded, …"),
    sa.Column("end_note", sa.Text),
    sa.Column("ended_by", sa.String(64)),
    sa.Column("revoked_reason", sa.Text),
    sa.Column("revoked_by", sa.String(64)),
    *db.timestamps(),
    db.version_column(),
    # 每校一名首席信息官: at most one active appointment per org, enforced by the database too.
    db.unique_where("uq_appointments_active_org", "org_code", where="status = 'active'"),
)

appointment_filings = sa.Table(
    "appointment_filings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    parent_column("appointment_id", "appointments"),
    sa.Column("change", sa.Text, nullable=False),
    sa.Column("details", sa.JSON),
    sa.Column("filed_by", sa.String(64), nullable=False),
    sa.Column("filed_at", TS, nullable=False),
    # 变更报备 as a record the bureau decides: what changed, its state, and the bureau's answer
    sa.Column("org_path", sa.String(400), index=True),
    sa.Column("kind", sa.String(16), nullable=False, server_default="other", comment="person, post, contact"),
    sa.Column("status", sa.String(16), nullable=False, server_default="filed", comment="due, filed, acknowledged…"),
    sa.Column("new_person_user_id", sa.String(64)),
    sa.Column("new_person_name", sa.String(100)),
    sa.Column("effective_on", sa.Date),
    sa.Column("decided_by", sa.String(64)),
    sa.Column("decided_at", TS),
    sa.Column("opinion", sa.Text),
    sa.Column("document_number", sa.String(100)),
    sa.Column("successor_appointment_id", sa.Uuid),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
)

evaluations = sa.Table(
    "evaluations",
    metadata,
    db.id_column(),
    sa.Column("appointment_id", sa.Uuid, sa.ForeignKey("appointments.id"), comment="null: a school assessment"),
    sa.Column("person_user_id", sa.String(64)),
    sa.Column("person_name", sa.String(100)),
    *db.org_columns(),
    sa.Column("policy_id", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(16), nullable=False, server_default="cio", comment="cio (the appointment), school"),
    sa.Column("round_id", sa.Uuid, comment="a school assessment: the round whose policy the school follows"),
    sa.Column("kind", sa.String(32), nullable=False, comment="a cadence of the policy: cio_annual, school_biennial"),
    sa.Column("period", sa.Integer, nullable=False, comment="the year evaluated (first year of a longer cadence)"),
    sa.Column("sheet", sa.JSON, nullable=False, comment="the score sheet as it stood when the evaluation opened"),
    sa.Column("items", sa.JSON, nullable=False, comment="per indicator: self / verified score, evidence, reasons"),
    sa.Column("summary", sa.Text),
    sa.Column("evidence", sa.JSON, nullable=False),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("self_total", sa.Numeric(7, 2, asdecimal=False)),
    sa.Column("verified_total", sa.Numeric(7, 2, asdecimal=False)),
    sa.Column("vetoed", sa.Boolean),
    sa.Column("grade", sa.String(16), index=True),
    sa.Column("created_by", sa.String(64), nullable=False),
    db.created_at_column(),
    sa.Column("submitted_by", sa.String(64)),
    sa.Column("submitted_at", TS),
    sa.Column("verified_by", sa.String(64)),
    sa.Column("finalised_by", sa.String(64)),
    sa.Column("finalised_at", TS),
    sa.Column("updated_at", TS, nullable=False),
    db.version_column(),
    # one evaluation per appointment, kind and period; one school assessment per school, kind and period
    sa.UniqueConstraint("appointment_id", "kind", "period", name="uq_evaluations_appointment_kind_period"),
    db.unique_where("uq_evaluations_school_kind_period", "org_code", "kind", "period", where="appointment_id IS NULL"),
)

rectifications = sa.Table(
    "rectifications",
    metadata,
    db.id_column(),
    sa.Column("evaluation_id", sa.Uuid, sa.ForeignKey("evaluations.id"), nullable=False, unique=True),
    sa.Column(
        "appointment_id", sa.Uuid, sa.ForeignKey("appointments.id"), index=True, comment="null: a school assessment's"
    ),
    *db.org_columns(),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("period", sa.Integer, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("due_on", sa.Date, nullable=False),
    sa.Column("revoke_on_failure", sa.Boolean, nullable=False, comment="policy: a failed rectification revokes"),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("ordered_at", TS, nullable=False),
    sa.Column("overdue_at", TS),
    sa.Column("outcome_notes", sa.Text),
    sa.Column("decided_by", sa.String(64)),
    sa.Column("decided_at", TS),
    db.version_column(),
    # 整改报告: the school's report of what it did (the latest one), its attachments in the table below
    sa.Column("report_text", sa.Text),
    sa.Column("reported_by", sa.String(64)),
    sa.Column("reported_at", TS),
    sa.Index("ix_rectifications_open_due", "status", "due_on"),
)

rectification_attachments = sa.Table(
    "rectification_attachments",
    metadata,
    db.id_column(),
    parent_column("rectification_id", "rectifications"),
    *db.file_columns(),
)

# 名单公示: the list a body publishes for a period, the people on it (one row each, for the final approval's
# check) and the objections (异议) received during the period
publications = sa.Table(
    "publications",
    metadata,
    db.id_column(),
    sa.Column("round_id", sa.Uuid, nullable=False, index=True),
    *db.org_columns("publisher_org", name="publisher_name"),
    sa.Column("publisher_role", sa.String(40), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date, nullable=False),
    sa.Column("entries", sa.JSON, nullable=False, comment="[{case_id, nomination_id, candidate_name, school_name…}]"),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("published_by", sa.String(64), nullable=False),
    sa.Column("published_at", TS, nullable=False),
    db.version_column(),
)

publication_entries = sa.Table(
    "publication_entries",
    metadata,
    parent_column("publication_id", "publications"),
    # a person is on one list: the case's final approval waits for that list's period and objections
    sa.Column("case_id", sa.Uuid, primary_key=True),
)

objections = sa.Table(
    "objections",
    metadata,
    db.id_column(),
    parent_column("publication_id", "publications"),
    sa.Column("org_path", sa.String(400), nullable=False, comment="the publishing body's"),
    sa.Column("case_id", sa.Uuid, comment="the person objected to; none: the list as a whole"),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("contact_name", sa.String(100), nullable=False),
    sa.Column("contact_phone", sa.String(32)),
    sa.Column("contact_email", sa.String(254)),
    sa.Column("status", sa.String(16), nullable=False, comment="received, upheld, dismissed"),
    sa.Column("received_at", TS, nullable=False),
    sa.Column("resolution", sa.Text),
    sa.Column("resolved_by", sa.String(64)),
    sa.Column("resolved_at", TS),
    db.version_column(),
)


def start_mappers() -> None:
    """Map the domain classes once per process; safe to call again. Every aggregate here is versioned: reviewers,
    operators and timers change the same rows."""
    map_imperatively_once(
        mapper_registry,
        AggregateMapping(
            ReviewCase,
            review_cases,
            versioned=True,
            properties=lambda: {
                "tasks": relationship(
                    ReviewTask,
                    lazy="selectin",
                    order_by=[review_tasks.c.assigned_at, review_tasks.c.stage_index],
                    cascade="all, delete-orphan",
                )
            },
        ),
        *versioned(
            (ReviewTask, review_tasks),
            (Appointment, appointments),
            (ChangeFiling, appointment_filings),
            (Evaluation, evaluations),
            (Rectification, rectifications),
            (Publication, publications),
            (Objection, objections),
        ),
    )
