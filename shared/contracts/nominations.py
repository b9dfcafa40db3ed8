"""Events the nominations service publishes: rounds (推荐 rounds under a policy), 推荐表 and 报送 batches.

Approvals consumes `nominations.round.opened`, `.nomination.submitted` / `.resubmitted` / `.withdrawn` and
`nominations.batch.submitted` (queue `approvals.reviews`): a case per nomination, and a receipt per nomination in a
batch; a stage whose policy says `awaits_batch` (焦作's city) decides a form only once its county's batch holds it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, ValidationInfo, field_validator

from shared.contracts.base import RECEIVED, EventContract
from shared.policy import check_policy_document


class RoundOpened(EventContract):
    """A round (推荐) opened under a policy. `notice` (通知): `document_number` 文号, `text`, `contacts` [{name,
    phone}], `attachments` [{title, url}]; `{}` when none. `level_deadlines`: {org level: ISO time}, e.g.
    the counties' 报送; `{}` when none. `policy`: the whole policy snapshot, checked against the one policy
    schema (shared/policy.schema.yaml) by the producer and by approvals, which acts on it: cases of the round
    follow it even if the policy changes later."""

    event_type: ClassVar[str] = "nominations.round.opened"
    subject_field: ClassVar[str | None] = "round_id"
    round_id: str
    title: str
    policy_id: str
    policy_version: int
    issuing_org_code: str
    issuing_org_path: str
    opens_at: str
    deadline: str
    policy: dict[str, Any]
    notice: dict[str, Any] = Field(default_factory=dict)
    level_deadlines: dict[str, str] = Field(default_factory=dict)

    @field_validator("policy")
    @classmethod
    def _one_policy_schema(cls, policy: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        """A producer cannot publish a snapshot the loader would have refused. A consumer checks it with
        `checked_policy` where it acts on it (approvals); one that only passes the round's title on (notifications)
        does not refuse the event for it."""
        if info.context and info.context.get(RECEIVED):
            return policy
        return check_policy_document(policy)

    def checked_policy(self) -> dict[str, Any]:
        """The snapshot, checked against the one policy schema (PolicyDocumentError names every place)."""
        return check_policy_document(self.policy)


class RoundClosed(EventContract):
    """`reason`: deadline or manual."""

    event_type: ClassVar[str] = "nominations.round.closed"
    subject_field: ClassVar[str | None] = "round_id"
    round_id: str
    closed_at: str
    reason: str


class NominationSubmitted(EventContract):
    """推荐表 submitted; `form`, `candidate`, `photo_sha256` and `eligibility` are additions to the
    contract."""

    event_type: ClassVar[str] = "nominations.nomination.submitted"
    subject_field: ClassVar[str | None] = "nomination_id"
    nomination_id: str
    round_id: str
    policy_id: str
    school_org_code: str
    school_org_path: str
    school_name: str
    candidate_user_id: str
    candidate_name: str
    submitted_by: str
    submitted_at: str
    revision: int
    form: dict[str, Any]
    candidate: dict[str, Any]
    photo_sha256: str | None
    eligibility: dict[str, Any]


class NominationResubmitted(NominationSubmitted):
    """As `submitted`, with `revision` ≥ 2 and `returned_at_stage` (index of the stage that returned it)."""

    event_type: ClassVar[str] = "nominations.nomination.resubmitted"
    returned_at_stage: int | None = None


class NominationWithdrawn(EventContract):
    """The school withdrew its 推荐表; approvals cancels the case."""

    event_type: ClassVar[str] = "nominations.nomination.withdrawn"
    subject_field: ClassVar[str | None] = "nomination_id"
    nomination_id: str
    round_id: str
    school_org_path: str
    withdrawn_by: str
    withdrawn_at: str


class BatchSubmitted(EventContract):
    """报送: a county sent its batch (approved 推荐表, its 汇总表 and its opinion) to the body above it: `org_*` is
    the sending county, `to_role, to_org_path` the body above it that receives the batch."""

    event_type: ClassVar[str] = "nominations.batch.submitted"
    subject_field: ClassVar[str | None] = "batch_id"
    batch_id: str
    round_id: str
    round_title: str
    org_code: str
    org_path: str
    org_name: str
    to_role: str
    to_org_path: str
    nomination_ids: list[str]
    count: int
    opinion: str
    submitted_by: str
    submitted_at: str


class CertificateClaimed(EventContract):
    """合格证 claimed on a 推荐表, not (yet) in training's records: the training administrator confirms it."""

    event_type: ClassVar[str] = "nominations.certificate.claimed"
    subject_field: ClassVar[str | None] = "claim_id"
    claim_id: str
    nomination_id: str
    round_id: str
    person_user_id: str
    person_name: str
    school_org_code: str
    school_org_path: str
    number: str
    kind: str
    level: str
    issuer: str
    issued_on: str
    claimed_by: str
    claimed_at: str
