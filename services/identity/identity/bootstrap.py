"""The one place that wires the identity service's adapters together, per process, when asked."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy.engine import make_url

from identity.adapters.keys import KeyRing
from identity.adapters.orm import start_mappers
from identity.adapters.sso_config import ProviderConfig, load_providers
from identity.adapters.verifier import ActiveAccountVerifier
from identity.config import IdentityEnvironment
from identity.domain.model import Org
from identity.service_layer.sso import Sso
from identity.service_layer.tokens import TokenPolicy
from identity.service_layer.unit_of_work import IdentityUnitOfWork
from shared.auth import JwksKeys, TokenVerifier
from shared.bootstrap import WiredService
from shared.config import Environment, Settings, load_settings, read_environment, require_secret
from shared.notified_cache import NotifiedCache
from shared.proxies import TrustedProxies

ORGS_CHANNEL = "identity_orgs"  # what migration 0010's trigger notifies with a changed org's code
USERS_CHANNEL = "identity_users"  # what migration 0011's trigger notifies with the id of a user whose is_active changed


@dataclass(kw_only=True)
class Identity(WiredService, name="identity", unit_of_work=IdentityUnitOfWork):
    """The wired service: engine, sessions, keys, token policy and verifier of one process."""

    signing_secret: str
    policy: TokenPolicy
    sso_providers: dict[str, ProviderConfig]
    sso_session_ttl: dt.timedelta = dt.timedelta(hours=8)
    trusted_proxies: TrustedProxies = field(default_factory=TrustedProxies.from_env)

    @cached_property
    def keyring(self) -> KeyRing:
        return KeyRing(
            self.session_factory,
            self.signing_secret,
            retired_visible_for=self.policy.access_ttl + dt.timedelta(seconds=self.settings.auth.leeway_seconds + 60),
        )

    @cached_property
    def sso(self) -> Sso:
        return Sso(
            self.sso_providers,
            self.keyring,
            self.policy,
            public_base_url=read_environment(Environment).public_base_url,
            session_ttl=self.sso_session_ttl,
        )

    @cached_property
    def org_cache(self) -> NotifiedCache[Org]:
        """The orgs GET /api/orgs/{code} read, kept until the `identity_orgs` trigger says one changed."""
        return NotifiedCache(self._libpq_url, ORGS_CHANNEL)

    @cached_property
    def users_active(self) -> NotifiedCache[bool]:
        """Each account's `users.is_active` the token check reads, kept until the `identity_users` trigger says it
        changed (identity's own table, not the directory projection the other services' check reads)."""
        return NotifiedCache(self._libpq_url, USERS_CHANNEL)

    @property
    def _libpq_url(self) -> str:
        """The database as libpq takes it: a cache's LISTEN connection is its own, outside SQLAlchemy's pool."""
        return make_url(self.settings.database_url).set(drivername="postgresql").render_as_string(hide_password=False)

    def uow(self) -> IdentityUnitOfWork:
        return IdentityUnitOfWork(
            self.session_factory,
            source=f"/cio/{self.name}",
            org_cache=self.org_cache,
            users_active=self.users_active,
        )

    @cached_property
    def verifier(self) -> TokenVerifier:
        # Identity verifies with its own key ring (no HTTP call to itself) and refuses disabled accounts.
        return ActiveAccountVerifier(
            self.settings.auth, JwksKeys(self.keyring.jwks, cache_seconds=10), self.session_factory, self.users_active
        )


def bootstrap(settings: Settings | None = None) -> Identity:
    settings = settings or load_settings(Identity.name)
    environment = read_environment(IdentityEnvironment)
    return Identity.wired(
        settings,
        mappers=start_mappers,
        signing_secret=require_secret("SIGNING_KEY_SECRET", dev_default="development-only-signing-key-secret"),
        policy=TokenPolicy(
            issuer=settings.auth.issuer,
            audience=settings.auth.audience,
            access_ttl=dt.timedelta(seconds=environment.access_token_ttl_seconds),
            refresh_ttl=dt.timedelta(days=environment.refresh_token_ttl_days),
            max_failures=environment.login_max_failures,
            lock_for=dt.timedelta(seconds=environment.login_lock_seconds),
        ),
        # Read (and validated) at start-up: a broken providers file stops the process, naming the problem.
        sso_providers=load_providers(environment.sso_providers_file),
        sso_session_ttl=dt.timedelta(hours=environment.sso_session_hours),
    )
