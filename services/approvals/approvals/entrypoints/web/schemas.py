"""Request and response schemas of the approvals API (they generate its OpenAPI document)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from approvals.domain.filings import KINDS as FILING_KINDS
from approvals.domain.model import DECISIONS, END_REASONS, ResolvedStage
from approvals.service_layer.evaluations import Campaign
from shared.api_schemas import NAME, ORG_CODE, Decided, UploadedFile, table_format
from shared.audit_listing import AuditEntrySchema
from shared.dataclass_schemas import dataclass_fields
from shared.pagination import PageArgs, list_schema, page_schema

_CODE = validate.Length(min=1, max=32)  # an indicator's code, an evaluation's kind (a cadence of the policy)


class SealSchema(Schema):
    """盖章: the unit whose seal stands under the opinion, and the date beside it."""

    unit_name = fields.String(required=True, validate=NAME)
    date = fields.Date(load_default=None)


class ReviewedNominationSchema(Schema):
    """The nomination a case or a task is about, as the case keeps it; a base of their schemas."""

    nomination_id = fields.UUID()
    round_id = fields.UUID()
    school_org_path = fields.String()
    school_name = fields.String()
    candidate_name = fields.String()


class TaskSchema(ReviewedNominationSchema, Decided):
    id = fields.UUID()
    case_id = fields.UUID()
    stage_index = fields.Integer()
    stage_key = fields.String(allow_none=True, metadata={"description": "the policy's stage name"})
    stage_name = fields.String(metadata={"description": "the stage's display name (name_zh)"})
    role = fields.String()
    org_code = fields.String()
    org_path = fields.String()
    revision = fields.Integer()
    status = fields.String()
    assigned_at = fields.DateTime()
    due_at = fields.DateTime()
    overdue_at = fields.DateTime(allow_none=True)
    decision = fields.String(allow_none=True)
    opinion = fields.String(allow_none=True)
    seal_unit_name = fields.String(allow_none=True)
    seal_date = fields.Date(allow_none=True)
    on_behalf_of = fields.String(allow_none=True)
    version = fields.Integer()
    awaits_batch_from = fields.String(
        allow_none=True,
        metadata={"description": "报送: the org whose batch must hold the form before this stage decides"},
    )
    awaiting_batch = fields.Boolean(
        metadata={"description": "报送: the batch has not come yet, so a decision is refused (409 `batch`) for now"}
    )


TaskPage = page_schema(TaskSchema, "TaskPage")


class TaskListArgs(PageArgs):
    status = fields.String(load_default="open", validate=validate.OneOf(["open", "decided", "cancelled", "all"]))
    role = fields.String()
    stage_name = fields.String()
    org_code = fields.String()
    school_org_path = fields.String()
    round_id = fields.UUID()
    overdue = fields.Boolean()


class DecisionSchema(Schema):
    """审核意见: approve, return for revision or reject; the final approval names the document (发文字号)."""

    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    opinion = fields.String(load_default=None, validate=validate.Length(max=2000))
    seal = fields.Nested(SealSchema, load_default=None)
    document_number = fields.String(load_default=None, validate=validate.Length(max=100))
    starts_on = fields.Date(load_default=None, metadata={"description": "first day of the term (default: today)"})
    term_years = fields.Integer(
        validate=validate.Range(min=1, max=10),
        metadata={
            "description": "the term in years, where the policy lets the appointing body choose it "
            "(term.length_chosen_at_appointment: 贺兰 一般不少于3年); default the policy's length"
        },
    )
    on_behalf_of = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "deciding for this reviewer (their user id), under their delegation in force"},
    )


class BulkItemSchema(DecisionSchema):
    task_id = fields.UUID(required=True)


class BulkDecisionSchema(Schema):
    items = fields.List(fields.Nested(BulkItemSchema), required=True, validate=validate.Length(min=1, max=200))


class DecisionResultSchema(Schema):
    case_id = fields.UUID()
    task_id = fields.UUID()
    outcome = fields.String()
    next_task_id = fields.UUID(allow_none=True)
    appointment_id = fields.UUID(allow_none=True)


BulkResultSchema = list_schema(DecisionResultSchema, "BulkResultSchema")


class StageSchema(Schema):
    """A stage of the case's chain, as the case shows it: whom it escalates to and which batch it awaits are the
    service's own bookkeeping (a task says which batch it awaits)."""

    class Meta:
        include = dataclass_fields(
            ResolvedStage, omit=("escalate_to_role", "escalate_to_org_path", "awaits_batch_from")
        )


