"""The audit trail (审计日志): one `audit_log` table, one way to write it, its writer (`AuditTrail`). The listing every
service serves at `GET /api/audit/<service>` is `shared.audit_listing` (Flask stays out of the units of work).

The table is `shared`'s (its Alembic branch, shared/migrations/versions, creates it in every service's database and
makes it append-only on PostgreSQL); a unit of work writes it with `AuditTrail.audit` in its own transaction.
Each service keeps its own trail (decisions, grants, sign-ins, reveals of personal data), and an auditor asks each
one: the path names the service because every service has the same listing and the gateway routes by path prefix
(one `/api/audit` could reach only one of them, and merging five trails would make the gateway or one service read
the others' data). The listing is for auditors and platform administrators, scoped to the subtrees
their grants name: a row carries the org path of what it is about (`org_path`); a row that names no org (a failed
sign-in under an unknown username, an operator's command) is shown only to those whose grant is the whole platform
(`/`). Newest first, cursor-paginated, filtered by actor, action, target and a time range.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shared.bus.tables import bus_metadata
from shared.db import UtcDateTime
from shared.logging import get_request_id

AUDIT_ROLES = ("auditor", "platform_admin")
TARGET_TYPE_LENGTH = 30
TARGET_ID_LENGTH = 64

audit_log = sa.Table(
    "audit_log",
    bus_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime(), nullable=False, index=True),
    sa.Column("actor", sa.String(100)),
    sa.Column("action", sa.String(60), nullable=False),
    sa.Column("target", sa.String(200)),  # what the record is about: an id, or `<type>:<id>`
    # A `<type>:<id>` target's parts, for one record's history (approvals' case and appointment timelines).
    sa.Column("target_type", sa.String(TARGET_TYPE_LENGTH)),
    sa.Column("target_id", sa.String(TARGET_ID_LENGTH)),
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("details", sa.JSON),
    sa.Column("request_id", sa.String(64)),
    sa.Column("org_path", sa.String(400), comment="scope: auditors see rows in their subtree"),
    sa.Column("ip", sa.String(64)),  # the client address (identity's sign-ins)
    sa.Index("ix_audit_log_target", "target_type", "target_id", "id"),
    # The listing filters `org_path = X OR org_path LIKE 'X/%'`.
    sa.Index("ix_audit_log_org_path_prefix", "org_path", postgresql_ops={"org_path": "varchar_pattern_ops"}),
)


def target_parts(target: str | None) -> tuple[str | None, str | None]:
    """`<type>:<id>` → (type, id), for a record's history; (None, None) for a bare id or anything longer than the
    columns (the whole target is kept either way)."""
    kind, _, record = (target or "").partition(":")
    if record and kind.isidentifier() and len(kind) <= TARGET_TYPE_LENGTH and len(record) <= TARGET_ID_LENGTH:
        return kind, record
    return None, None


class AuditTrail:
    """What a unit of work needs to write the audit trail: mixed into every service's unit of work, so a record is
    appended in the transaction of the change it records (a rolled-back change leaves none)."""

    session: Session

    def audit(
        self,
        action: str,
        *,
        actor: str | None,
        target: str | None = None,
        outcome: str = "ok",
        details: dict[str, Any] | None = None,
        org_path: str | None = None,
        ip: str | None = None,
    ) -> None:
        """Append a record. `target` is an id or `<type>:<id>`; `org_path`, the scope, is found by `audit_scope`
        when the caller does not know it."""
        kind, record = target_parts(target)
        self.session.execute(
            audit_log.insert().values(
                at=dt.datetime.now(dt.UTC),
                actor=actor,
                action=action,
                target=target,
                target_type=kind,
                target_id=record,
                outcome=outcome,
                details=details,
                request_id=get_request_id(),
                org_path=org_path if org_path is not None else self.audit_scope(action, actor, target, details),
                ip=ip,
            )
        )

    def audit_scope(
        self, action: str, actor: str | None, target: str | None, details: dict[str, Any] | None
    ) -> str | None:
        """The org path a record is about when its writer did not say; None (platform-wide auditors only) unless a
        service knows better from its own records."""
        return None
