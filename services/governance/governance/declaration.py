"""governance, declared (shared.service runs it): project-plan review, the application registry, 月调度, network
security work, Yichun's committee and liaisons."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Sequence
from typing import Any

from governance.adapters.orm import metadata
from shared.bus.topology import QueueSpec
from shared.service import Command, ServiceSpec


def _queues(service: Any) -> Sequence[QueueSpec]:
    from governance.entrypoints.worker import DIRECTORY_QUEUE, GRANTS_QUEUE, REVIEWS_QUEUE

    return [DIRECTORY_QUEUE, REVIEWS_QUEUE, GRANTS_QUEUE]


def _check(service: Any, args: argparse.Namespace) -> int:
    from governance.entrypoints.worker import checks

    reminded, flagged = checks(service, args.today)
    print(f"governance: {reminded} report reminders, {flagged} committee semesters flagged")
    return 0


SPEC = ServiceSpec(
    name="governance",
    metadata=metadata,
    bootstrap="governance.bootstrap:bootstrap",
    blueprints="governance.entrypoints.web.resources:BLUEPRINTS",
    worker="governance.entrypoints.worker:components",
    queues=_queues,
    commands={
        "check": Command(
            "remind districts missing their monthly report; flag semesters without a committee meeting (once each)",
            _check,
            lambda parser: parser.add_argument("--today", type=dt.date.fromisoformat, default=None),
        ),
    },
)