class CaseSchema(ReviewedNominationSchema):
    id = fields.UUID()
    kind = fields.String()
    policy_id = fields.String()
    school_org_code = fields.String()
    candidate_user_id = fields.String()
    stages = fields.List(fields.Nested(StageSchema))
    current_stage = fields.Integer()
    status = fields.String()
    revision = fields.Integer()
    opened_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    tasks = fields.List(fields.Nested(TaskSchema))


CasePage = page_schema(CaseSchema, "CasePage")


class CaseListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(["in_review", "returned", "approved", "rejected", "cancelled"]))
    round_id = fields.UUID()


class HistoryEntrySchema(AuditEntrySchema):
    """An entry of the audit trail (the case's, the appointment's, the evaluation's) as a record's history shows it:
    what it is about by type and id rather than as one target; no client address (approvals records none)."""

    class Meta:
        exclude = ("target", "ip")

    target_type = fields.String()
    target_id = fields.String()
    org_path = fields.String(metadata={"description": "the org the entry is about (auditors read their subtree)"})


HistorySchema = list_schema(HistoryEntrySchema, "HistorySchema")


class DelegationSchema(Schema):
    """委托: let a colleague holding the same role at the same org decide your tasks for a while."""

    id = fields.UUID(dump_only=True)
    role = fields.String(required=True, validate=validate.Length(min=1, max=40))
    org_path = fields.String(required=True, validate=validate.Length(min=1, max=400))
    delegate_user_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    delegator_user_id = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    revoked_at = fields.DateTime(
        dump_only=True, allow_none=True, metadata={"description": "set once revoked (撤销): it no longer counts"}
    )


DelegationListSchema = list_schema(DelegationSchema, "DelegationListSchema")


class AppointmentSchema(Schema):
    id = fields.UUID()
    person_user_id = fields.String()
    person_name = fields.String()
    org_code = fields.String()
    org_path = fields.String()
    term_number = fields.Integer()
    starts_on = fields.Date()
    ends_on = fields.Date(allow_none=True, metadata={"description": "null: no term set, lasts until revoked"})
    document_number = fields.String()
    round_id = fields.UUID(allow_none=True)
    nomination_id = fields.UUID(allow_none=True)
    case_id = fields.UUID(allow_none=True)
    policy_id = fields.String()
    appointing_role = fields.String()
    appointing_org_path = fields.String()
    previous_appointment_id = fields.UUID(allow_none=True)
    end_reason = fields.String(allow_none=True, metadata={"description": "免聘/换届: why it ended"})
    end_note = fields.String(allow_none=True)
    status = fields.String()
    ended_on = fields.Date(allow_none=True)
    revoked_reason = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    version = fields.Integer()


AppointmentPage = page_schema(AppointmentSchema, "AppointmentPage")


class AppointmentListArgs(PageArgs):
    org_path = fields.String(metadata={"description": "only this org subtree"})
    status = fields.String(validate=validate.OneOf(["active", "renewed", "ended", "revoked"]))
    ends_before = fields.Date(metadata={"description": "term ending before this date"})
    round_id = fields.UUID()


class PublishedListArgs(Schema):
    round_id = fields.UUID(required=True)
    format = table_format()


class RenewSchema(Schema):
    document_number = fields.String(required=True, validate=validate.Length(min=1, max=100))


class FilingSchema(Schema):
    """变更报备: what changed during the term — the person (with the new CIO), the post, or contact data."""

    kind = fields.String(required=True, validate=validate.OneOf(sorted(FILING_KINDS)))
    change = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    details = fields.Dict(load_default=None)
    new_person_user_id = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    new_person_name = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    effective_on = fields.Date(load_default=None, metadata={"description": "from when the new CIO serves"})


class FilingOutSchema(Decided):
    id = fields.Integer()
    kind = fields.String()
    status = fields.String(metadata={"description": "due (owed by the school), filed, acknowledged, rejected"})
    change = fields.String()
    details = fields.Dict(allow_none=True)
    new_person_user_id = fields.String(allow_none=True)
    new_person_name = fields.String(allow_none=True)
    effective_on = fields.Date(allow_none=True)
    filed_by = fields.String()
    filed_at = fields.DateTime()
    opinion = fields.String(allow_none=True)
    document_number = fields.String(allow_none=True)
    successor_appointment_id = fields.UUID(allow_none=True)


class FilingDecisionSchema(Schema):
    """The bureau's answer to a 变更报备: acknowledge (备案) or reject (with the reason)."""

    decision = fields.String(required=True, validate=validate.OneOf(["acknowledge", "reject"]))
    opinion = fields.String(load_default=None, validate=validate.Length(min=1, max=2000))
    document_number = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "发文字号 appointing the new CIO, when a change of person is acknowledged"},
    )


