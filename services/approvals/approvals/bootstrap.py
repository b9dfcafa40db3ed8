"""The one place that wires the approvals service's adapters together, per process, when asked."""

from __future__ import annotations

from approvals.adapters.orm import start_mappers
from approvals.service_layer.unit_of_work import ApprovalsUnitOfWork
from shared.auth import TokenVerifier
from shared.bootstrap import WiredService
from shared.config import Settings, load_settings

SERVICE = "approvals"


class Approvals(WiredService):
    """The wired service: engine, sessions and token verifier of one process."""

    name = SERVICE
    unit_of_work = ApprovalsUnitOfWork


def bootstrap(settings: Settings | None = None, verifier: TokenVerifier | None = None) -> Approvals:
    settings = settings or load_settings(SERVICE)
    start_mappers()
    return Approvals(settings=settings, given_verifier=verifier)
