"""The approvals worker's timers: overdue review tasks, appointments past their term, overdue 整改, gauges."""

from __future__ import annotations

from approvals.adapters import metrics
from approvals.bootstrap import Approvals
from approvals.config import ApprovalsEnvironment
from approvals.service_layer import appointments, evaluations, reviews
from shared.config import read_environment
from shared.worker import PeriodicTask


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