class DismissSchema(Schema):
    """免聘: a normal end of the appointment, for a reason — not 取消任命 (revoke), the sanction."""

    reason = fields.String(required=True, validate=validate.OneOf(sorted(END_REASONS)))
    note = fields.String(load_default=None, validate=validate.Length(min=1, max=2000))
    ended_on = fields.Date(load_default=None, metadata={"description": "the last day served (default today)"})


FilingListSchema = list_schema(FilingOutSchema, "FilingListSchema")


class RevokeSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


# -- evaluations ----------------------------------------------------------------------------------
class OpenEvaluationSchema(Schema):
    """Open an evaluation: which appointment, which kind (a cadence of the policy), which year."""

    appointment_id = fields.UUID(required=True)
    kind = fields.String(required=True, validate=_CODE, metadata={"example": "cio_annual"})
    period = fields.Integer(required=True, metadata={"description": "the year evaluated", "example": 2023})


class EvidenceFileSchema(Schema):
    """An evidence file (佐证材料), stored elsewhere and referred to here."""

    name = fields.String(required=True, validate=NAME)
    ref = fields.String(
        required=True, validate=validate.Length(min=1, max=500), metadata={"description": "URL or file id"}
    )
    sha256 = fields.String(load_default=None, validate=validate.Length(equal=64))


class IndicatorScoreSchema(Schema):
    """A score given to one indicator of the sheet; a base of the school's and the bureau's."""

    code = fields.String(required=True, validate=_CODE)
    score = fields.Float(required=True, allow_nan=False)


class SelfScoreSchema(IndicatorScoreSchema):
    evidence = fields.List(
        fields.String(validate=validate.Length(max=500)), load_default=list, validate=validate.Length(max=20)
    )


class SelfAssessmentSchema(Schema):
    """自评: the school's score per indicator, its summary (自评总结) and evidence; `submit` hands it over."""

    scores = fields.List(fields.Nested(SelfScoreSchema), load_default=list, validate=validate.Length(max=200))
    summary = fields.String(load_default=None, validate=validate.Length(max=5000))
    evidence = fields.List(fields.Nested(EvidenceFileSchema), load_default=None, validate=validate.Length(max=50))
    submit = fields.Boolean(load_default=False)


class VerifiedScoreSchema(IndicatorScoreSchema):
    deduction_reason = fields.String(
        load_default=None,
        validate=validate.Length(max=2000),
        metadata={"description": "扣分原因: required below the maximum"},
    )


class VetoSchema(Schema):
    code = fields.String(required=True, validate=_CODE)
    triggered = fields.Boolean(required=True)
    reason = fields.String(load_default=None, validate=validate.Length(max=2000))


class VerificationSchema(Schema):
    """核查: the bureau's score per indicator (with 扣分原因 for each deduction) and the veto items (一票否决)."""

    scores = fields.List(fields.Nested(VerifiedScoreSchema), load_default=list, validate=validate.Length(max=200))
    vetoes = fields.List(fields.Nested(VetoSchema), load_default=list, validate=validate.Length(max=50))


class IndicatorRowSchema(Schema):
    code = fields.String()
    name = fields.String()
    parent = fields.String(allow_none=True)
    max_score = fields.Float()
    veto = fields.Boolean()
    notes = fields.String(allow_none=True, metadata={"description": "评分说明"})
    scored = fields.Boolean()
    self_score = fields.Float(allow_none=True)
    evidence = fields.List(fields.String())
    verified_score = fields.Float(allow_none=True)
    deduction_reason = fields.String(allow_none=True)
    triggered = fields.Boolean(allow_none=True)
    veto_reason = fields.String(allow_none=True)


class RectificationSchema(Decided):
    id = fields.UUID()
    evaluation_id = fields.UUID()
    appointment_id = fields.UUID(allow_none=True, metadata={"description": "null: a school assessment's"})
    org_code = fields.String()
    org_path = fields.String()
    kind = fields.String()
    period = fields.Integer()
    reason = fields.String()
    due_on = fields.Date()
    revoke_on_failure = fields.Boolean()
    status = fields.String()
    ordered_at = fields.DateTime()
    overdue_at = fields.DateTime(allow_none=True)
    outcome_notes = fields.String(allow_none=True)
    reported_at = fields.DateTime(allow_none=True, metadata={"description": "整改报告 sent (…/report)"})
    version = fields.Integer()


