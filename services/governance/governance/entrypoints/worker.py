"""The governance worker: relays the outbox, keeps the org projection, follows approvals' decisions on project
plans, keeps the universities' policy keys and identity's grants, reminds districts missing their 月调度 report, flags
semesters without a committee meeting, refreshes the gauges."""

from __future__ import annotations

import datetime as dt

from governance.adapters import metrics
from governance.bootstrap import GovernanceService
from governance.declaration import SPEC
from governance.service_layer import committee, plans, scheduling
from shared import clock
from shared.bus.consumer import EventConsumer
from shared.bus.relay import OutboxRelay
from shared.bus.topology import QueueSpec
from shared.service import worker_main
from shared.worker import Component, PeriodicTask

DIRECTORY_HANDLERS = {"identity.org.upserted": plans.on_org_upserted, "identity.user.updated": plans.on_user_updated}
REVIEW_HANDLERS = {"approvals.review.decided": plans.on_review_decided}
DIRECTORY_QUEUE = QueueSpec("governance.directory", sorted(DIRECTORY_HANDLERS))
REVIEWS_QUEUE = QueueSpec("governance.reviews", sorted(REVIEW_HANDLERS))
GRANT_HANDLERS = {
    "identity.role.granted": committee.on_role_granted,
    "identity.role.revoked": committee.on_role_revoked,
    "nominations.round.opened": committee.on_round_opened,
}
GRANTS_QUEUE = QueueSpec("governance.grants", sorted(GRANT_HANDLERS))


def reporting_rules(service: GovernanceService) -> scheduling.ReportingRules:
    return scheduling.ReportingRules(service.environment.report_due_day, service.environment.report_reminder_days)


def checks(service: GovernanceService, today: dt.date | None = None) -> tuple[int, int]:
    """One run of the timer's checks (the CLI runs it for a given day): reminders published, semesters flagged.
    A second run the same day publishes nothing new."""
    day = today or clock.today()
    reminded = scheduling.check_reporting(service.uow(), day, reporting_rules(service))
    return reminded, committee.check_committees(service.uow(), day)


def components(service: GovernanceService) -> list[Component]:
    bus = service.settings.bus

    def gauges() -> None:
        with service.session_factory() as session:
            metrics.refresh_gauges(session)
            environment = service.environment
            metrics.refresh_work_gauges(
                session, clock.today(), environment.report_due_day, environment.emergency_plan_review_days
            )

    return [
        OutboxRelay(bus, service.session_factory),
        EventConsumer(bus, DIRECTORY_QUEUE, DIRECTORY_HANDLERS, service.uow),
        EventConsumer(bus, REVIEWS_QUEUE, REVIEW_HANDLERS, service.uow),
        EventConsumer(bus, GRANTS_QUEUE, GRANT_HANDLERS, service.uow),
        PeriodicTask("governance-gauges", service.environment.gauges_seconds, gauges),
        PeriodicTask("governance-checks", service.environment.check_seconds, lambda: checks(service)),
    ]


def main() -> None:
    worker_main(SPEC)


if __name__ == "__main__":
    main()
