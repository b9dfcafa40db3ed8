"""Events the governance service publishes: the domain events are the contracts (shared/contracts/governance.py)."""

from shared.contracts.governance import (
    ApplicationIntegrationChanged,
    ApplicationRegistered,
    PlanAccepted,
    PlanDecided,
    PlanResubmitted,
    PlanSubmitted,
)

__all__ = [
    "ApplicationIntegrationChanged",
    "ApplicationRegistered",
    "PlanAccepted",
    "PlanDecided",
    "PlanResubmitted",
    "PlanSubmitted",
]
