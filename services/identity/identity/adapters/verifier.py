"""Identity's own token check: the signature and claims as everywhere, and the account still active."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from identity.adapters.orm import users
from shared.auth import JwksKeys, TokenVerifier
from shared.config import AuthSettings
from shared.db import read_outside_transaction
from shared.errors import Unauthorized
from shared.notified_cache import NotifiedCache
from shared.principal import Principal


class ActiveAccountVerifier(TokenVerifier):
    """Identity knows at once who was disabled, so here a disabled user's still-valid access token is refused; service
    clients are checked by their signature alone.

    `active` (the web's) keeps each account's `is_active` in memory until migration 0011's trigger announces a change
    to it or this process's unit of work forgets what it committed, so the check every request makes costs no round
    trip; without it (or while it cannot listen) each request reads the flag by primary key. It is keyed by the id as
    PostgreSQL prints a UUID, the spelling the trigger announces, whatever spelling the token's `sub` used."""

    def __init__(
        self,
        settings: AuthSettings,
        keys: JwksKeys,
        session_factory: sessionmaker[Session],
        active: NotifiedCache[bool] | None = None,
    ) -> None:
        super().__init__(settings, keys)
        self.session_factory = session_factory
        self.active = active

    def verify(self, token: str) -> Principal:
        principal = super().verify(token)
        if principal.client_id is not None:
            return principal
        try:
            user_id = uuid.UUID(principal.subject)
        except ValueError as exc:
            raise Unauthorized("The access token names no account.") from exc

        def load() -> bool | None:
            with self.session_factory() as session:
                read_outside_transaction(session)  # one round trip: no BEGIN, no ROLLBACK
                active = session.execute(select(users.c.is_active).where(users.c.id == user_id)).scalar_one_or_none()
            return None if active is None else bool(active)

        active = load() if self.active is None else self.active.get(str(user_id), load)
        if not active:
            raise Unauthorized("The account is disabled.", headers={"WWW-Authenticate": "Bearer"})
        return principal
