"""The audit trail's listing, `GET /api/audit/<service>` (the trail itself and its writer are `shared.audit`).

Each service keeps its own trail, and an auditor asks each one: the path names the service because every service has
the same listing and the gateway routes by path prefix. The listing is for auditors and platform administrators,
scoped to the subtrees their grants name: a row carries the org path of what it is about (`org_path`); a row that
names no org (a failed sign-in under an unknown username, an operator's command) is shown only to those whose grant is
the whole platform (`/`). Newest first, cursor-paginated, filtered by actor, action, target and a time range.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy.orm import Session

from shared.audit import AUDIT_ROLES, audit_log
from shared.auth import current_principal
from shared.db import where_given
from shared.errors import Forbidden, Unprocessable, field_error
from shared.pagination import PageArgs, decode_cursor, page, page_schema
from shared.scope import is_grant_path, within_any


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
    query = where_given(query, (table.c.actor, args["actor"]), (table.c.action, args["action"]))
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
