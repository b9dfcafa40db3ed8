"""The identity repositories: each takes the unit of work's session and keeps what it loaded or added as `seen`,
so the unit of work writes those aggregates' events to the outbox on commit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from identity.adapters.orm import orgs, users
from identity.domain.model import Org, User
from shared.db import SqlRepository, where_given
from shared.scope import within_any


class OrgRepository(SqlRepository[Org]):
    def get(self, code: str) -> Org | None:
        return self._one(select(Org).where(orgs.c.code == code))

    def by_codes(self, codes: Sequence[str]) -> dict[str, Org]:
        """The orgs with these codes, to read (a listing, names for a grant)."""
        if not codes:
            return {}
        return {o.code: o for o in self._read(select(Org).where(orgs.c.code.in_(codes)))}

    def by_codes_to_change(self, codes: Sequence[str]) -> dict[str, Org]:
        """The orgs with these codes, seen: a rename's `OrgUpserted` goes to the outbox with the commit (every
        service's directory projection learns the new name) and the process's org cache forgets the code."""
        if not codes:
            return {}
        return {o.code: o for o in self._all(select(Org).where(orgs.c.code.in_(codes)))}

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
        query = where_given(query, (orgs.c.level, level), (orgs.c.parent_code, parent_code))
        if after:
            query = query.where(orgs.c.path > after)
        return self._read(query.limit(limit))


class UserRepository(SqlRepository[User]):
    def get(self, user_id: uuid.UUID) -> User | None:
        return self._get(User, user_id)

    def by_username(self, username: str) -> User | None:
        return self._one(select(User).where(users.c.username == username.lower()))

    def by_usernames(self, usernames: Sequence[str]) -> dict[str, User]:
        """Many users in one query (imports), tracked like single loads."""
        found: dict[str, User] = {}
        for start in range(0, len(usernames), 1000):
            chunk = [u.lower() for u in usernames[start : start + 1000]]
            for user in self.session.execute(select(User).where(users.c.username.in_(chunk))).scalars():
                self._saw(user)
                found[user.username] = user
        return found

    def list_in_orgs(self, org_codes_query: Any, *, after: str | None, limit: int, q: str | None) -> list[User]:
        query = select(User).where(users.c.org_code.in_(org_codes_query)).order_by(users.c.username)
        if after:
            query = query.where(users.c.username > after)
        if q:
            like = f"%{q.lower()}%"
            query = query.where(users.c.username.like(like) | users.c.display_name.like(f"%{q}%"))
        return self._read(query.limit(limit))
