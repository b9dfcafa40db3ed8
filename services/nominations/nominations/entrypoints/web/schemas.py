"""Request and response schemas of the nominations API (they are also its OpenAPI document)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from nominations.domain.batches import Batch
from nominations.domain.model import Nomination, Round
from shared.api_schemas import NAME, ORG_CODE, OrgRef, UploadedFile, table_format
from shared.dataclass_schemas import dataclass_fields
from shared.pagination import PageArgs, list_schema, page_schema


class PolicySummarySchema(Schema):
    id = fields.String()
    version = fields.Integer()
    title_zh = fields.String()
    title_en = fields.String()
    source = fields.String()


class PolicySchema(PolicySummarySchema):
    """The whole policy document (form fields, rules, approval chain, term, evaluation, training)."""

    region_zh = fields.String()
    nomination = fields.Dict()
    candidate = fields.Dict()
    form = fields.Dict()
    eligibility = fields.List(fields.Dict())
    approval = fields.Dict()
    term = fields.Dict()
    evaluation = fields.Dict()
    publication = fields.Dict(metadata={"description": "名单公示 before the appointment: before_appointment, min_days"})
    training = fields.Dict()
    summary_columns = fields.List(fields.Dict())


PolicyList = list_schema(PolicySummarySchema, "PolicyList")


class NoticeContact(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=50))
    phone = fields.String(validate=validate.Length(max=32))


class NoticeAttachment(Schema):
    title = fields.String(required=True, validate=NAME)
    url = fields.Url(schemes={"https", "http"}, metadata={"description": "where it is published"})


class RoundNotice(Schema):
    """通知: the notice the round carries, as the bureau issued it."""

    document_number = fields.String(
        validate=validate.Length(max=64), metadata={"description": "文号, e.g. 焦教文〔2022〕60号"}
    )
    text = fields.String(validate=validate.Length(max=20000))
    contacts = fields.List(fields.Nested(NoticeContact), validate=validate.Length(max=20))
    attachments = fields.List(fields.Nested(NoticeAttachment), validate=validate.Length(max=20))


class RoundCreate(Schema):
    title = fields.String(required=True, validate=NAME)
    policy_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    issuing_org_code = fields.String(required=True, validate=ORG_CODE)
    deadline = fields.AwareDateTime(required=True, format="iso")
    notice = fields.Nested(RoundNotice)
    level_deadlines = fields.Dict(
        keys=fields.String(validate=validate.OneOf(["county", "city", "university", "department", "school"])),
        values=fields.AwareDateTime(format="iso"),
        metadata={"description": "optional deadline per org level of the chain, e.g. the counties' 报送"},
    )


class RoundSchema(Schema):
    class Meta:
        include = dataclass_fields(
            Round,
            omit=("created_by", "version", "events"),
            notice=fields.Nested(RoundNotice),
            policy=fields.Nested(
                PolicySchema, metadata={"description": "the policy snapshot taken when the round opened"}
            ),
        )


class BatchCreate(Schema):
    org_code = fields.String(required=True, validate=ORG_CODE)
    opinion = fields.String(
        required=True, validate=validate.Length(min=1, max=2000), metadata={"description": "县区教育行政部门审核意见"}
    )


class UnitNomination(Schema):
    """A unit's nomination as a batch's answers name it: which one, and whose; a group of fields, only ever a base
    class."""

    nomination_id = fields.String()
    school_org_code = fields.String()
    school_name = fields.String()


class BatchNomination(UnitNomination):
    candidate_name = fields.String()
    status = fields.String(metadata={"description": "status when sent"})


class BatchSchema(Schema):
    """报送批次: a county's approved 推荐表, its 汇总表 (…/summary) and its opinion, sent in one act."""

    class Meta:
        include = dataclass_fields(Batch, omit=("events",), nominations=fields.List(fields.Nested(BatchNomination)))


class LeftOut(UnitNomination):
    status = fields.String()


class BatchSentSchema(BatchSchema):
    left_out = fields.List(
        fields.Nested(LeftOut), metadata={"description": "the unit's live nominations not approved at its level"}
    )


