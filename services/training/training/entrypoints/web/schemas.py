"""Request and response schemas of the training API (they generate its OpenAPI document)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.api_schemas import NAME, ORG_CODE, Decided
from shared.dataclass_schemas import dataclass_fields
from shared.pagination import PageArgs, list_schema, page_schema
from training.domain.model import MAX_TRAINING_HOURS, ImportMode, TrainingKind, TrainingLevel
from training.service_layer.compliance import Standing
from training.service_layer.trainings import CompletionOutcome


class TrainingSchema(Schema):
    id = fields.UUID(dump_only=True)
    title = fields.String(required=True, validate=NAME)
    level = fields.Enum(TrainingLevel, by_value=True, required=True)
    kind = fields.Enum(TrainingKind, by_value=True, required=True)
    organiser_org_code = fields.String(required=True, validate=ORG_CODE)
    organiser_org_path = fields.String(dump_only=True)
    organiser_name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    hours = fields.Float(required=True, validate=validate.Range(min=0, max=MAX_TRAINING_HOURS, min_inclusive=False))
    centralized = fields.Boolean(required=True, metadata={"description": "集中培训"})
    created_by = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class TrainingListArgs(PageArgs):
    year = fields.Integer(validate=validate.Range(min=1990, max=2100))


TrainingPage = page_schema(TrainingSchema, "TrainingPage")


class EnrolSchema(Schema):
    person_user_ids = fields.List(fields.UUID(), required=True, validate=validate.Length(min=1, max=2000))


class EnrolResultSchema(Schema):
    added = fields.Integer()


class CompletionItemSchema(Schema):
    person_user_id = fields.UUID(required=True)
    hours = fields.Float(required=True)
    completed_on = fields.Date(required=True)
    certificate_number = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    certificate_expires_on = fields.Date(load_default=None, allow_none=True)


class CompletionsSchema(Schema):
    items = fields.List(fields.Nested(CompletionItemSchema), required=True, validate=validate.Length(min=1, max=2000))


class CompletionResultSchema(Schema):
    class Meta:
        include = dataclass_fields(CompletionOutcome)


class AttendanceSchema(Schema):
    id = fields.UUID()
    training_id = fields.UUID()
    person_user_id = fields.UUID()
    status = fields.String()
    hours = fields.Float(allow_none=True)
    completed_on = fields.Date(allow_none=True)
    enrolled_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)


AttendancePage = page_schema(AttendanceSchema, "AttendancePage")


class CertificateSchema(Schema):
    id = fields.UUID(dump_only=True)
    number = fields.String(required=True, validate=validate.Length(min=1, max=64))
    person_user_id = fields.UUID(required=True)
    person_name = fields.String(dump_only=True)
    kind = fields.Enum(TrainingKind, by_value=True, required=True)
    level = fields.Enum(TrainingLevel, by_value=True, required=True)
    issuer = fields.String(required=True, validate=NAME)
    issued_on = fields.Date(required=True)
    expires_on = fields.Date(load_default=None, allow_none=True)
    training_id = fields.UUID(load_default=None, allow_none=True)
    status = fields.String(dump_only=True)
    revoked_reason = fields.String(dump_only=True, allow_none=True)
    revoked_at = fields.DateTime(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)


class CertificateListArgs(PageArgs):
    person = fields.UUID()
    status = fields.String(validate=validate.OneOf(["valid", "revoked"]))


CertificatePage = page_schema(CertificateSchema, "CertificatePage")


class RevokeSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class CertificateFactsSchema(Schema):
    """What a certificate says (its number, kind, level, issuer and day of issue), as the answers about one show it;
    a base of those answers."""

    number = fields.String()
    kind = fields.String()
    level = fields.String()
    issuer = fields.String()
    issued_on = fields.Date()


class VerificationSchema(CertificateFactsSchema):
    status = fields.String(metadata={"description": "valid, revoked or expired"})
    holder = fields.String(metadata={"description": "the holder's name, masked (王*明)"})
    expires_on = fields.Date(allow_none=True)
    revoked_on = fields.Date(allow_none=True)


class ImportForm(Schema):
    mode = fields.Enum(ImportMode, by_value=True, load_default=ImportMode.ALL_OR_NOTHING)


class ImportErrorSchema(Schema):
    row = fields.Integer()
    column = fields.String()
    message = fields.String()
    message_zh = fields.String()


class ImportJobSchema(Schema):
    id = fields.UUID()
    kind = fields.String()
    mode = fields.String()
    training_id = fields.UUID(allow_none=True)
    filename = fields.String()
    status = fields.String(metadata={"description": "queued, running, done, rejected or failed"})
    rows_total = fields.Integer()
    rows_validated = fields.Integer()
    rows_written = fields.Integer()
    rows_unchanged = fields.Integer()
    rows_failed = fields.Integer()
    errors = fields.List(fields.Nested(ImportErrorSchema))
    detail = fields.String(allow_none=True)
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)


class YearSchema(Schema):
    year = fields.Integer()
    hours = fields.Float()
    trainings = fields.Integer()
    centralized = fields.Integer()


class SummaryCertificateSchema(CertificateFactsSchema):
    id = fields.UUID()
    expires_on = fields.Date(allow_none=True)
    standing = fields.String()


class SummarySchema(Schema):
    person_user_id = fields.UUID()
    display_name = fields.String()
    org_code = fields.String(allow_none=True)
    years = fields.List(fields.Nested(YearSchema))
    certificates = fields.List(fields.Nested(SummaryCertificateSchema))


class ComplianceArgs(Schema):
    year = fields.Integer(required=True, validate=validate.Range(min=1990, max=2100))
    org = fields.String(validate=ORG_CODE, metadata={"description": "org code"})
    status = fields.String(validate=validate.OneOf(["met", "unmet"]))


class ComplianceItemSchema(Schema):
    class Meta:
        include = dataclass_fields(Standing)

    meets = fields.Boolean()


class ComplianceSchema(Schema):
    year = fields.Integer()
    total = fields.Integer()
    meeting = fields.Integer()
    missing = fields.Integer()
    items = fields.List(fields.Nested(ComplianceItemSchema))


class ClaimSchema(CertificateFactsSchema, Decided):
    """合格证 claimed on a 推荐表, for the training administrator to confirm or reject."""

    id = fields.UUID()
    nomination_id = fields.UUID()
    person_user_id = fields.UUID()
    person_name = fields.String()
    school_org_path = fields.String()
    status = fields.String(metadata={"description": "pending, confirmed, rejected, superseded"})
    claimed_at = fields.DateTime()
    note = fields.String(allow_none=True)
    certificate_id = fields.UUID(allow_none=True)


class ClaimListArgs(Schema):
    status = fields.String(
        load_default=None, validate=validate.OneOf(["pending", "confirmed", "rejected", "superseded"])
    )


ClaimListSchema = list_schema(ClaimSchema, "ClaimListSchema")


class ClaimDecisionSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["confirm", "reject"]))
    note = fields.String(validate=validate.Length(max=500))
