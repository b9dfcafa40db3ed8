"""Identity's fake unit of work: organisations by code, users by id (and by username)."""

from __future__ import annotations

import uuid
from typing import Any

from identity.domain.model import Org, User

from tests.unit.fakes import FakeRepository, FakeUnitOfWork


class FakeOrgs(FakeRepository):
    def __init__(self, *orgs: Org) -> None:
        super().__init__(*orgs, key="code")

    def by_codes(self, codes: list[str]) -> dict[str, Org]:
        return {code: self.items[code] for code in codes if code in self.items}


class FakeUsers(FakeRepository):
    def by_username(self, username: str) -> User | None:
        found = next((u for u in self.items.values() if u.username == username.lower()), None)
        return None if found is None else self._saw(found)


class FakeIdentityUnitOfWork(FakeUnitOfWork):
    def __init__(self, orgs: list[Org] | None = None, users: list[User] | None = None) -> None:
        super().__init__()
        self.orgs = FakeOrgs(*(orgs or []))
        self.users = FakeUsers(*(users or []))

    def get_user(self, user_id: uuid.UUID) -> Any:
        return self.users.items[user_id]
