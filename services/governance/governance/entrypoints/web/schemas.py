"""Request and response schemas of the governance API (they generate its OpenAPI document)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import Schema, fields, pre_dump, validate

from governance.domain.model import AcceptanceKind, CapabilityKind, DistrictCoverage, PlanStatus
from shared import clock
from shared.api_schemas import NAME, ORG_CODE, Edited, Recorded, without
from shared.dataclass_schemas import dataclass_fields
from shared.pagination import PageArgs, list_schema, page_schema

_ITEMS = validate.Length(max=100)


def stored_day(value: Any) -> Any:
    """Records keep their lists as JSON, days as ISO strings; the API shows them as dates."""
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


# -- the city platform's catalogue -----------------------------------------------------------------
class CatalogueEntrySchema(Edited):
    id = fields.UUID(dump_only=True)
    org_code = fields.String(required=True, load_only=True, validate=ORG_CODE, metadata={"description": "the city"})
    org_path = fields.String(dump_only=True)
    code = fields.String(
        required=True, validate=[validate.Length(min=1, max=64), validate.Regexp(r"^[A-Za-z0-9_.-]+$")]
    )
    kind = fields.Enum(
        CapabilityKind, by_value=True, required=True, metadata={"description": "function, data_center or data"}
    )
    name = fields.String(required=True, validate=NAME)
    keywords = fields.List(fields.String(validate=validate.Length(min=1, max=100)), load_default=list, validate=_ITEMS)
    description = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    active = fields.Boolean(load_default=True)
    created_at = fields.DateTime(dump_only=True)


CatalogueChangeSchema = without(CatalogueEntrySchema, "CatalogueChangeSchema", "org_code", "code")


class CatalogueListArgs(Schema):
    active = fields.Boolean(load_default=False, metadata={"description": "only the active entries"})


CatalogueListSchema = list_schema(CatalogueEntrySchema, "CatalogueListSchema")


# -- project plans ---------------------------------------------------------------------------------
class MilestoneSchema(Schema):
    name = fields.String(required=True, validate=NAME)
    due_on = fields.Date(required=True)

    @pre_dump
    def _stored(self, milestone: dict[str, Any], **_: Any) -> dict[str, Any]:
        """A plan keeps its milestones as JSON (the day as an ISO string)."""
        return {**milestone, "due_on": stored_day(milestone.get("due_on"))}


class AttachmentSchema(Schema):
    name = fields.String(required=True, validate=NAME)
    url = fields.Url(required=True, schemes={"http", "https"}, validate=validate.Length(max=1000))


class FlagSchema(Schema):
    code = fields.String()
    kind = fields.String()
    name = fields.String()
    matched = fields.List(fields.String(), metadata={"description": "what in the plan matched the entry"})


class ReviewSchema(Schema):
    task_id = fields.String()
    stage_key = fields.String(allow_none=True)
    stage_name = fields.String()
    decision = fields.String()
    opinion = fields.String(allow_none=True)
    outcome = fields.String()
    decided_by = fields.String(allow_none=True)
    decided_at = fields.String()


class AcceptanceSchema(Recorded):
    id = fields.UUID(dump_only=True)
    kind = fields.Enum(
        AcceptanceKind,
        by_value=True,
        required=True,
        metadata={"description": "stage (阶段性验收) or completion (竣工验收)"},
    )
    accepted_on = fields.Date(required=True)
    evidence = fields.List(fields.Nested(AttachmentSchema), required=True, validate=validate.Length(min=1, max=50))
    opinion = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))


class PlanSchema(Edited):
    """项目建设方案: what the unit writes; the rest is the service's."""

    id = fields.UUID(dump_only=True)
    unit_org_code = fields.String(required=True, validate=ORG_CODE)
    unit_org_path = fields.String(dump_only=True)
    unit_name = fields.String(dump_only=True)
    title = fields.String(required=True, validate=NAME)
    summary = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))
    # a decimal string (exact money, never a float); the range is the domain's rule (PlanContent.check)
    budget = fields.Decimal(
        required=True,
        places=2,
        as_string=True,
        metadata={"type": "string", "format": "decimal", "description": 'yuan, e.g. "1200000.00"'},
    )
    funding_source = fields.String(required=True, validate=NAME, metadata={"description": "资金来源"})
    functions = fields.List(
        fields.String(validate=NAME), required=True, validate=_ITEMS, metadata={"description": "建设内容: functions"}
    )
    data_collected = fields.List(fields.String(validate=NAME), load_default=list, validate=_ITEMS)
    connects_to = fields.List(fields.String(validate=NAME), load_default=list, validate=_ITEMS)
    builds_data_center = fields.Boolean(load_default=False)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    milestones = fields.List(fields.Nested(MilestoneSchema), load_default=list, validate=_ITEMS)
    attachments = fields.List(fields.Nested(AttachmentSchema), load_default=list, validate=_ITEMS)
    flags = fields.List(fields.Nested(FlagSchema), dump_only=True)
    justification = fields.String(dump_only=True, allow_none=True)
    status = fields.Enum(PlanStatus, by_value=True, dump_only=True)
    revision = fields.Integer(dump_only=True)
    case_id = fields.String(dump_only=True, allow_none=True)
    suggestions = fields.String(dump_only=True, allow_none=True, metadata={"description": "合理化建议"})
    reviews = fields.List(fields.Nested(ReviewSchema), dump_only=True)
    acceptances = fields.List(fields.Nested(AcceptanceSchema), dump_only=True)
    submitted_at = fields.DateTime(dump_only=True, allow_none=True)
    decided_at = fields.DateTime(dump_only=True, allow_none=True)
    created_by = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