class EvaluationSchema(Schema):
    id = fields.UUID()
    appointment_id = fields.UUID(
        allow_none=True, metadata={"description": "null: a school assessment (subject school)"}
    )
    person_user_id = fields.String(allow_none=True)
    person_name = fields.String(allow_none=True)
    org_code = fields.String()
    org_path = fields.String()
    policy_id = fields.String()
    subject = fields.String(
        validate=validate.OneOf(["cio", "school"]),
        metadata={"description": "cio: the CIO's appointment (测评); school: the school itself (考核)"},
    )
    round_id = fields.UUID(allow_none=True, metadata={"description": "a school assessment: the round whose policy"})
    kind = fields.String()
    period = fields.Integer()
    sheet_name = fields.String()
    sheet_source = fields.String(metadata={"description": "policy, or platform (the default sheet)"})
    max_total = fields.Float()
    indicators = fields.List(fields.Nested(IndicatorRowSchema))
    summary = fields.String(allow_none=True)
    evidence = fields.List(fields.Nested(EvidenceFileSchema))
    status = fields.String(metadata={"description": "self_assessment → submitted → finalised"})
    self_total = fields.Float(allow_none=True)
    verified_total = fields.Float(allow_none=True)
    vetoed = fields.Boolean(allow_none=True)
    grade = fields.String(allow_none=True)
    created_by = fields.String()
    created_at = fields.DateTime()
    submitted_by = fields.String(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    verified_by = fields.String(allow_none=True)
    finalised_by = fields.String(allow_none=True)
    finalised_at = fields.DateTime(allow_none=True)
    updated_at = fields.DateTime()
    version = fields.Integer()
    rectification = fields.Nested(RectificationSchema, allow_none=True)


EvaluationPage = page_schema(EvaluationSchema, "EvaluationPage")
RectificationPage = page_schema(RectificationSchema, "RectificationPage")


class EvaluationListArgs(PageArgs):
    org_path = fields.String(metadata={"description": "only this org subtree"})
    appointment_id = fields.UUID()
    subject = fields.String(validate=validate.OneOf(["cio", "school"]))
    kind = fields.String()
    period = fields.Integer()
    status = fields.String(validate=validate.OneOf(["self_assessment", "submitted", "finalised"]))
    grade = fields.String()


class RectificationListArgs(PageArgs):
    org_path = fields.String()
    status = fields.String(validate=validate.OneOf(["ordered", "passed", "failed"]))
    overdue = fields.Boolean()


class OutcomeSchema(Schema):
    """整改验收: passed, or failed with the reason (a failure may revoke the appointment, per the policy)."""

    outcome = fields.String(required=True, validate=validate.OneOf(["passed", "failed"]))
    notes = fields.String(load_default=None, validate=validate.Length(max=2000))


class OutcomeResultSchema(Schema):
    rectification = fields.Nested(RectificationSchema)
    revoked_appointment_id = fields.UUID(allow_none=True)


# -- 名单公示 -----------------------------------------------------------------------------------------
class PublishSchema(Schema):
    round_id = fields.UUID(required=True)
    org_code = fields.String(required=True, validate=ORG_CODE, metadata={"description": "the publishing body"})
    title = fields.String(required=True, validate=NAME)
    starts_on = fields.Date(required=True, metadata={"description": "公示期 start (inclusive)"})
    ends_on = fields.Date(required=True, metadata={"description": "公示期 end (inclusive)"})
    note = fields.String(validate=validate.Length(max=5000))


class PublicEntrySchema(Schema):
    case_id = fields.String()
    candidate_name = fields.String()
    school_name = fields.String()


class PublicationEntrySchema(PublicEntrySchema):
    nomination_id = fields.String()
    school_org_code = fields.String()
    school_org_path = fields.String()


class ObjectionReceiptSchema(Schema):
    id = fields.UUID()
    publication_id = fields.UUID()
    status = fields.String()
    received_at = fields.DateTime()


class ObjectionSchema(ObjectionReceiptSchema):
    """异议 as the publishing body sees it, with the objector's contact details."""

    case_id = fields.UUID(allow_none=True)
    content = fields.String()
    contact_name = fields.String()
    contact_phone = fields.String(allow_none=True)
    contact_email = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "received, upheld, dismissed"})
    resolution = fields.String(allow_none=True)
    resolved_by = fields.String(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)


class PublicationNoticeSchema(Schema):
    """What a 名单公示 announces to everyone: its title and note, who publishes it, its period; a base of its
    answers."""

    id = fields.UUID()
    round_id = fields.UUID()
    title = fields.String()
    note = fields.String(allow_none=True)
    publisher_name = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date()


