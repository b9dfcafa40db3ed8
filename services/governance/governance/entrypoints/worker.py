"""The governance worker: relays the outbox, keeps the org projection, follows approvals' decisions on project
plans, refreshes the registry's gauges."""

from __future__ import annotations

from governance.adapters import metrics
from governance.bootstrap import GovernanceService
from governance.declaration import SPEC
from governance.service_layer import plans
from shared.bus.consumer import EventConsumer
from shared.bus.relay import OutboxRelay
from shared.bus.topology import QueueSpec
from shared.service import worker_main
from shared.worker import Component, PeriodicTask

DIRECTORY_HANDLERS = {"identity.org.upserted": plans.on_org_upserted, "identity.user.updated": plans.on_user_updated}
REVIEW_HANDLERS = {"approvals.review.decided": plans.on_review_decided}
DIRECTORY_QUEUE = QueueSpec("governance.directory", sorted(DIRECTORY_HANDLERS))
REVIEWS_QUEUE = QueueSpec("governance.reviews", sorted(REVIEW_HANDLERS))


def components(service: GovernanceService) -> list[Component]:
    bus = service.settings.bus

    def gauges() -> None:
        with service.session_factory() as session:
            metrics.refresh_gauges(session)

    return [
        OutboxRelay(bus, service.session_factory),
        EventConsumer(bus, DIRECTORY_QUEUE, DIRECTORY_HANDLERS, service.uow),
        EventConsumer(bus, REVIEWS_QUEUE, REVIEW_HANDLERS, service.uow),
        PeriodicTask("governance-gauges", service.environment.gauges_seconds, gauges),
    ]


def main() -> None:
    worker_main(SPEC)


if __name__ == "__main__":
    main()
