"""The identity unit of work: its repositories over one session (events of the aggregates they saw go to the outbox
on commit) and the audit trail."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from identity.adapters.orm import orgs, users
from identity.adapters.repository import OrgRepository, UserRepository
from identity.domain.events import OrgUpserted, UserProvisioned, UserUpdated
from identity.domain.model import Org, User
from shared.audit import AuditTrail
from shared.db import OverSession, SqlAlchemyUnitOfWork, read_outside_transaction
from shared.notified_cache import NotifiedCache


class IdentityUnitOfWork(AuditTrail, SqlAlchemyUnitOfWork):
    """`org_cache`: the process's orgs kept in memory (the web's; None elsewhere: every read asks the database);
    `users_active`: the accounts' active flags the token check keeps (the web's), forgotten here after a commit."""

    orgs = OverSession(OrgRepository)
    users = OverSession(UserRepository)

    def __init__(
        self,
        session_factory: Callable[[], Session],
        source: str,
        org_cache: NotifiedCache[Org] | None = None,
        users_active: NotifiedCache[bool] | None = None,
    ) -> None:
        super().__init__(session_factory, source)
        self.org_cache = org_cache
        self.users_active = users_active

    def org_to_read(self, code: str) -> Org | None:
        """The org with this code, to read and not to change: from the process's cache while it is current (a
        detached copy other requests share), else one SELECT outside a transaction (no BEGIN, no ROLLBACK).
        Call it before the unit of work's first statement."""

        def load() -> Org | None:
            read_outside_transaction(self.session)
            return self.orgs.get(code)

        return load() if self.org_cache is None else self.org_cache.get(code, load)

    def _commit(self, events: list[Any]) -> None:
        super()._commit(events)
        # Seen at once by this process (停用 refused on its very next request); the others drop it when the
        # trigger's notification reaches them. Every change to a user's is_active raises UserUpdated.
        for event in events:
            if isinstance(event, OrgUpserted) and self.org_cache is not None:
                self.org_cache.forget(event.code)
            elif isinstance(event, UserProvisioned | UserUpdated) and self.users_active is not None:
                self.users_active.forget(str(uuid.UUID(event.user["user_id"])))

    def audit_scope(
        self, action: str, actor: str | None, target: str | None, details: dict[str, Any] | None
    ) -> str | None:
        """The org a record is about, for the audit listing's scope: a grant's or a new org's path when the details
        name one, else the home org of the user the record targets (a sign-in: the user signing in). None (shown
        to platform-wide auditors only) for a sign-in under an unknown name or an operator's command."""
        for key in ("org_path", "path"):
            if details and isinstance(details.get(key), str):
                return str(details[key])
        user: User | None = None
        with self.session.no_autoflush:  # see shared.db.record_scope
            if target:
                with contextlib.suppress(ValueError):
                    user_id = uuid.UUID(target)
                    user = next((o for o in self.session.new if isinstance(o, User) and o.id == user_id), None)
                    user = user or self.session.get(User, user_id)
            if user is None and action == "login" and actor:
                user = self.session.execute(select(User).where(users.c.username == actor)).scalar_one_or_none()
            if user is None or user.org_code is None:
                return None
            org = next((o for o in self.session.new if isinstance(o, Org) and o.code == user.org_code), None)
            if org is not None:
                return org.path
            return self.session.execute(select(orgs.c.path).where(orgs.c.code == user.org_code)).scalar_one_or_none()