class PublicationSummarySchema(PublicationNoticeSchema):
    """名单公示: the list and its period."""

    publisher_org_code = fields.String()
    publisher_org_path = fields.String()
    publisher_role = fields.String()
    status = fields.String()
    published_by = fields.String()
    published_at = fields.DateTime()
    entries = fields.List(fields.Nested(PublicationEntrySchema))


class PublicationSchema(PublicationSummarySchema):
    """名单公示 as the publishing body sees it: with the objections received and the objectors' contacts."""

    objections = fields.List(fields.Nested(ObjectionSchema))


class PublicationListArgs(Schema):
    round_id = fields.UUID(load_default=None)


PublicationListSchema = list_schema(PublicationSummarySchema, "PublicationListSchema")


class PublicPublicationSchema(PublicationNoticeSchema):
    """What anyone sees without signing in: the names and units on the list, the period, the publishing body."""

    state = fields.String(metadata={"description": "upcoming, open (公示中), ended"})
    accepts_objections = fields.Boolean()
    entries = fields.List(fields.Nested(PublicEntrySchema))


PublicPublicationListSchema = list_schema(PublicPublicationSchema, "PublicPublicationListSchema")


class ObjectSchema(Schema):
    case_id = fields.UUID(metadata={"description": "the person objected to (an entry's case_id); none: the list"})
    content = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    contact_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    contact_phone = fields.String(validate=validate.Regexp(r"^[0-9+\- ]{5,32}$"))
    contact_email = fields.Email(validate=validate.Length(max=254))


class ResolveSchema(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(["upheld", "dismissed"]))
    resolution = fields.String(required=True, validate=validate.Length(min=1, max=2000))


# -- evaluation campaigns -----------------------------------------------------------------------------
class CampaignSchema(Schema):
    org_code = fields.String(required=True, validate=ORG_CODE, metadata={"description": "the bureau whose subtree"})
    kind = fields.String(
        required=True,
        validate=_CODE,
        metadata={"description": "a cadence of the policies: cio_annual (测评), school_biennial (考核)"},
    )
    period = fields.Integer(required=True, metadata={"description": "the year evaluated"})
    round_id = fields.UUID(
        load_default=None,
        metadata={
            "description": "a school assessment (school_biennial, 每2年对学校信息化工作考核一次): the round whose "
            "policy the schools follow; every school in scope is assessed, with or without a CIO. Absent for the "
            "CIOs' 测评"
        },
    )


class CampaignScopeSchema(Schema):
    """Which campaign an answer is about: the bureau, the cadence, the year (and a school assessment's round); a
    base of the campaign's answers."""

    class Meta:
        include = dataclass_fields(Campaign)

    subject = fields.String(metadata={"description": "cio (per appointment) or school (per school)"})


class CampaignResultSchema(CampaignScopeSchema):
    opened = fields.Integer()
    already_open = fields.Integer()
    not_ordered = fields.Integer(
        metadata={"description": "appointments (or schools) whose policy orders no such evaluation"}
    )
    not_started = fields.Integer(metadata={"description": "appointments that began after the period"})
    evaluation_ids = fields.List(fields.String())


class CampaignItemSchema(Schema):
    appointment_id = fields.UUID(allow_none=True, metadata={"description": "a school assessment: the active CIO's"})
    org_code = fields.String()
    org_name = fields.String(metadata={"description": "a school assessment: the school's name"})
    org_path = fields.String()
    person_name = fields.String(allow_none=True, metadata={"description": "null: a school without an active CIO"})
    evaluation_id = fields.UUID(allow_none=True)
    status = fields.String(metadata={"description": "not_opened, self_assessment, submitted, finalised"})
    grade = fields.String(allow_none=True)
    rectification_status = fields.String(allow_none=True)


class CampaignOverviewSchema(CampaignScopeSchema):
    """完成情况 of a campaign: how far each appointment (or, for a school assessment, each school) in scope is,
    and the totals."""

    total = fields.Integer()
    completed = fields.Integer()
    completion_rate = fields.Float(allow_none=True)
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer())
    grades = fields.Dict(keys=fields.String(), values=fields.Integer())
    rectifications = fields.Dict(keys=fields.String(), values=fields.Integer())
    not_ordered = fields.Integer()
    items = fields.List(fields.Nested(CampaignItemSchema))


class RectificationAttachmentSchema(UploadedFile):
    id = fields.UUID()


class RectificationReportSchema(Schema):
    """整改报告 as the school sent it, with its attachments (download each at …/attachments/{id})."""

    rectification_id = fields.UUID()
    text = fields.String()
    reported_by = fields.String()
    reported_at = fields.DateTime()
    attachments = fields.List(fields.Nested(RectificationAttachmentSchema))
