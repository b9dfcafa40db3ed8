"""The identity unit of work: its repositories over one session (events of the aggregates they saw go to the outbox
on commit) and the audit trail."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

from sqlalchemy import select

from identity.adapters.orm import orgs, users
from identity.adapters.repository import OrgRepository, UserRepository
from identity.domain.model import Org, User
from shared.audit import AuditTrail
from shared.db import OverSession, SqlAlchemyUnitOfWork


class IdentityUnitOfWork(AuditTrail, SqlAlchemyUnitOfWork):
    orgs = OverSession(OrgRepository)
    users = OverSession(UserRepository)

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
