"""The governance worker's timers: the gauges (registry, 月调度, security work) and the daily checks (report
reminders, semesters without a committee meeting)."""

from __future__ import annotations

import datetime as dt

from governance.adapters import metrics
from governance.bootstrap import GovernanceService
from governance.service_layer import committee, scheduling
from shared import clock
from shared.worker import PeriodicTask


def checks(service: GovernanceService, today: dt.date | None = None) -> tuple[int, int]:
    """One run of the timer's checks (the CLI runs it for a given day): reminders published, semesters flagged.
    A second run the same day publishes nothing new."""
    day = today or clock.today()
    reminded = scheduling.check_reporting(service.uow(), day, scheduling.ReportingRules.of(service.environment))
    return reminded, committee.check_committees(service.uow(), day)


def timers(service: GovernanceService) -> list[PeriodicTask]:
    def gauges() -> None:
        with service.session_factory() as session:
            metrics.refresh_gauges(session)
            environment = service.environment
            metrics.refresh_work_gauges(
                session, clock.today(), environment.report_due_day, environment.emergency_plan_review_days
            )

    return [
        PeriodicTask("governance-gauges", service.environment.gauges_seconds, gauges),
        PeriodicTask("governance-checks", service.environment.check_seconds, lambda: checks(service)),
    ]
