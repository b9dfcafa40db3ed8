"""Who reaches a governance record, and where a change to it goes on the audit trail: the checks every handler
makes before it reads or changes one, and the entry it writes after.

A record outside the caller's subtrees does not exist for them (404, never 403: the answer must not tell them it is
there); one they see but may not change is refused with the reason (403); an org a command names that does not exist
is an error on the field that named it (422). The org a record belongs to scopes both its readers and its audit
entries, so each kind of record names it once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar

from governance.domain.model import OrgNode
from governance.service_layer.unit_of_work import GovernanceUnitOfWork
from shared.errors import Forbidden, NotFound, Unprocessable, field_error
from shared.principal import Principal

R = TypeVar("R")


class Permission(NamedTuple):
    """Who may do one thing to a record (a role at or above its org), and what a reader without one is told."""

    roles: tuple[str, ...]
    refusal: str


def require(principal: Principal, org_path: str, permission: Permission) -> None:
    """403 with the permission's refusal unless the caller holds one of its roles at or above `org_path`."""
    if not principal.can(org_path, *permission.roles):
        raise Forbidden(permission.refusal)


def named_org(
    uow: GovernanceUnitOfWork,
    principal: Principal,
    code: str,
    *roles: str,
    field: str = "org_code",
    unknown: str = "Unknown unit.",
) -> OrgNode:
    """The org a command names by `code`, for a caller holding one of `roles` at or above it; `unknown` (422 on
    `field`) when the directory has no such org."""
    org = uow.orgs.get(code)
    if org is None:
        raise Unprocessable(unknown, errors=[field_error(field, "no organisation with this code")])
    principal.require_within(org.path, *roles, what="organisation")
    return org


@dataclass(frozen=True)
class Records(Generic[R]):
    """One kind of record: its name in a 404 (`No such <what>.`), the roles that read it, its repository in the unit
    of work, and the attribute holding the path of the org it belongs to (and its audit entries are filed under)."""

    what: str
    readers: tuple[str, ...]
    repository: Callable[[GovernanceUnitOfWork], Any]
    path: str = "org_path"

    def visible(self, uow: GovernanceUnitOfWork, principal: Principal, key: Any, *roles: str) -> R:
        """The record, when the caller holds one of `roles` (the readers unless named) at or above its org; 404 when
        there is none or the caller works elsewhere."""
        return self._seen(principal, self.repository(uow).get(key), roles or self.readers)

    def read(self, uow: GovernanceUnitOfWork, principal: Principal, key: Any) -> R:
        """One record as its readers get it, in a unit of work of its own (what a GET of it does)."""
        with uow:
            return self.visible(uow, principal, key)

    def changeable(self, uow: GovernanceUnitOfWork, principal: Principal, key: Any, permission: Permission) -> R:
        """The record, locked for the change, when the caller reads it and holds the permission at or above its
        org; a reader who does not is refused."""
        record = self._seen(principal, self.repository(uow).get(key, lock=True), self.readers)
        require(principal, getattr(record, self.path), permission)
        return record

    def audit(
        self,
        uow: GovernanceUnitOfWork,
        principal: Principal,
        action: str,
        record: Any,
        details: dict[str, Any] | None = None,
    ) -> None:
        """The caller's `action` on `record`, on the trail under the record's org, in the handler's transaction."""
        uow.audit(
            action, actor=principal.subject, target=str(record.id), org_path=getattr(record, self.path), details=details
        )

    def _seen(self, principal: Principal, record: R | None, roles: tuple[str, ...]) -> R:
        if record is None:
            raise NotFound(f"No such {self.what}.")
        principal.require_within(getattr(record, self.path), *roles, what=self.what)
        return record
