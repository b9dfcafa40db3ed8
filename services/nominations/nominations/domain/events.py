"""Events the nominations service publishes (see docs/EVENTS.md); approvals builds its cases from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from shared.events import DomainEvent


@dataclass
class RoundOpened(DomainEvent):
    event_type: ClassVar[str] = "nominations.round.opened"
    round_id: str
    title: str
    policy_id: str
    policy_version: int
    issuing_org_code: str
    issuing_org_path: str
    opens_at: str
    deadline: str
    policy: dict[str, Any]
    notice: dict[str, Any] = field(default_factory=dict)
    level_deadlines: dict[str, str] = field(default_factory=dict)

    @property
    def subject(self) -> str:
        return self.round_id


@dataclass
class RoundClosed(DomainEvent):
    event_type: ClassVar[str] = "nominations.round.closed"
    round_id: str
    closed_at: str
    reason: str

    @property
    def subject(self) -> str:
        return self.round_id


@dataclass
class NominationSubmitted(DomainEvent):
    """推荐表 submitted; `form`, `candidate`, `photo_sha256` and `eligibility` are additions to the contract."""

    event_type: ClassVar[str] = "nominations.nomination.submitted"
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

    @property
    def subject(self) -> str:
        return self.nomination_id


@dataclass
class NominationResubmitted(NominationSubmitted):
    event_type: ClassVar[str] = "nominations.nomination.resubmitted"
    returned_at_stage: int | None = None


@dataclass
class NominationWithdrawn(DomainEvent):
    event_type: ClassVar[str] = "nominations.nomination.withdrawn"
    nomination_id: str
    round_id: str
    school_org_path: str
    withdrawn_by: str
    withdrawn_at: str

    @property
    def subject(self) -> str:
        return self.nomination_id


@dataclass
class BatchSubmitted(DomainEvent):
    """报送: a county sent its batch (approved 推荐表, its 汇总表 and its opinion) to the body above it."""

    event_type: ClassVar[str] = "nominations.batch.submitted"
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

    @property
    def subject(self) -> str:
        return self.batch_id


@dataclass
class CertificateClaimed(DomainEvent):
    """合格证 claimed on a 推荐表, not (yet) in training's records: the training administrator confirms it."""

    event_type: ClassVar[str] = "nominations.certificate.claimed"
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

    @property
    def subject(self) -> str:
        return self.claim_id
