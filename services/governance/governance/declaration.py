"""governance, declared (shared.service runs it): project-plan review, the application registry, 月调度, network
security work, Yichun's committee and liaisons."""

from __future__ import annotations

import argparse
from typing import Any

from governance.adapters.orm import metadata
from shared.service import Command, Ports, ServiceSpec, Subscription, today_argument


def _check(service: Any, args: argparse.Namespace) -> int:
    from governance.entrypoints.timers import checks

    reminded, flagged = checks(service, args.today)
    print(f"governance: {reminded} report reminders, {flagged} committee semesters flagged")
    return 0


SPEC = ServiceSpec(
    name="governance",
    metadata=metadata,
    ports=Ports(web=8106, worker=9106),
    routes=(
        "/api/platform-catalogue",
        "/api/project-plans",
        "/api/application-systems",
        "/api/progress-reports",
        "/api/scheduling-meetings",
        "/api/security-checks",
        "/api/emergency-plans",
        "/api/committees",
        "/api/audit/governance",
    ),
    publishes=True,
    subscriptions=(
        Subscription("governance.directory", "governance.service_layer.subscriptions:DIRECTORY_HANDLERS"),
        Subscription("governance.reviews", "governance.service_layer.subscriptions:REVIEW_HANDLERS"),
        Subscription("governance.grants", "governance.service_layer.subscriptions:GRANT_HANDLERS"),
    ),
    timers="governance.entrypoints.timers:timers",
    commands={
        "check": Command(
            "remind districts missing their monthly report; flag semesters without a committee meeting (once each)",
            _check,
            today_argument,
        ),
    },
)
