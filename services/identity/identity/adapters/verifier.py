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
from shared.principal import Principal


class ActiveAccountVerifier(TokenVerifier):
    """Identity knows at once who was disabled, so here a disabled user's still-valid access token is refused
    (one primary-key read per request); service clients are checked by their signature alone."""

    def __init__(self, settings: AuthSettings, keys: JwksKeys, session_factory: sessionmaker[Session]) -> None:
        super().__init__(settings, keys)
        self.session_factory = session_factory

    def verify(self, token: str) -> Principal:
        principal = super().verify(token)
        if principal.client_id is not None:
            return principal
        try:
            user_id = uuid.UUID(principal.subject)
        except ValueError as exc:
            raise Unauthorized("The access token names no account.") from exc
        with self.session_factory() as session:
            read_outside_transaction(session)  # one round trip on every request: no BEGIN, no ROLLBACK
            active = session.execute(select(users.c.is_active).where(users.c.id == user_id)).scalar_one_or_none()
        if not active:
            raise Unauthorized("The account is disabled.", headers={"WWW-Authenticate": "Bearer"})
        return principal
