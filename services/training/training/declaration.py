"""training, declared (shared.service runs it): trainings, attendance, certificates, imports, compliance."""

from __future__ import annotations

import argparse
from typing import Any

from shared.service import Command, HandlerMap, Ports, ServiceSpec, Subscription, today_argument
from training.adapters.orm import metadata


def _directory_handlers(service: Any) -> HandlerMap:
    from training.service_layer.projections import directory_handlers

    return directory_handlers()


def _appointment_handlers(service: Any) -> HandlerMap:
    from training.service_layer.projections import appointment_handlers

    return appointment_handlers(service.rules.default_centralized_per_year)


def _check_requirement(service: Any, args: argparse.Namespace) -> None:
    from training.entrypoints.timers import requirement_check

    print(f"training: {requirement_check(service, args.today)} requirement.unmet event(s) published")


SPEC = ServiceSpec(
    name="training",
    metadata=metadata,
    ports=Ports(web=8104, worker=9104),
    routes=("/api/trainings", "/api/certificates", "/api/training-compliance", "/api/audit/training"),
    publishes=True,
    subscriptions=(
        Subscription("training.directory", _directory_handlers),
        Subscription("training.appointments", _appointment_handlers),
    ),
    timers="training.entrypoints.timers:timers",
    commands={
        "check-requirement": Command(
            "publish training.requirement.unmet for this year, once",
            _check_requirement,
            today_argument,
        ),
    },
)
