"""Who reaches a governance record, and where a change to it goes on the audit trail: the checks every handler
makes before it reads or changes one, and the entry it writes after.

A record outside the caller's subtrees does not exist for them (404, never 403: the answer must not tell them it is
there); one they see but may not change is refused with the reason (403); an org a command names that does not exist
is an error on the field that named it (422). The org a record belongs to scopes both its readers and its audit
entries, so each kind of record names it once.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

from governance.domain.model import OrgNode
from governance.service_layer.refusals import refusals
from governance.service_layer.unit_of_work import GovernanceUnitOfWork
from shared.errors import Forbidden, NotFound, Unprocessable, field_error
from shared.principal import Principal


class Record(Protocol):
    id: uuid.UUID
    version: int


R = TypeVar("R", bound=Record)
C = TypeVar("C")
# an If-Match edit as a view calls it: (uow, principal, the record's id, the version check, what the caller sent)
Edit = Callable[[GovernanceUnitOfWork, Principal, Any, Callable[[int], None], C], R]


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

    def edit(
        self, noun: str, access: Permission | tuple[str, ...]
    ) -> Callable[[Callable[[GovernanceUnitOfWork, Principal, R, C], None]], Edit[C, R]]:
        """Turn `change` (the domain change and its audit entry) into the handler of an If-Match edit: in one unit
        of work, the record found for the caller (locked, when `access` is a permission; seen by those roles
        otherwise), its version checked, `change` applied, committed; the record returned. `noun` names the record
        when a concurrent writer got there first."""

        def decorate(change: Callable[[GovernanceUnitOfWork, Principal, R, C], None]) -> Edit[C, R]:
            # named and documented as the change; its annotations stay the handler's own
            @functools.wraps(change, assigned=("__module__", "__name__", "__qualname__", "__doc__"))
            def handler(
                uow: GovernanceUnitOfWork, principal: Principal, key: Any, check_version: Callable[[int], None], sent: C
            ) -> R:
                with uow, refusals(noun):
                    if isinstance(access, Permission):
                        record = self.changeable(uow, principal, key, access)
                    else:
                        record = self.visible(uow, principal, key, *access)
                    check_version(record.version)
                    change(uow, principal, record, sent)
                    uow.commit()
                return record

            return handler

        return decorate

    def audit(
        self,
        uow: GovernanceUnitOfWork,
        principal: Principal,
        action: str,
        record: R,
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
