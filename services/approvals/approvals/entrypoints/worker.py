"""The approvals worker: consumes nominations', governance's and identity's events, relays the outbox, runs timers."""

from __future__ import annotations

from collections.abc import Callable

from approvals.adapters import metrics
from approvals.bootstrap import Approvals
from approvals.config import ApprovalsEnvironment
from approvals.declaration import SPEC
from approvals.service_layer import appointments, evaluations, reviews
from approvals.service_layer.unit_of_work import ApprovalsUnitOfWork
from shared.bus.consumer import EventConsumer
from shared.bus.relay import OutboxRelay
from shared.bus.topology import QueueSpec
from shared.config import read_environment
from shared.service import worker_main
from shared.worker import Component, PeriodicTask

REVIEWS_QUEUE = QueueSpec(
    "approvals.reviews",
    [
        "nominations.round.opened",
        "nominations.nomination.submitted",
        "nominations.nomination.resubmitted",
        "nominations.nomination.withdrawn",
        "nominations.batch.submitted",
        "governance.plan.submitted",
        "governance.plan.resubmitted",
    ],
)
DIRECTORY_QUEUE = QueueSpec(
    "approvals.directory", ["identity.org.upserted", "identity.role.*", "identity.user.updated"]
)

REVIEW_HANDLERS = {
    "nominations.round.opened": reviews.on_round_opened,
    "nominations.nomination.submitted": reviews.on_nomination_submitted,
    "nominations.nomination.resubmitted": reviews.on_nomination_resubmitted,
    "nominations.nomination.withdrawn": reviews.on_nomination_withdrawn,
    # 报送: the county's batch reaches the city; the city's tasks of its forms may be decided
    "nominations.batch.submitted": reviews.on_batch_submitted,
    # 信息化项目建设方案审核: a unit's plan, reviewed on the chain of case_policies/project_plan.yaml
    "governance.plan.submitted": reviews.on_plan_submitted,
    "governance.plan.resubmitted": reviews.on_plan_resubmitted,
}
DIRECTORY_HANDLERS = {
    "identity.org.upserted": reviews.on_org_upserted,
    "identity.role.granted": reviews.on_role_granted,
    "identity.role.revoked": reviews.on_role_revoked,
    # a CIO the directory moves away from the school leaves the school a 变更报备 to make (贺兰县)
    "identity.user.updated": appointments.on_user_updated,
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
