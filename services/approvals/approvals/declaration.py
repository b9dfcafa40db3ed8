"""approvals, declared (shared.service runs it): review chains, appointments, evaluations and 整改."""

from __future__ import annotations

import argparse
from typing import Any

from approvals.adapters.orm import metadata
from shared.service import Command, Ports, ServiceSpec, Subscription


def _end_terms(service: Any, args: argparse.Namespace) -> None:
    from approvals.service_layer import appointments

    print(f"approvals: {appointments.end_due_terms(service.uow)} appointment(s) ended")


def _mark_overdue(service: Any, args: argparse.Namespace) -> None:
    from approvals.service_layer import reviews

    print(f"approvals: {reviews.mark_overdue_tasks(service.uow)} task(s) overdue")


SPEC = ServiceSpec(
    name="approvals",
    metadata=metadata,
    ports=Ports(web=8103, worker=9103),
    routes=(
        "/api/cases",
        "/api/tasks",
        "/api/appointments",
        "/api/evaluations",
        "/api/publications",
        "/api/public/publications",
        "/api/audit/approvals",
    ),
    publishes=True,
    subscriptions=(
        Subscription("approvals.reviews", "approvals.service_layer.subscriptions:REVIEW_HANDLERS"),
        Subscription(
            "approvals.directory",
            "approvals.service_layer.subscriptions:DIRECTORY_HANDLERS",
            bindings=("identity.org.upserted", "identity.role.*", "identity.user.updated"),
        ),
    ),
    timers="approvals.entrypoints.timers:timers",
    commands={
        "end-terms": Command("end appointments past their last day", _end_terms),
        "mark-overdue": Command("flag review tasks past their due date", _mark_overdue),
    },
)
