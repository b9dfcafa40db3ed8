"""Tables of the governance database and the imperative mapping of the domain classes (optimistic locking through
`version_id_col` where two people may change the same record). The directory of orgs and users, the audit trail
and the bus tables are shared's (shared.directory, shared.audit, shared.bus.tables)."""

from __future__ import annotations

import sqlalchemy as sa

from governance.domain.committee import Committee, CommitteeMeeting
from governance.domain.model import (
    Acceptance,
    AcceptanceKind,
    ApplicationSystem,
    CapabilityKind,
    CatalogueEntry,
    PlanStatus,
    ProjectPlan,
)
from governance.domain.scheduling import ProgressReport, ReminderKind, SchedulingMeeting
from governance.domain.security import CheckKind, EmergencyPlan, SecurityCheck
from shared import db
from shared.db import AggregateMapping, map_imperatively_once
from shared.persistence import TS, authored_columns, mapped_metadata, parent_column, versioned

metadata, mapper_registry = mapped_metadata()

# 市级平台已有功能: what the city platform provides, kept by the city bureau
catalogue_entries = sa.Table(
    "catalogue_entries",
    metadata,
    db.id_column(),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("kind", db.enum_type(CapabilityKind), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("keywords", sa.JSON, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("org_path", sa.String(400), nullable=False, comment="the city bureau that keeps the entry"),
    sa.Column("active", sa.Boolean, nullable=False),
    *authored_columns(),
    sa.UniqueConstraint("org_path", "code", name="uq_catalogue_entries_org_path_code"),
)

project_plans = sa.Table(
    "project_plans",
    metadata,
    db.id_column(),
    *db.org_columns("unit_org", name="unit_name"),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("summary", sa.Text),
    sa.Column("budget", sa.Numeric(14, 2), nullable=False, comment="yuan"),
    sa.Column("funding_source", sa.String(200), nullable=False),
    sa.Column("functions", sa.JSON, nullable=False),
    sa.Column("data_collected", sa.JSON, nullable=False),
    sa.Column("connects_to", sa.JSON, nullable=False),
    sa.Column("builds_data_center", sa.Boolean, nullable=False),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date, nullable=False),
    sa.Column("milestones", sa.JSON, nullable=False),
    sa.Column("attachments", sa.JSON, nullable=False),
    sa.Column("flags", sa.JSON, nullable=False, comment="catalogue entries the plan duplicates, as last checked"),
    sa.Column("justification", sa.Text),
    sa.Column("status", db.enum_type(PlanStatus), nullable=False, index=True),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("case_id", sa.String(64)),
    sa.Column("suggestions", sa.Text, comment="合理化建议: the deciding stage's opinion"),
    sa.Column("reviews", sa.JSON, nullable=False, comment="the chain's decisions as approvals announced them"),
    sa.Column("submitted_by", sa.String(100)),
    sa.Column("submitted_at", TS),
    sa.Column("decided_at", TS),
    sa.Column("completed_at", TS),
    *authored_columns(),
)

plan_acceptances = sa.Table(
    "plan_acceptances",
    metadata,
    db.id_column(),
    parent_column("plan_id", "project_plans"),
    sa.Column("kind", db.enum_type(AcceptanceKind), nullable=False),
    sa.Column("accepted_on", sa.Date, nullable=False),
    sa.Column("evidence", sa.JSON, nullable=False),
    sa.Column("opinion", sa.Text),
    *db.act_columns("recorded"),
)

# 应用系统对接台账
application_systems = sa.Table(
    "application_systems",
    metadata,
    db.id_column(),
    *db.org_columns(name="org_name"),
    *db.org_columns("district", name="district_name"),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("owner", sa.String(200), nullable=False),
    sa.Column("purpose", sa.Text, nullable=False),
    sa.Column("unified_identity", sa.Boolean, nullable=False),
    sa.Column("single_sign_on", sa.Boolean, nullable=False),
    sa.Column("data_exchange", sa.Boolean, nullable=False),
    sa.Column("target_date", sa.Date, comment="the day it is due to be connected"),
    sa.Column("connected_at", TS),
    *authored_columns(),
)


# == 月调度, network security work, Yichun's committee and liaisons ======================================

# 月调度: one report per district and month
progress_reports = sa.Table(
    "progress_reports",
    metadata,
    db.id_column(),
    *db.org_columns("district", name="district_name"),
    sa.Column("month", sa.String(7), nullable=False, comment="YYYY-MM"),
    sa.Column("deadline", sa.Date, nullable=False, comment="the month's deadline when it was submitted"),
    sa.Column("projects", sa.JSON, nullable=False),
    sa.Column("targets", sa.JSON, nullable=False, comment="the year's targets and where the district stands"),
    sa.Column("overall", sa.Text, nullable=False),
    sa.Column("issues", sa.Text),
    sa.Column("late", sa.Boolean, nullable=False),
    *db.act_columns("submitted"),
    sa.Column("updated_at", TS, nullable=False),
    db.version_column(),
    sa.UniqueConstraint("district_code", "month", name="uq_progress_reports_district_code_month"),
)

# the reminders published, so each (district, month, kind) goes out once however often the timer runs
report_reminders = sa.Table(
    "report_reminders",
    metadata,
    sa.Column("district_code", sa.String(32), primary_key=True),
    sa.Column("month", sa.String(7), primary_key=True),
    sa.Column("kind", db.enum_type(ReminderKind), primary_key=True),
    sa.Column("district_path", sa.String(400), nullable=False),
    sa.Column("published_at", TS, nullable=False),
)

scheduling_meetings = sa.Table(
    "scheduling_meetings",
    metadata,
    db.id_column(),
    *db.org_columns(),
    sa.Column("held_on", sa.Date, nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("attendees", sa.JSON, nullable=False),
    sa.Column("minutes", sa.Text, nullable=False),
    sa.Column("decisions", sa.JSON, nullable=False),
    sa.Column("action_items", sa.JSON, nullable=False, comment="owner, due date, done date of each"),
    *db.act_columns("recorded"),
    db.version_column(),
)

# 网络安全检查, 应急演练, 自查 with their findings and rectifications
security_checks = sa.Table(
    "security_checks",
    metadata,
    db.id_column(),
    *db.org_columns(name="org_name"),
    sa.Column("kind", db.enum_type(CheckKind), nullable=False),
    sa.Column("held_on", sa.Date, nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("summary", sa.Text),
    sa.Column("findings", sa.JSON, nullable=False, comment="each with its rectification, due and done dates"),
    *db.act_columns("recorded"),
    db.version_column(),
)

# 网络安全事件应急处置预案: one per unit
emergency_plans = sa.Table(
    "emergency_plans",
    metadata,
    *db.org_columns(name="org_name"),
    sa.PrimaryKeyConstraint("org_code"),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("document_url", sa.String(1000), nullable=False),
    sa.Column("last_reviewed_on", sa.Date, nullable=False),
    *db.act_columns("updated"),
    db.version_column(),
)

# 网络安全和信息化委员会 of a university
committees = sa.Table(
    "committees",
    metadata,
    *db.org_columns(name="name"),
    sa.PrimaryKeyConstraint("org_code"),
    sa.Column("members", sa.JSON, nullable=False),
    *db.act_columns("updated"),
    db.version_column(),
)

committee_meetings = sa.Table(
    "committee_meetings",
    metadata,
    db.id_column(),
    *db.org_columns(),
    sa.Column("held_on", sa.Date, nullable=False),
    sa.Column("semester", sa.String(16), nullable=False, comment="YYYY-autumn or YYYY-spring"),
    sa.Column("convened_by", sa.String(200), nullable=False),
    sa.Column("attendees", sa.JSON, nullable=False),
    sa.Column("minutes", sa.Text, nullable=False),
    sa.Column("decisions", sa.JSON, nullable=False),
    *db.act_columns("recorded"),
)

# a semester that ended short of meetings: flagged once (the CIO told), cleared by a meeting recorded for it
committee_flags = sa.Table(
    "committee_flags",
    metadata,
    sa.Column("org_code", sa.String(32), primary_key=True),
    sa.Column("semester", sa.String(16), primary_key=True),
    sa.Column("org_path", sa.String(400), nullable=False),
    sa.Column("required", sa.Integer, nullable=False),
    sa.Column("held", sa.Integer, nullable=False),
    sa.Column("flagged_at", TS, nullable=False),
    sa.Column("cleared_at", TS),
)

# the policy keys of a university's policy, from nominations.round.opened's snapshot
org_policies = sa.Table(
    "org_policies",
    metadata,
    sa.Column("org_path", sa.String(400), primary_key=True),
    sa.Column("org_code", sa.String(32), nullable=False),
    sa.Column("policy_id", sa.String(100), nullable=False),
    sa.Column("policy_version", sa.Integer, nullable=False),
    sa.Column("committee_meetings_per_semester", sa.Integer, nullable=False),
    sa.Column("liaison_per_department", sa.Integer, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
)


def start_mappers() -> None:
    """Map the domain classes once per process; safe to call again."""
    map_imperatively_once(
        mapper_registry,
        *versioned(
            (CatalogueEntry, catalogue_entries),
            (ProjectPlan, project_plans),
            (ApplicationSystem, application_systems),
            (ProgressReport, progress_reports),
            (SchedulingMeeting, scheduling_meetings),
            (SecurityCheck, security_checks),
            (EmergencyPlan, emergency_plans),
            (Committee, committees),
        ),
        # parts of a plan's and a committee's record, which raise no events of their own
        AggregateMapping(Acceptance, plan_acceptances, raises_events=False),
        AggregateMapping(CommitteeMeeting, committee_meetings, raises_events=False),
    )
