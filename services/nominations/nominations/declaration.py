"""nominations, declared (shared.service runs it): rounds, the 推荐表, 报送 batches and 名单公示."""

from __future__ import annotations

import argparse
from typing import Any

from nominations.adapters.orm import metadata
from shared.service import Command, Ports, ServiceSpec, Subscription


def _check_policies(service: Any, args: argparse.Namespace) -> None:
    from nominations.adapters.policies import PolicyCatalog

    for policy in PolicyCatalog.load().all():
        print(f"{policy.id} v{policy.version}: {len(policy.fields)} fields, {len(policy.stages)} stages")


SPEC = ServiceSpec(
    name="nominations",
    metadata=metadata,
    ports=Ports(web=8102, worker=9102),
    routes=("/api/policies", "/api/rounds", "/api/nominations", "/api/audit/nominations"),
    publishes=True,
    subscriptions=(
        Subscription("nominations.projections", "nominations.service_layer.projections:PROJECTION_HANDLERS"),
        Subscription("nominations.reviews", "nominations.service_layer.projections:REVIEW_HANDLERS"),
    ),
    timers="nominations.entrypoints.timers:timers",
    commands={
        "check-policies": Command("validate the policy files against the schema", _check_policies, wired=False),
    },
)
