"""Events the governance service publishes: the domain events are the contracts (shared/contracts/governance.py)."""

from shared.contracts.governance import (
    ApplicationIntegrationChanged,
    ApplicationRegistered,
    CommitteeMeetingMissed,
    CommitteeMeetingRecorded,
    FindingRectified,
    PlanAccepted,
    PlanDecided,
    PlanResubmitted,
    PlanSubmitted,
    ReportReminderDue,
    ReportSubmitted,
    SchedulingMeetingRecorded,
    SecurityCheckRecorded,
)

__all__ = [
    "ApplicationIntegrationChanged",
    "ApplicationRegistered",
    "CommitteeMeetingMissed",
    "CommitteeMeetingRecorded",
    "FindingRectified",
    "PlanAccepted",
    "PlanDecided",
    "PlanResubmitted",
    "PlanSubmitted",
    "ReportReminderDue",
    "ReportSubmitted",
    "SchedulingMeetingRecorded",
    "SecurityCheckRecorded",
]
