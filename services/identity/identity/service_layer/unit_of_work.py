"""The identity unit of work: repositories over one session; events of touched aggregates go to the outbox."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from identity.adapters.orm import audit_log, orgs, users
from identity.domain.model import Org, User
from shared.db import SqlAlchemyUnitOfWork
from shared.logging import get_request_id
from shared.scope import within_any


class OrgRepository:
    def __init__(self, uow: IdentityUnitOfWork) -> None:
        self.uow = uow

    def add(self, org: Org) -> None:
        self.uow.session.add(org)
        self.uow.track(org)

    def get(self, code: str) -> Org | None:
        org = self.uow.session.execute(select(Org).where(orgs.c.code == code)).scalar_one_or_none()
        if org is not None:
            self.uow.track(org)
        return org

    def by_codes(self, codes: Sequence[str]) -> dict[str, Org]:
        if not codes:
            return {}
        found = self.uow.session.execute(select(Org).where(orgs.c.code.in_(codes))).scalars()
        return {o.code: o for o in found}

    def list_within(
        self,
        paths: Sequence[str],
        *,
        level: str | None,
        parent_code: str | None,
        after: str | None,
        limit: int,
    ) -> list[Org]:
        query = select(Org).where(within_any(orgs.c.path, paths)).order_by(orgs.c.path)
        if level:
            query = query.where(orgs.c.level == level)
        if parent_code:
            query = query.where(orgs.c.parent_code == parent_code)
        if after:
            query = query.where(orgs.c.path > after)
        return list(self.uow.session.execute(query.limit(limit)).scalars())


class UserRepository:
    def __init__(self, uow: IdentityUnitOfWork) -> None:
        self.uow = uow

    def add(self, user: User) -> None:
        self.uow.session.add(user)
        self.uow.track(user)

    def get(self, user_id: uuid.UUID) -> User | None:
        user = self.uow.session.get(User, user_id)
        if user is not None:
            self.uow.track(user)
        return user

    def by_username(self, username: str) -> User | None:
        user = self.uow.session.execute(select(User).where(users.c.username == username.lower())).scalar_one_or_none()
        if user is not None:
            self.uow.track(user)
        return user

    def by_usernames(self, usernames: Sequence[str]) -> dict[str, User]:
        """Many users in one query (imports), tracked like single loads."""
        found: dict[str, User] = {}
        for start in range(0, len(usernames), 1000):
            chunk = [u.lower() for u in usernames[start : start + 1000]]
            for user in self.uow.session.execute(select(User).where(users.c.username.in_(chunk))).scalars():
                self.uow.track(user)
                found[user.username] = user
        return found

    def list_in_orgs(self, org_codes_query: Any, *, after: str | None, limit: int, q: str | None) -> list[User]:
        query = select(User).where(users.c.org_code.in_(org_codes_query)).order_by(users.c.username)
        if after:
            query = query.where(users.c.username > after)
        if q:
            like = f"%{q.lower()}%"
            query = query.where(users.c.username.like(like) | users.c.display_name.like(f"%{q}%"))
        return list(self.uow.session.execute(query.limit(limit)).scalars())


class IdentityUnitOfWork(SqlAlchemyUnitOfWork):
    orgs: OrgRepository
    users: UserRepository

    def on_enter(self) -> None:
        self.orgs = OrgRepository(self)
        self.users = UserRepository(self)

    def audit(
        self,
        action: str,
        *,
        actor: str | None,
        target: str | None = None,
        outcome: str = "ok",
        details: dict[str, Any] | None = None,
        ip: str | None = None,
    ) -> None:
        """Append to the audit trail in this transaction (so a rolled-back decision leaves no record)."""
        self.session.execute(
            audit_log.insert().values(
                at=dt.datetime.now(dt.UTC),
                actor=actor,
                action=action,
                target=target,
                outcome=outcome,
                details=details,
                request_id=get_request_id(),
                ip=ip,
                org_path=self._audit_scope(action, actor, target, details),
            )
        )

    def _audit_scope(
        self, action: str, actor: str | None, target: str | None, details: dict[str, Any] | None
    ) -> str | None:
        """The org a record is about, for the audit listing's scope: a grant's or a new org's path when the details
        name one, else the home org of the user the record targets (a sign-in: the user signing in). None (shown
        to platform-wide auditors only) for a sign-in under an unknown name or an operator's command."""
        for key in ("org_path", "path"):
            if details and isinstance(details.get(key), str):
                return str(details[key])
        user: User | None = None
        with self.session.no_autoflush:  # see shared.db.pending_scope
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
