"""Events the training service publishes: trainings, 合格证 and the yearly requirement check; nominations checks
eligibility from them."""

from __future__ import annotations

from typing import ClassVar

from shared.contracts.base import EventContract


class TrainingCompleted(EventContract):
    """A person completed a training (结业), with the hours credited. `kind`: cio/informatization/other;
    `level`: national/provincial/city/county/school."""

    event_type: ClassVar[str] = "training.training.completed"
    subject_field: ClassVar[str | None] = "training_id"
    training_id: str
    person_user_id: str
    kind: str
    level: str
    centralized: bool
    hours: int | float
    completed_on: str
    year: int


class CertificateIssued(EventContract):
    """合格证 issued or recorded."""

    event_type: ClassVar[str] = "training.certificate.issued"
    subject_field: ClassVar[str | None] = "certificate_id"
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


class CertificateRevoked(EventContract):
    """A 合格证 revoked."""

    event_type: ClassVar[str] = "training.certificate.revoked"
    subject_field: ClassVar[str | None] = "certificate_id"
    certificate_id: str
    number: str
    person_user_id: str
    kind: str
    level: str
    reason: str
    revoked_at: str


class RequirementUnmet(EventContract):
    """An active CIO did not complete the policy's yearly trainings by the check date. The yearly check
    found fewer centralized trainings than required; the subject is the person's user id."""

    event_type: ClassVar[str] = "training.requirement.unmet"
    subject_field: ClassVar[str | None] = "person_user_id"
    person_user_id: str
    appointment_id: str
    org_code: str
    org_path: str
    year: int
    required: int
    completed: int


class CertificateClaimRejected(EventContract):
    """A 合格证 claimed on a 推荐表 that the training administrator could not confirm, with the reason. A
    confirmed claim is a `training.certificate.issued`; nominations marks the form's claim `rejected` with
    `note` as its reason, notifications tells the school."""

    event_type: ClassVar[str] = "training.certificate.claim_rejected"
    subject_field: ClassVar[str | None] = "claim_id"
    claim_id: str
    nomination_id: str
    person_user_id: str
    school_org_path: str
    number: str
    note: str
    decided_by: str
