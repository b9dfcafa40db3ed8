"""The audit trail (审计日志): one `audit_log` table, one way to write it, one listing every service serves at
`GET /api/audit/<service>`.

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
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy.orm import Session

from shared.auth import current_principal
from shared.bus.tables import bus_metadata
from shared.db import UtcDateTime
from shared.errors import Forbidden, Unprocessable, field_error
from shared.logging import get_request_id
from shared.pagination import PageArgs, decode_cursor, page, page_schema
from shared.scope import is_grant_path, within_any

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


class AuditArgs(PageArgs):
    actor = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    action = fields.String(load_default=None, validate=validate.Length(min=1, max=60))
    target = fields.String(load_default=None, validate=validate.Length(min=1, max=200))
    from_ = fields.AwareDateTime(data_key="from", load_default=None, metadata={"description": "at or after (ISO 8601)"})
    to = fields.AwareDateTime(load_default=None, metadata={"description": "before (ISO 8601)"})

    @validates_schema
    def _range(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("from_") and data.get("to") and data["from_"] >= data["to"]:
            raise ValidationError("must be after `from`", "to")


class AuditEntrySchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    actor = fields.String(allow_none=True)
    action = fields.String()
    target = fields.String(allow_none=True)
    outcome = fields.String()
    org_path = fields.String(allow_none=True, metadata={"description": "the org the record is about (its scope)"})
    details = fields.Dict(allow_none=True)
    request_id = fields.String(allow_none=True)
    ip = fields.String(allow_none=True, metadata={"description": "the client address (sign-ins)"})


AuditPage = page_schema(AuditEntrySchema, "AuditPage")


def auditor_paths() -> list[str]:
    """The subtrees the caller may audit; a caller without an auditing role gets 403 (the listing exists for every
    auditor, so naming it hides nothing)."""
    principal = current_principal()
    paths = [p for p in principal.paths(*AUDIT_ROLES) if is_grant_path(p)]
    if not paths:
        raise Forbidden(f"One of these roles is required: {', '.join(AUDIT_ROLES)}.")
    return paths


def list_entries(session: Session, args: dict[str, Any], paths: list[str], *, with_ip: bool) -> dict[str, Any]:
    """One page of the trail, newest first, inside `paths`; `ip` only where the service records client addresses."""
    table = audit_log
    target = sa.func.coalesce(table.c.target, sa.func.concat(table.c.target_type, ":", table.c.target_id))
    columns = [
        table.c.id,
        table.c.at,
        table.c.actor,
        table.c.action,
        target.label("target"),
        table.c.outcome,
        table.c.org_path,
        table.c.details,
        table.c.request_id,
        *([table.c.ip] if with_ip else []),
    ]
    query = sa.select(*columns).order_by(table.c.id.desc()).limit(args["limit"] + 1)
    if "/" not in paths:  # a platform-wide grant sees every row, those naming no org too
        query = query.where(within_any(table.c.org_path, paths))
    if args["actor"]:
        query = query.where(table.c.actor == args["actor"])
    if args["action"]:
        query = query.where(table.c.action == args["action"])
    if args["target"]:
        query = query.where(sa.or_(target == args["target"], table.c.target_id == args["target"]))
    if args["from_"]:
        query = query.where(table.c.at >= args["from_"])
    if args["to"]:
        query = query.where(table.c.at < args["to"])
    after = decode_cursor(args["cursor"])
    if after is not None:
        if not isinstance(after, int) or isinstance(after, bool):
            raise Unprocessable("The cursor is not valid.", errors=[field_error("cursor", "not valid", "query")])
        query = query.where(table.c.id < after)
    rows = [dict(row._mapping) for row in session.execute(query)]
    return page(rows, args["limit"], lambda row: row["id"])


def audit_blueprint(service: str, *, with_ip: bool = False) -> Blueprint:
    """`GET /api/audit/<service>` over the service's `audit_log`; the service's object is
    `current_app.extensions[service]`, whose `session_factory` gives the session the listing reads with. `with_ip`:
    the entries carry the client address (identity's sign-ins)."""
    blp = Blueprint(
        f"{service}_audit",
        __name__,
        url_prefix=f"/api/audit/{service}",
        description=f"The {service} audit trail (审计日志), for auditors and platform administrators in scope",
    )

    def sessions() -> Callable[[], Session]:
        factory: Callable[[], Session] = current_app.extensions[service].session_factory
        return factory

    @blp.route("")
    class AuditTrail(MethodView):
        @blp.arguments(AuditArgs, location="query")
        @blp.response(200, AuditPage)
        def get(self, args: dict[str, Any]) -> Any:
            """The audit trail, newest first: filter by `actor`, `action`, `target`, `from`/`to` (ISO 8601 with
            offset); rows outside the caller's auditing grants are left out."""
            paths = auditor_paths()
            with sessions()() as session:
                return list_entries(session, args, paths, with_ip=with_ip)

    return blp
