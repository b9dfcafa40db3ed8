"""Request and response schemas of 月调度, network security work and Yichun's committee (they generate their part of
the governance OpenAPI document)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, pre_dump, validate

from governance.domain.committee import LiaisonCoverage, Position, SemesterStanding
from governance.domain.scheduling import ReportingLine
from governance.domain.security import CheckKind, Severity
from governance.entrypoints.web.schemas import AttachmentSchema, stored_day
from shared import clock
from shared.api_schemas import NAME, ORG_CODE, Edited, OrgRef, Recorded, without
from shared.dataclass_schemas import dataclass_fields
from shared.pagination import list_schema

_TEXT = validate.Length(max=20000)
_ITEMS = validate.Length(max=200)
_MONTH = validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="YYYY-MM")


def _due(record: dict[str, Any], done_key: str) -> dict[str, Any]:
    """A stored item that is due on a day and done (or not) on another, as the API shows it: days as dates, and
    overdue when not done and past its day."""
    due_on, done_on = stored_day(record.get("due_on")), stored_day(record.get(done_key))
    return {**record, "due_on": due_on, done_key: done_on, "overdue": done_on is None and due_on < clock.today()}


# -- 月调度 ------------------------------------------------------------------------------------------
class ProjectProgressSchema(Schema):
    name = fields.String(required=True, validate=NAME)
    progress_percent = fields.Integer(required=True, validate=validate.Range(min=0, max=100))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    plan_id = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=64), metadata={"description": "项目建设方案"}
    )


class TargetProgressSchema(Schema):
    code = fields.String(required=True, validate=[validate.Length(min=1, max=64)])
    name = fields.String(required=True, validate=NAME, metadata={"description": "e.g. 智慧校园 share of schools"})
    target = fields.Float(required=True, validate=validate.Range(min=0))
    actual = fields.Float(required=True, validate=validate.Range(min=0))
    met = fields.Boolean(dump_only=True)


class ReportSchema(Edited):
    id = fields.UUID(dump_only=True)
    district_code = fields.String(required=True, validate=ORG_CODE)
    district_path = fields.String(dump_only=True)
    district_name = fields.String(dump_only=True)
    month = fields.String(required=True, validate=_MONTH, metadata={"description": "YYYY-MM"})
    deadline = fields.Date(dump_only=True)
    projects = fields.List(fields.Nested(ProjectProgressSchema), load_default=list, validate=_ITEMS)
    targets = fields.List(fields.Nested(TargetProgressSchema), load_default=list, validate=_ITEMS)
    overall = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    issues = fields.String(load_default=None, allow_none=True, validate=_TEXT)
    late = fields.Boolean(dump_only=True)
    submitted_by = fields.String(dump_only=True)
    submitted_at = fields.DateTime(dump_only=True)


ReportRevisionSchema = without(ReportSchema, "ReportRevisionSchema", "district_code", "month")


class MonthArgs(Schema):
    month = fields.String(required=True, validate=_MONTH, metadata={"description": "YYYY-MM"})


ReportListSchema = list_schema(ReportSchema, "ReportListSchema")


class ReportingLineSchema(Schema):
    class Meta:
        include = dataclass_fields(
            ReportingLine,
            late=fields.Boolean(metadata={"description": "reported after the deadline"}),
            overdue=fields.Boolean(metadata={"description": "not reported and past the deadline"}),
            reminders=fields.List(fields.String(), metadata={"description": "reminders sent: before, after"}),
        )


class MonthOverviewSchema(Schema):
    month = fields.String()
    deadline = fields.Date()
    as_of = fields.Date()
    missing = fields.List(fields.String(), metadata={"description": "districts without the month's report"})
    districts = fields.List(fields.Nested(ReportingLineSchema))


class ActionItemSchema(Schema):
    id = fields.String(dump_only=True)
    title = fields.String(required=True, validate=NAME)
    owner = fields.String(required=True, validate=NAME)
    due_on = fields.Date(required=True)
    done_on = fields.Date(dump_only=True, allow_none=True)
    outcome = fields.String(dump_only=True, allow_none=True)
    overdue = fields.Boolean(dump_only=True)

    @pre_dump
    def _stored(self, item: dict[str, Any], **_: Any) -> dict[str, Any]:
        return _due(item, "done_on")


class SchedulingMeetingSchema(Recorded):
    id = fields.UUID(dump_only=True)
    org_code = fields.String(required=True, validate=ORG_CODE, metadata={"description": "the bureau that meets"})
    org_path = fields.String(dump_only=True)
    held_on = fields.Date(required=True)
    title = fields.String(required=True, validate=NAME)
    attendees = fields.List(fields.String(validate=NAME), required=True, validate=validate.Length(min=1, max=200))
    minutes = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    decisions = fields.List(fields.String(validate=validate.Length(min=1, max=2000)), load_default=list)
    action_items = fields.List(fields.Nested(ActionItemSchema), load_default=list, validate=_ITEMS)
    version = fields.Integer(dump_only=True)


class MeetingListArgs(Schema):
    open_items = fields.Boolean(load_default=False, metadata={"description": "only meetings with items not done"})


MeetingListSchema = list_schema(SchedulingMeetingSchema, "MeetingListSchema")


class ActionItemDoneSchema(Schema):
    done_on = fields.Date(required=True)
    outcome = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


# -- network security work ---------------------------------------------------------------------------
class EvidenceSchema(AttachmentSchema):
    """A finding's rectification evidence: a named link, as a plan's attachments are."""


class FindingSchema(Schema):
    id = fields.String(dump_only=True)
    description = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    severity = fields.Enum(Severity, by_value=True, required=True)
    rectification = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    due_on = fields.Date(required=True)
    rectified_on = fields.Date(dump_only=True, allow_none=True)
    evidence = fields.List(fields.Nested(EvidenceSchema), dump_only=True)
    overdue = fields.Boolean(dump_only=True)

    @pre_dump
    def _stored(self, finding: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {**_due(finding, "rectified_on"), "severity": Severity(finding["severity"])}


class SecurityCheckSchema(Recorded):
    id = fields.UUID(dump_only=True)
    org_code = fields.String(required=True, validate=ORG_CODE, metadata={"description": "the unit checked"})
    org_path = fields.String(dump_only=True)
    org_name = fields.String(dump_only=True)
    kind = fields.Enum(
        CheckKind, by_value=True, required=True, metadata={"description": "inspection, drill or self_check"}
    )
    held_on = fields.Date(required=True)
    title = fields.String(required=True, validate=NAME)
    summary = fields.String(load_default=None, allow_none=True, validate=_TEXT)
    findings = fields.List(fields.Nested(FindingSchema), load_default=list, validate=_ITEMS)
    done = fields.Boolean(dump_only=True, metadata={"description": "every finding rectified"})
    version = fields.Integer(dump_only=True)


class CheckListArgs(Schema):
    kind = fields.Enum(CheckKind, by_value=True, load_default=None)
    open = fields.Boolean(load_default=False, metadata={"description": "only checks with findings not rectified"})


CheckListSchema = list_schema(SecurityCheckSchema, "CheckListSchema")


class RectificationSchema(Schema):
    rectified_on = fields.Date(required=True)
    evidence = fields.List(fields.Nested(EvidenceSchema), required=True, validate=validate.Length(min=1, max=50))


class EmergencyPlanSchema(Edited):
    org_code = fields.String(dump_only=True)
    org_path = fields.String(dump_only=True)
    org_name = fields.String(dump_only=True)
    title = fields.String(required=True, validate=NAME)
    document_url = fields.Url(required=True, schemes={"http", "https"}, validate=validate.Length(max=1000))
    last_reviewed_on = fields.Date(required=True)
    stale = fields.Boolean(dump_only=True, metadata={"description": "last review older than the review interval"})
    updated_by = fields.String(dump_only=True)


class PlanListArgs(Schema):
    stale = fields.Boolean(load_default=False, metadata={"description": "only the plans due for review"})


EmergencyPlanListSchema = list_schema(EmergencyPlanSchema, "EmergencyPlanListSchema")


# -- Yichun's committee and liaisons -----------------------------------------------------------------
class MemberSchema(Schema):
    name = fields.String(required=True, validate=NAME)
    position = fields.Enum(
        Position, by_value=True, required=True, metadata={"description": "director, deputy_director, member, secretary"}
    )
    title = fields.String(load_default=None, allow_none=True, validate=NAME)
    user_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    is_cio = fields.Boolean(load_default=False)

    @pre_dump
    def _stored(self, member: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {**member, "position": Position(member["position"])}


class CommitteeSchema(Edited):
    org_code = fields.String(dump_only=True)
    org_path = fields.String(dump_only=True)
    name = fields.String(required=True, validate=NAME)
    members = fields.List(fields.Nested(MemberSchema), required=True, validate=validate.Length(min=1, max=100))
    updated_by = fields.String(dump_only=True)


class CommitteeMeetingSchema(Recorded):
    id = fields.UUID(dump_only=True)
    held_on = fields.Date(required=True)
    semester = fields.String(dump_only=True)
    convened_by = fields.String(required=True, validate=NAME, metadata={"description": "由CIO召集"})
    attendees = fields.List(fields.String(validate=NAME), required=True, validate=validate.Length(min=1, max=200))
    minutes = fields.String(
        required=True, validate=validate.Length(min=1, max=20000), metadata={"description": "会议纪要"}
    )
    decisions = fields.List(fields.String(validate=validate.Length(min=1, max=2000)), load_default=list)


class SemesterSchema(Schema):
    class Meta:
        include = dataclass_fields(SemesterStanding)

    met = fields.Boolean()
    flagged = fields.Boolean(metadata={"description": "ended short of the policy's meetings"})
    flagged_at = fields.DateTime(allow_none=True, metadata={"description": "when the CIO was told"})
    cleared_at = fields.DateTime(allow_none=True)


class CommitteeViewSchema(OrgRef):
    committee = fields.Nested(CommitteeSchema, allow_none=True)
    meetings_per_semester = fields.Integer(metadata={"description": "the policy's committee_meetings_per_semester"})
    semesters = fields.List(fields.Nested(SemesterSchema))
    meetings = fields.List(fields.Nested(CommitteeMeetingSchema))


class DepartmentLiaisonSchema(Schema):
    class Meta:
        include = dataclass_fields(
            LiaisonCoverage,
            liaisons=fields.List(
                fields.String(), metadata={"description": "user ids holding `liaison` at the department"}
            ),
        )

    lacking = fields.Boolean()


class LiaisonCoverageSchema(OrgRef):
    liaison_per_department = fields.Integer()
    lacking = fields.List(fields.String(), metadata={"description": "departments without their liaisons"})
    departments = fields.List(fields.Nested(DepartmentLiaisonSchema))
