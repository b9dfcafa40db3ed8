"""The governance unit of work: its repositories over one session (events of the aggregates they saw go to the outbox
on commit), the directory's orgs, the audit trail."""

from __future__ import annotations

from governance.adapters.orm import (
    application_systems,
    catalogue_entries,
    committee_meetings,
    project_plans,
    scheduling_meetings,
    security_checks,
)
from governance.adapters.repository import (
    ApplicationRepository,
    CatalogueRepository,
    CommitteeRepository,
    EmergencyPlanRepository,
    OrgRepository,
    PlanRepository,
    PolicyRepository,
    ReportRepository,
    SchedulingMeetingRepository,
    SecurityCheckRepository,
)
from shared.db import OverSession
from shared.persistence import RecordScopedUnitOfWork


class GovernanceUnitOfWork(RecordScopedUnitOfWork):
    # The org an audited record is about, when its writer did not say: a plan's unit, a system's owner, a
    # catalogue entry's city, a meeting's or a check's org; None (platform-wide auditors only) for anything else.
    audit_scopes = (
        project_plans.c.unit_org_path,
        application_systems.c.org_path,
        catalogue_entries.c.org_path,
        scheduling_meetings.c.org_path,
        security_checks.c.org_path,
        committee_meetings.c.org_path,
    )

    catalogue = OverSession(CatalogueRepository)
    plans = OverSession(PlanRepository)
    applications = OverSession(ApplicationRepository)
    orgs = OverSession(OrgRepository)
    reports = OverSession(ReportRepository)
    scheduling_meetings = OverSession(SchedulingMeetingRepository)
    security_checks = OverSession(SecurityCheckRepository)
    emergency_plans = OverSession(EmergencyPlanRepository)
    committees = OverSession(CommitteeRepository)
    policies = OverSession(PolicyRepository)
