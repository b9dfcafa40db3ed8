"""The one place that wires the approvals service's adapters together, per process, when asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from approvals.adapters.orm import start_mappers
from approvals.service_layer.unit_of_work import ApprovalsUnitOfWork
from shared.auth import ActiveAccountsOnly, JwksKeys, TokenVerifier, directory_is_disabled
from shared.config import Settings, load_settings
from shared.db import make_engine, make_session_factory
from shared.directory import directory_users

SERVICE = "approvals"


@dataclass
class Approvals:
    """The wired service: engine, sessions and token verifier of one process."""

    settings: Settings
    given_verifier: TokenVerifier | None = field(default=None)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def session_factory(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    def uow(self) -> ApprovalsUnitOfWork:
        return ApprovalsUnitOfWork(self.session_factory, source=f"/cio/{SERVICE}")

    @cached_property
    def verifier(self) -> TokenVerifier:
        if self.given_verifier is not None:
            return self.given_verifier
        return ActiveAccountsOnly(
            self.settings.auth,
            JwksKeys.from_url(self.settings.auth.jwks_url),
            directory_is_disabled(self.session_factory, directory_users),
        )


def bootstrap(settings: Settings | None = None, verifier: TokenVerifier | None = None) -> Approvals:
    settings = settings or load_settings(SERVICE)
    start_mappers()
    return Approvals(settings=settings, given_verifier=verifier)
