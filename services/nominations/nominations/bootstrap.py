"""The one place that wires the nominations service's adapters together, per process, when asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from nominations.adapters.orm import start_mappers, user_projection
from nominations.adapters.policies import PolicyCatalog
from nominations.service_layer.unit_of_work import NominationsUnitOfWork
from shared.auth import ActiveAccountsOnly, JwksKeys, TokenVerifier, directory_is_disabled
from shared.config import Settings, load_settings
from shared.db import make_engine, make_session_factory

SERVICE = "nominations"


@dataclass
class Nominations:
    """The wired service: settings, policies, engine, sessions and the token verifier of one process."""

    settings: Settings
    catalog: PolicyCatalog
    given_verifier: TokenVerifier | None = field(default=None)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def session_factory(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    def uow(self) -> NominationsUnitOfWork:
        return NominationsUnitOfWork(self.session_factory, source=f"/cio/{SERVICE}")

    @cached_property
    def verifier(self) -> TokenVerifier:
        if self.given_verifier is not None:
            return self.given_verifier
        auth = self.settings.auth
        return ActiveAccountsOnly(
            auth,
            JwksKeys.from_url(auth.jwks_url, auth.jwks_cache_seconds),
            directory_is_disabled(self.session_factory, user_projection),
        )


def bootstrap(settings: Settings | None = None, verifier: TokenVerifier | None = None) -> Nominations:
    """Policies are loaded (and validated) here, so a broken policy file stops the process at start-up."""
    start_mappers()
    return Nominations(
        settings=settings or load_settings(SERVICE), catalog=PolicyCatalog.load(), given_verifier=verifier
    )
