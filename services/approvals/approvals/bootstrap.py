"""The one place that wires the approvals service's adapters together, per process, when asked."""

from __future__ import annotations

from approvals.adapters.orm import start_mappers
from approvals.service_layer.unit_of_work import ApprovalsUnitOfWork
from shared.auth import TokenVerifier
from shared.bootstrap import WiredService
from shared.config import Settings


class Approvals(WiredService, name="approvals", unit_of_work=ApprovalsUnitOfWork):
    """The wired service: engine, sessions and token verifier of one process."""


def bootstrap(settings: Settings | None = None, verifier: TokenVerifier | None = None) -> Approvals:
    return Approvals.wired(settings, verifier, mappers=start_mappers)
