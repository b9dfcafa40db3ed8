"""The one place that wires the governance service's adapters together, per process, when asked."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from governance.adapters.orm import disabled_accounts, start_mappers
from governance.config import GovernanceEnvironment
from governance.service_layer.unit_of_work import GovernanceUnitOfWork
from shared.auth import ActiveAccountsOnly, JwksKeys, TokenVerifier, directory_is_disabled
from shared.config import Settings, load_settings, read_environment
from shared.db import make_engine, make_session_factory

SERVICE = "governance"


@dataclass
class GovernanceService:
    """The wired service: engine, sessions and verifier of one process."""

    settings: Settings
    environment: GovernanceEnvironment
    given_verifier: TokenVerifier | None = None

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def session_factory(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    def uow(self) -> GovernanceUnitOfWork:
        return GovernanceUnitOfWork(self.session_factory, source=f"/cio/{SERVICE}")

    @cached_property
    def verifier(self) -> TokenVerifier:
        if self.given_verifier is not None:
            return self.given_verifier
        auth = self.settings.auth
        return ActiveAccountsOnly(
            auth,
            JwksKeys.from_url(auth.jwks_url, auth.jwks_cache_seconds),
            directory_is_disabled(self.session_factory, disabled_accounts),
        )


def bootstrap(settings: Settings | None = None, verifier: TokenVerifier | None = None) -> GovernanceService:
    start_mappers()
    return GovernanceService(
        settings=settings or load_settings(SERVICE),
        environment=read_environment(GovernanceEnvironment),
        given_verifier=verifier,
    )
