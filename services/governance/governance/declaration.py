"""governance, declared (shared.service runs it): project-plan review and the application registry."""

from __future__ import annotations

from governance.adapters.orm import metadata
from shared.service import Ports, ServiceSpec, Subscription

SPEC = ServiceSpec(
    name="governance",
    metadata=metadata,
    ports=Ports(web=8106, worker=9106),
    routes=("/api/platform-catalogue", "/api/project-plans", "/api/application-systems", "/api/audit/governance"),
    publishes=True,
    subscriptions=(
        Subscription("governance.directory", "governance.service_layer.subscriptions:DIRECTORY_HANDLERS"),
        Subscription("governance.reviews", "governance.service_layer.subscriptions:REVIEW_HANDLERS"),
    ),
    timers="governance.entrypoints.timers:timers",
)
