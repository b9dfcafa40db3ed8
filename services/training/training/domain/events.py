"""Events the training service publishes (docs/EVENTS.md); nominations checks eligibility from them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shared.events import DomainEvent


@dataclass
class TrainingCompleted(DomainEvent):
    """A person completed a training (结业), with the hours credited."""

    event_type: ClassVar[str] = "training.training.completed"
    training_id: str
    person_user_id: str
    kind: str
    level: str
    centralized: bool
    hours: float
    completed_on: str
    year: int

    @property
    def subject(self) -> str:
        return self.training_id


@dataclass
class CertificateIssued(DomainEvent):
    """合格证 issued or recorded."""

    event_type: ClassVar[str] = "training.certificate.issued"
    certificate_id: str
    number: str
    person_user_id: str
    person_name: str
    kind: str
    level: str
    issuer: str
    issued_on: str
    expires_on: str | None
    training_id: str | None

    @property
    def subject(self) -> str:
        return self.certificate_id


@dataclass
class CertificateRevoked(DomainEvent):
    event_type: ClassVar[str] = "training.certificate.revoked"
    certificate_id: str
    number: str
    person_user_id: str
    kind: str
    level: str
    reason: str
    revoked_at: str

    @property
    def subject(self) -> str:
        return self.certificate_id


@dataclass
class RequirementUnmet(DomainEvent):
    """An active CIO did not complete the policy's yearly trainings by the check date."""

    event_type: ClassVar[str] = "training.requirement.unmet"
    person_user_id: str
    appointment_id: str
    org_code: str
    org_path: str
    year: int
    required: int
    completed: int

    @property
    def subject(self) -> str:
        return self.person_user_id


@dataclass
class CertificateClaimRejected(DomainEvent):
    """A 合格证 claimed on a 推荐表 that the training administrator could not confirm, with the reason."""

    event_type: ClassVar[str] = "training.certificate.claim_rejected"
    claim_id: str
    nomination_id: str
    person_user_id: str
    school_org_path: str
    number: str
    note: str
    decided_by: str

    @property
    def subject(self) -> str:
        return self.claim_id
