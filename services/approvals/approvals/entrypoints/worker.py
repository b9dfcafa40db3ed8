"""The approvals worker: consumes nominations' and identity's events, relays the outbox, runs the timers."""

from __future__ import annotations

from collections.abc import Callable

from approvals.adapters import metrics
from approvals.bootstrap import Approvals
from approvals.config import ApprovalsEnvironment
from approvals.declaration import SPEC
from approvals.service_layer import appointments, evaluations, reviews
from approvals.service_layer.unit_of_work import ApprovalsUnitOfWork
from shared.bus.consumer import EventConsumer, Handler
from shared.bus.relay import OutboxRelay
from shared.bus.topology import QueueSpec
from shared.config import read_environment
from shared.contracts.identity import UserUpdated
from shared.contracts.nominations import (
    BatchSubmitted,
    NominationResubmitted,
    NominationSubmitted,
    NominationWithdrawn,
    RoundOpened,
)
from shared.service import worker_main
from shared.worker import Component, PeriodicTask

REVIEWS_QUEUE = QueueSpec(
    "approvals.reviews",
    [
        RoundOpened.event_type,
        NominationSubmitted.event_type,
        NominationResubmitted.event_type,
        NominationWithdrawn.event_type,
        BatchSubmitted.event_type,
    ],
)
DIRECTORY_QUEUE = QueueSpec(
    "approvals.directory", ["identity.org.upserted", "identity.role.*", "identity.user.updated"]
)

REVIEW_HANDLERS: dict[str, Handler] = {
    RoundOpened.event_type: reviews.on_round_opened,
    NominationSubmitted.event_type: reviews.on_nomination_submitted,
    NominationResubmitted.event_type: reviews.on_nomination_resubmitted,
    NominationWithdrawn.event_type: reviews.on_nomination_withdrawn,
    # 报送: the county's batch reaches the city; the city's tasks of its forms may be decided
    BatchSubmitted.event_type: reviews.on_batch_submitted,
}
DIRECTORY_HANDLERS: dict[str, Handler] = {
    "identity.org.upserted": reviews.on_org_upserted,
    "identity.role.granted": reviews.on_role_granted,
    "identity.role.revoked": reviews.on_role_revoked,
    # a CIO the directory moves away from the school leaves the school a 变更报备 to make (贺兰县)
    UserUpdated.event_type: appointments.on_user_updated,
}


def consumers(service: Approvals) -> list[EventConsumer]:
    uow_factory: Callable[[], ApprovalsUnitOfWork] = service.uow
    return [
        EventConsumer(service.settings.bus, REVIEWS_QUEUE, REVIEW_HANDLERS, uow_factory),
        EventConsumer(service.settings.bus, DIRECTORY_QUEUE, DIRECTORY_HANDLERS, uow_factory),
    ]


def timers(service: Approvals) -> list[PeriodicTask]:
    def gauges() -> None:
        with service.session_factory() as session:
            metrics.refresh_gauges(session)

    environment = read_environment(ApprovalsEnvironment)
    return [
        PeriodicTask(
            "approvals-overdue",
            environment.overdue_interval,
            lambda: reviews.mark_overdue_tasks(service.uow),
        ),
        PeriodicTask(
            "approvals-term-end",
            environment.term_end_interval,
            lambda: appointments.end_due_terms(service.uow),
        ),
        PeriodicTask(
            "approvals-rectification-overdue",
            environment.rectification_interval,
            lambda: evaluations.flag_overdue_rectifications(service.uow),
        ),
        PeriodicTask("approvals-gauges", 15.0, gauges),
    ]


def components(service: Approvals) -> list[Component]:
    return [OutboxRelay(service.settings.bus, service.session_factory), *consumers(service), *timers(service)]


def main() -> None:
    worker_main(SPEC)


if __name__ == "__main__":
    main()
