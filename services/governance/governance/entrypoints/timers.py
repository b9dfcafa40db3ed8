"""The governance worker's timers: the registry's gauges (connected share per district, overdue systems)."""

from __future__ import annotations

from governance.adapters import metrics
from governance.bootstrap import GovernanceService
from shared.worker import PeriodicTask


def timers(service: GovernanceService) -> list[PeriodicTask]:
    def gauges() -> None:
        with service.session_factory() as session:
            metrics.refresh_gauges(session)

    return [PeriodicTask("governance-gauges", service.environment.gauges_seconds, gauges)]
