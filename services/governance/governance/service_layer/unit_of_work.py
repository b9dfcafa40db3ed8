"""The governance unit of work: its repositories over one session (events of the aggregates they saw go to the outbox
on commit), the directory's orgs, the audit trail."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

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
from shared.audit import AuditTrail
from shared.db import SqlAlchemyUnitOfWork, pending_scope

# Each record's table and the column holding the org it is about, for the audit listing's scope.
_SCOPES = (
    (project_plans, project_plans.c.unit_org_path),
    (application_systems, application_systems.c.org_path),
    (catalogue_entries, catalogue_entries.c.org_path),
    (scheduling_meetings, scheduling_meetings.c.org_path),
    (security_checks, security_checks.c.org_path),
    (committee_meetings, committee_meetings.c.org_path),
)


class GovernanceUnitOfWork(AuditTrail, SqlAlchemyUnitOfWork):
    catalogue: CatalogueRepository
    plans: PlanRepository
    applications: ApplicationRepository
    orgs: OrgRepository
    reports: ReportRepository
    scheduling_meetings: SchedulingMeetingRepository
    security_checks: SecurityCheckRepository
    emergency_plans: EmergencyPlanRepository
    committees: CommitteeRepository
    policies: PolicyRepository

    def on_enter(self) -> None:
        self.catalogue = CatalogueRepository(self.session)
        self.plans = PlanRepository(self.session)
        self.applications = ApplicationRepository(self.session)
        self.orgs = OrgRepository(self.session)
        self.reports = ReportRepository(self.session)
        self.scheduling_meetings = SchedulingMeetingRepository(self.session)
        self.security_checks = SecurityCheckRepository(self.session)
        self.emergency_plans = EmergencyPlanRepository(self.session)
        self.committees = CommitteeRepository(self.session)
        self.policies = PolicyRepository(self.session)

    def audit_scope(
        self, action: str, actor: str | None, target: str | None, details: dict[str, Any] | None
    ) -> str | None:
        """The org a record is about, when its writer did not say: a plan's unit, a system's owner, a catalogue
        entry's city; None (platform-wide auditors only) for anything else."""
        try:
            record = uuid.UUID(target or "")
        except ValueError:
            return None
        pending = pending_scope(self.session, record, ("unit_org_path", "org_path"))
        if pending is not None:
            return pending
        with self.session.no_autoflush:
            for table, column in _SCOPES:
                path = self.session.execute(select(column).where(table.c.id == record)).scalar_one_or_none()
                if path is not None:
                    return str(path)
        return None
