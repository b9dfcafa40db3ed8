"""notifications, declared (shared.service runs it): rules, inbox, e-mail, robots, SMS, reminders, digests."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from notifications.adapters.orm import metadata
from shared.bus.topology import QueueSpec
from shared.service import Command, ServiceSpec


def _queues(service: Any) -> Sequence[QueueSpec]:
    return [service.consumer().spec]


def _check_rules(service: Any, args: argparse.Namespace) -> None:
    rulebook = service.rulebook
    print(f"notifications: {len(rulebook.rules)} rules, {len(rulebook.kinds)} kinds, templates ok")


SPEC = ServiceSpec(
    name="notifications",
    metadata=metadata,
    bootstrap="notifications.bootstrap:bootstrap",
    blueprints="notifications.entrypoints.web.resources:BLUEPRINTS",
    worker="notifications.entrypoints.worker:components",
    queues=_queues,
    commands={"check-rules": Command("load and validate the rules and templates", _check_rules)},
)
