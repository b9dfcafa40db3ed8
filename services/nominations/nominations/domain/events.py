"""Events the nominations service publishes (see docs/EVENTS.md); approvals builds its cases from them."""

from shared.contracts.nominations import (
    BatchSubmitted,
    CertificateClaimed,
    NominationResubmitted,
    NominationSubmitted,
    NominationWithdrawn,
    RoundClosed,
    RoundOpened,
)

__all__ = [
    "BatchSubmitted",
    "CertificateClaimed",
    "NominationResubmitted",
    "NominationSubmitted",
    "NominationWithdrawn",
    "RoundClosed",
    "RoundOpened",
]