class BatchUnit(OrgRef):
    level = fields.String()
    deadline = fields.DateTime()
    batch_id = fields.UUID(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)


class BatchOverviewSchema(Schema):
    items = fields.List(fields.Nested(BatchSchema))
    units = fields.List(fields.Nested(BatchUnit), metadata={"description": "every sending unit, sent or not yet"})


class RoundListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(["open", "closed"]))


RoundPage = page_schema(RoundSchema, "RoundPage")


class RevealArgs(Schema):
    """A 汇总表 download: masked, or revealed with the reason kept in the audit trail."""

    format = table_format()
    reveal = fields.Boolean(load_default=False, metadata={"description": "full personal data (audited)"})
    reason = fields.String(
        load_default=None,
        validate=validate.Length(min=2, max=500),
        metadata={"description": "why full personal data is needed: required with reveal, kept in the audit trail"},
    )

    @validates_schema
    def _reason_with_reveal(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("reveal") and not (data.get("reason") or "").strip():
            raise ValidationError("a reason is required to reveal personal data / 导出完整个人信息须填写理由", "reason")


class SummaryArgs(RevealArgs):
    org_code = fields.String(load_default=None, validate=ORG_CODE)


class BatchSummaryArgs(RevealArgs):
    """One county's batch's 汇总表 (报送)."""


class ProgressUnitSchema(OrgRef):
    """One unit the round reaches (a school, or a university), with its live nomination if it has one."""

    level = fields.String()
    county_code = fields.String(allow_none=True, metadata={"description": "the body above the unit"})
    county_name = fields.String(allow_none=True)
    nomination_id = fields.UUID(allow_none=True, metadata={"description": "null: no nomination yet (未报送)"})
    status = fields.String(allow_none=True)
    candidate_name = fields.String(allow_none=True)
    returned_at_stage = fields.Integer(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    updated_at = fields.DateTime(allow_none=True)


PROGRESS_STATUSES = ["none", "draft", "submitted", "under_review", "returned", "resubmitted", "approved", "rejected"]


class RoundProgressArgs(PageArgs):
    county_code = fields.String(load_default=None, validate=ORG_CODE, metadata={"description": "the body above"})
    status = fields.String(
        load_default=None,
        validate=validate.OneOf(PROGRESS_STATUSES),
        metadata={"description": "none: no nomination yet (未报送)"},
    )


class ProgressCountyRow(Schema):
    """按县（市、区）汇总: one body above the units, its units and how many are at each status."""

    county_code = fields.String(allow_none=True)
    county_name = fields.String(allow_none=True)
    units = fields.Integer()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())


class RoundProgressSchema(Schema):
    """报送进度: the figures of every unit of the round in the caller's scope (how many are at each status, `none`:
    no nomination; the same per body above them), and the units a page at a time (filtered by body and status)."""

    round_id = fields.UUID()
    units = fields.List(fields.Nested(ProgressUnitSchema), metadata={"description": "this page, by org path"})
    next_cursor = fields.String(allow_none=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_county = fields.List(fields.Nested(ProgressCountyRow))


class CoverageArgs(PageArgs):
    org_code = fields.String(load_default=None, validate=ORG_CODE)


class Covered(Schema):
    """How many units there are and how many have a CIO in office; a group of fields, only ever a base class."""

    units = fields.Integer()
    appointed = fields.Integer()


class CoverageRow(Covered):
    org_code = fields.String()
    org_name = fields.String()


class CoverageSchema(Covered):
    """首席信息官覆盖率: schools and universities in scope, and how many have a CIO in office."""

    by_parent = fields.List(
        fields.Nested(CoverageRow), metadata={"description": "per body above the units: this page, by path"}
    )
    next_cursor = fields.String(allow_none=True)


class NominationCreate(Schema):
    round_id = fields.UUID(required=True)
    school_org_code = fields.String(required=True, validate=ORG_CODE)
    candidate_user_id = fields.UUID(load_default=None)
    form = fields.Dict(load_default=None, validate=validate.Length(max=100))
    start_from = fields.UUID(
        metadata={
            "description": "the unit's nomination of an earlier round (GET /api/nominations/previous): its form "
            "(and candidate, if still the unit's) starts this one; the directory's fields are prefilled afresh"
        },
    )


class PreviousArgs(Schema):
    org_code = fields.String(required=True, validate=ORG_CODE)
    round_id = fields.UUID(required=True, metadata={"description": "the round the new nomination is for"})


class PreviousSchema(Schema):
    """The unit's latest nomination of an earlier round, offered as the start of a new one."""

    nomination_id = fields.UUID()
    round_id = fields.UUID()
    round_title = fields.String()
    status = fields.String()
    candidate_name = fields.String(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)


class NominationUpdate(Schema):
    candidate_user_id = fields.UUID(load_default=None)
    form = fields.Dict(load_default=None, validate=validate.Length(max=100))


class Attestation(Schema):
    signer_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    confirm = fields.Boolean(required=True, validate=validate.Equal(True, error="you must confirm the content is true"))


class NominationSchema(Schema):
    """推荐表 as the API shows it: who created and who attested it (user ids) stay inside the service."""

    class Meta:
        include = dataclass_fields(
            Nomination,
            omit=("created_by", "attested_by", "events", "changes"),
            certificate_claim=fields.Dict(
                allow_none=True, metadata={"description": "合格证 claimed on the form (…/certificate-claim)"}
            ),
        )

    masked = fields.Boolean()


class NominationListArgs(PageArgs):
    round_id = fields.UUID(load_default=None)
    status = fields.String(
        load_default=None,
        validate=validate.OneOf(
            ["draft", "submitted", "under_review", "returned", "resubmitted", "approved", "rejected", "withdrawn"]
        ),
    )
    org_code = fields.String(load_default=None, validate=ORG_CODE)


NominationPage = page_schema(NominationSchema, "NominationPage")


class ReasonSchema(Schema):
    rule = fields.String()
    message_zh = fields.String()
    message_en = fields.String()
    details_zh = fields.List(fields.String())
    details_en = fields.List(fields.String())
    exception_reason = fields.String(
        allow_none=True, metadata={"description": "a warning: the school's stated reason for the exception"}
    )


class EligibilitySchema(Schema):
    eligible = fields.Boolean()
    checked_rules = fields.List(fields.String())
    reasons = fields.List(fields.Nested(ReasonSchema))
    warnings = fields.List(
        fields.Nested(ReasonSchema),
        metadata={"description": "原则上/一般 rules the form departs from with a stated reason: flagged, not blocking"},
    )


class HistoryEntrySchema(Schema):
    at = fields.DateTime()
    actor = fields.String()
    action = fields.String()
    details = fields.Dict(allow_none=True)


HistoryList = list_schema(HistoryEntrySchema, "HistoryList")


class CandidateArgs(Schema):
    org_code = fields.String(required=True, validate=ORG_CODE)
    round_id = fields.UUID(load_default=None, metadata={"description": "the round whose policy says whom to list"})


class CandidateSchema(Schema):
    user_id = fields.String()
    org_code = fields.String(allow_none=True)
    display_name = fields.String()
    gender = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)


CandidateList = list_schema(CandidateSchema, "CandidateList")


class CertificateClaimSchema(Schema):
    """A 合格证 not yet in training's records, for the training administrator to confirm."""

    number = fields.String(required=True, validate=validate.Regexp(r"^\S{1,64}$"))
    kind = fields.String(required=True, validate=validate.OneOf(["cio", "informatization", "other"]))
    level = fields.String(
        required=True, validate=validate.OneOf(["national", "provincial", "city", "county", "school"])
    )
    issuer = fields.String(required=True, validate=NAME)
    issued_on = fields.Date(required=True)


class EvidenceItemSchema(UploadedFile):
    kind = fields.String()
    uploaded_by = fields.String()


class EvidenceListSchema(Schema):
    """证明材料 uploaded with the form, and the claimed certificate (status pending / confirmed)."""

    items = fields.List(fields.Nested(EvidenceItemSchema))
    certificate_claim = fields.Dict(allow_none=True)
