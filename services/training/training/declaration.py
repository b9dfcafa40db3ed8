"""training, declared (shared.service runs it): trainings, attendance, certificates, imports, compliance."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Sequence
from typing import Any

from shared.bus.topology import QueueSpec
from shared.service import Command, ServiceSpec
from training.adapters.orm import metadata


def _queues(service: Any) -> Sequence[QueueSpec]:
    from training.entrypoints.worker import APPOINTMENTS_QUEUE, DIRECTORY_QUEUE

    return [DIRECTORY_QUEUE, APPOINTMENTS_QUEUE]


def _check_requirement(service: Any, args: argparse.Namespace) -> None:
    from training.entrypoints.worker import requirement_check

    print(f"training: {requirement_check(service, args.today)} requirement.unmet event(s) published")


SPEC = ServiceSpec(
    name="training",
    metadata=metadata,
    bootstrap="training.bootstrap:bootstrap",
    blueprints="training.entrypoints.web.resources:BLUEPRINTS",
    worker="training.entrypoints.worker:components",
    queues=_queues,
    commands={
        "check-requirement": Command(
            "publish training.requirement.unmet for this year, once",
            _check_requirement,
            lambda parser: parser.add_argument("--today", type=dt.date.fromisoformat, default=None),
        ),
    },
)
