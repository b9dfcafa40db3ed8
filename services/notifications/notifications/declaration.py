"""notifications, declared (shared.service runs it): rules, inbox, e-mail, robots, SMS, reminders, digests."""

from __future__ import annotations

import argparse
from typing import Any

from notifications.adapters.orm import metadata
from shared.service import Command, Ports, ServiceSpec, Subscription


def _check_rules(service: Any, args: argparse.Namespace) -> None:
    rulebook = service.rulebook
    print(f"notifications: {len(rulebook.rules)} rules, {len(rulebook.kinds)} kinds, templates ok")


SPEC = ServiceSpec(
    name="notifications",
    metadata=metadata,
    ports=Ports(web=8105, worker=9105),
    routes=("/api/inbox", "/api/preferences", "/api/deliveries", "/api/audit/notifications"),
    # it consumes every service's events and publishes none: no outbox relay
    publishes=False,
    # One queue: identity projection, fan-out and reminders share it, so a grant published before an event is
    # applied before it; the event types are the rule book's (bootstrap.Notifications.consumer).
    subscriptions=(Subscription("notifications.fanout", lambda service: service.notifier.handlers()),),
    timers="notifications.entrypoints.timers:timers",
    commands={"check-rules": Command("load and validate the rules and templates", _check_rules)},
)
