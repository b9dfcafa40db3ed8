"""nominations, declared (shared.service runs it): rounds, the 推荐表, 报送 batches and 名单公示."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from nominations.adapters.orm import metadata
from shared.bus.topology import QueueSpec
from shared.service import Command, ServiceSpec


def _queues(service: Any) -> Sequence[QueueSpec]:
    from nominations.entrypoints.worker import PROJECTIONS_QUEUE, REVIEWS_QUEUE

    return [PROJECTIONS_QUEUE, REVIEWS_QUEUE]


def _check_policies(service: Any, args: argparse.Namespace) -> None:
    from nominations.adapters.policies import PolicyCatalog

    for policy in PolicyCatalog.load().all():
        print(f"{policy.id} v{policy.version}: {len(policy.fields)} fields, {len(policy.stages)} stages")


SPEC = ServiceSpec(
    name="nominations",
    metadata=metadata,
    bootstrap="nominations.bootstrap:bootstrap",
    blueprints="nominations.entrypoints.web.resources:BLUEPRINTS",
    worker="nominations.entrypoints.worker:components",
    queues=_queues,
    commands={
        "check-policies": Command("validate the policy files against the schema", _check_policies, wired=False),
    },
)
