"""Events the training service publishes (docs/EVENTS.md); nominations checks eligibility from them."""

from shared.contracts.training import (
    CertificateClaimRejected,
    CertificateIssued,
    CertificateRevoked,
    RequirementUnmet,
    TrainingCompleted,
)

__all__ = [
    "CertificateClaimRejected",
    "CertificateIssued",
    "CertificateRevoked",
    "RequirementUnmet",
    "TrainingCompleted",
]
