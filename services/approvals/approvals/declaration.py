"""approvals, declared (shared.service runs it): review chains, appointments, evaluations and 整改."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from approvals.adapters.orm import metadata
from shared.bus.topology import QueueSpec
from shared.service import Command, ServiceSpec


def _queues(service: Any) -> Sequence[QueueSpec]:
    from approvals.entrypoints.worker import DIRECTORY_QUEUE, REVIEWS_QUEUE

    return [REVIEWS_QUEUE, DIRECTORY_QUEUE]


def _end_terms(service: Any, args: argparse.Namespace) -> None:
    from approvals.service_layer import appointments

    print(f"approvals: {appointments.end_due_terms(service.uow)} appointment(s) ended")


def _mark_overdue(service: Any, args: argparse.Namespace) -> None:
    from approvals.service_layer import reviews

    print(f"approvals: {reviews.mark_overdue_tasks(service.uow)} task(s) overdue")


SPEC = ServiceSpec(
    name="approvals",
    metadata=metadata,
    bootstrap="approvals.bootstrap:bootstrap",
    blueprints="approvals.entrypoints.web.resources:BLUEPRINTS",
    worker="approvals.entrypoints.worker:components",
    queues=_queues,
    commands={
        "end-terms": Command("end appointments past their last day", _end_terms),
        "mark-overdue": Command("flag review tasks past their due date", _mark_overdue),
    },
)
