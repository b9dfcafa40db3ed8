"""The one place that wires the nominations service's adapters together, per process, when asked."""

from __future__ import annotations

from dataclasses import dataclass

from nominations.adapters.orm import start_mappers
from nominations.adapters.policies import PolicyCatalog
from nominations.service_layer.unit_of_work import NominationsUnitOfWork
from shared.auth import TokenVerifier
from shared.bootstrap import WiredService
from shared.config import Settings


@dataclass(kw_only=True)
class Nominations(WiredService, name="nominations", unit_of_work=NominationsUnitOfWork):
    """The wired service: settings, policies, engine, sessions and the token verifier of one process."""

    catalog: PolicyCatalog


def bootstrap(settings: Settings | None = None, verifier: TokenVerifier | None = None) -> Nominations:
    """Policies are loaded (and validated) here, so a broken policy file stops the process at start-up."""
    return Nominations.wired(settings, verifier, mappers=start_mappers, catalog=PolicyCatalog.load())
