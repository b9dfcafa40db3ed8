"""What every service's bootstrap wires the same way: the engine and sessions built on first use, the unit of work,
and the token verifier that also refuses accounts the directory projection knows as disabled.

A service's `<name>/bootstrap.py` subclasses `WiredService`, names its unit of work, and adds only what is its own
(rules, catalogues, senders). Nothing is built at import time, so a test can bootstrap with its own settings and
verifier and nothing else changes (cosmicpython's bootstrap).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar, Self

from sqlalchemy import Engine, Table
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from shared import directory
from shared.auth import ActiveAccountsOnly, JwksKeys, TokenVerifier, directory_is_disabled
from shared.config import Settings, load_settings
from shared.db import make_engine, make_session_factory
from shared.notified_cache import NotifiedCache


@dataclass(kw_only=True)
class WiredService:
    """One process's wiring of a service: settings, engine, sessions, units of work, token verifier.

    Subclasses name the service and its unit of work (called with the session factory and the CloudEvent source)
    in their class statement: `class Approvals(WiredService, name="approvals", unit_of_work=ApprovalsUnitOfWork)`;
    `directory_users` is the table with `user_id` and `is_active` the verifier reads (the shared directory
    projection's); `given_verifier` is the one tests pass (tests.tokens.TestIssuer().verifier())."""

    name: ClassVar[str]
    unit_of_work: ClassVar[Callable[..., Any]]
    directory_users: ClassVar[Table] = directory.directory_users

    settings: Settings
    given_verifier: TokenVerifier | None = None

    def __init_subclass__(cls, *, name: str, unit_of_work: Callable[..., Any], **kwargs: Any) -> None:
        """Both required: a service declared without its name or its unit of work fails where it is declared, not
        at its first request."""
        super().__init_subclass__(**kwargs)
        cls.name = name
        cls.unit_of_work = unit_of_work

    @classmethod
    def wired(
        cls,
        settings: Settings | None = None,
        verifier: TokenVerifier | None = None,
        *,
        mappers: Callable[[], None] | None = None,
        **own: Any,
    ) -> Self:
        """The service of this process, as every `bootstrap()` builds it: `settings` read from the environment under
        the service's name unless a test gives its own, its domain classes mapped (`mappers`, the service's
        `start_mappers`, safe to call again), and `own` the fields the subclass adds."""
        if mappers is not None:
            mappers()
        return cls(settings=settings or load_settings(cls.name), given_verifier=verifier, **own)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def session_factory(self) -> sessionmaker[Session]:
        factory = make_session_factory(self.engine)
        directory.forget_users_after_commit(factory, self.active_accounts)
        return factory

    @cached_property
    def active_accounts(self) -> NotifiedCache[bool]:
        """Each user's `is_active` as the directory projection holds it, kept in the web process until shared_0003's
        trigger says it changed (or this process's own commit did): the check every authenticated request makes
        costs no round trip. It connects on its first read, so a worker, which checks no tokens, never listens."""
        url = make_url(self.settings.database_url).set(drivername="postgresql")
        return NotifiedCache(url.render_as_string(hide_password=False), directory.USERS_CHANNEL)

    @cached_property
    def is_disabled(self) -> Callable[[str], bool]:
        """Whether the directory knows this user as disabled (停用): the production verifier's check, also for tests
        that build that verifier over their own keys."""
        return directory_is_disabled(self.session_factory, self.directory_users, self.active_accounts)

    def uow(self) -> Any:
        return self.unit_of_work(self.session_factory, source=f"/cio/{self.name}")

    @cached_property
    def verifier(self) -> TokenVerifier:
        if self.given_verifier is not None:
            return self.given_verifier
        auth = self.settings.auth
        return ActiveAccountsOnly(
            auth,
            JwksKeys.from_url(auth.jwks_url, auth.jwks_cache_seconds),
            self.is_disabled,
        )
