"""governance, declared (shared.service runs it): project-plan review and the application registry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from governance.adapters.orm import metadata
from shared.bus.topology import QueueSpec
from shared.service import ServiceSpec


def _queues(service: Any) -> Sequence[QueueSpec]:
    from governance.entrypoints.worker import DIRECTORY_QUEUE, REVIEWS_QUEUE

    return [DIRECTORY_QUEUE, REVIEWS_QUEUE]


SPEC = ServiceSpec(
    name="governance",
    metadata=metadata,
    bootstrap="governance.bootstrap:bootstrap",
    blueprints="governance.entrypoints.web.resources:BLUEPRINTS",
    worker="governance.entrypoints.worker:components",
    queues=_queues,
)