PlanRevisionSchema = without(PlanSchema, "PlanRevisionSchema", "unit_org_code")


class SubmitSchema(Schema):
    justification = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=4000),
        metadata={"description": "required when the duplication check flagged the plan"},
    )


class PlanListArgs(PageArgs):
    status = fields.Enum(PlanStatus, by_value=True)


PlanPage = page_schema(PlanSchema, "PlanPage")


# -- the application registry ----------------------------------------------------------------------
class ApplicationSystemSchema(Edited):
    id = fields.UUID(dump_only=True)
    org_code = fields.String(required=True, validate=ORG_CODE)
    org_path = fields.String(dump_only=True)
    org_name = fields.String(dump_only=True)
    district_code = fields.String(dump_only=True)
    district_name = fields.String(dump_only=True)
    name = fields.String(required=True, validate=NAME)
    owner = fields.String(required=True, validate=NAME, metadata={"description": "负责人 or responsible unit"})
    purpose = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    unified_identity = fields.Boolean(load_default=False, metadata={"description": "统一身份认证 connected"})
    single_sign_on = fields.Boolean(load_default=False, metadata={"description": "单点登录 connected"})
    data_exchange = fields.Boolean(load_default=False, metadata={"description": "数据交换 connected"})
    target_date = fields.Date(load_default=None, allow_none=True, metadata={"description": "due to be connected by"})
    connected = fields.Boolean(dump_only=True)
    overdue = fields.Method(
        "_overdue", dump_only=True, metadata={"type": "boolean", "description": "not connected past its target date"}
    )
    connected_at = fields.DateTime(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)

    def _overdue(self, system: Any) -> bool:
        return bool(system.overdue(clock.today()))


ApplicationChangeSchema = without(ApplicationSystemSchema, "ApplicationChangeSchema", "org_code")


class ApplicationListArgs(Schema):
    district = fields.String(validate=validate.Length(max=32), metadata={"description": "a district's org code"})
    overdue = fields.Boolean(load_default=False, metadata={"description": "only the overdue ones"})


ApplicationListSchema = list_schema(ApplicationSystemSchema, "ApplicationListSchema")


class DistrictCoverageSchema(Schema):
    class Meta:
        include = dataclass_fields(DistrictCoverage)

    connected_share = fields.Float()


class CoverageSchema(Schema):
    as_of = fields.Date()
    districts = fields.List(fields.Nested(DistrictCoverageSchema))
