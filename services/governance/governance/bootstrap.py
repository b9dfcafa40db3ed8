"""The one place that wires the governance service's adapters together, per process, when asked."""

from __future__ import annotations

from dataclasses import dataclass

from governance.adapters.orm import start_mappers
from governance.config import GovernanceEnvironment
from governance.service_layer.unit_of_work import GovernanceUnitOfWork
from shared.auth import TokenVerifier
from shared.bootstrap import WiredService
from shared.config import Settings, read_environment


@dataclass(kw_only=True)
class GovernanceService(WiredService, name="governance", unit_of_work=GovernanceUnitOfWork):
    """The wired service: engine, sessions, verifier and the service's own settings of one process."""

    environment: GovernanceEnvironment


def bootstrap(settings: Settings | None = None, verifier: TokenVerifier | None = None) -> GovernanceService:
    return GovernanceService.wired(
        settings, verifier, mappers=start_mappers, environment=read_environment(GovernanceEnvironment)
    )
