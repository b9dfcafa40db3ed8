"""Handlers of the city platform's catalogue (市级平台已有功能): the data the duplication check reads.

The city bureau keeps it (「各区、各校不得规划建设数据中心以及与市级平台系统功能相同的应用系统」); every unit under the
city reads it, so a plan's author can see what not to build before writing the plan.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from governance.domain.model import CapabilityKind, CatalogueEntry, now
from governance.service_layer.unit_of_work import GovernanceUnitOfWork
from shared.auth import Principal
from shared.errors import Conflict, NotFound, Unprocessable, field_error
from shared.scope import path_within

# the city bureau keeps the catalogue; a platform administrator may set it up for a city
KEEPER_ROLES = ("city_reviewer", "platform_admin")


@dataclass(frozen=True)
class EntryContent:
    kind: CapabilityKind
    name: str
    keywords: Sequence[str]
    description: str | None = None
    active: bool = True


def visible_to(principal: Principal, entry_path: str) -> bool:
    """Anyone working under the city (or above it) reads its catalogue."""
    return any(path_within(p, entry_path) or path_within(entry_path, p) for p in principal.paths())


def add_entry(
    uow: GovernanceUnitOfWork, principal: Principal, org_code: str, code: str, content: EntryContent
) -> CatalogueEntry:
    with uow:
        org = uow.orgs.get(org_code)
        if org is None:
            raise Unprocessable("Unknown org.", errors=[field_error("org_code", "no organisation with this code")])
        principal.require_within(org.path, *KEEPER_ROLES, what="organisation")
        if org.level != "city":
            raise Unprocessable(
                "The catalogue belongs to a city bureau.", errors=[field_error("org_code", "not a city bureau")]
            )
        if uow.catalogue.by_code(org.path, code) is not None:
            raise Conflict("The catalogue has an entry with this code.", errors=[field_error("code", "already used")])
        entry = CatalogueEntry(
            code=code,
            kind=content.kind,
            name=content.name,
            keywords=content.keywords,
            description=content.description,
            org_path=org.path,
            by=principal.subject,
            at=now(),
        )
        entry.active = content.active
        uow.catalogue.add(entry)
        uow.audit(
            "catalogue.entry_added",
            actor=principal.subject,
            target=str(entry.id),
            org_path=org.path,
            details={"code": code, "kind": content.kind.value, "name": content.name},
        )
        try:
            uow.commit()
        except IntegrityError as exc:
            raise Conflict("The catalogue has an entry with this code.") from exc
    return entry


def change_entry(
    uow: GovernanceUnitOfWork,
    principal: Principal,
    entry_id: uuid.UUID,
    check_version: Callable[[int], None],
    content: EntryContent,
) -> CatalogueEntry:
    with uow:
        entry = uow.catalogue.get(entry_id)
        if entry is None:
            raise NotFound("No such catalogue entry.")
        principal.require_within(entry.org_path, *KEEPER_ROLES, what="catalogue entry")
        check_version(entry.version)
        entry.change(
            name=content.name,
            kind=content.kind,
            keywords=content.keywords,
            description=content.description,
            active=content.active,
        )
        uow.audit(
            "catalogue.entry_changed",
            actor=principal.subject,
            target=str(entry.id),
            org_path=entry.org_path,
            details={"code": entry.code, "active": entry.active},
        )
        try:
            uow.commit()
        except StaleDataError as exc:
            raise Conflict("Someone else changed this entry at the same time; read it again.") from exc
    return entry


def list_entries(uow: GovernanceUnitOfWork, principal: Principal, *, active_only: bool) -> list[CatalogueEntry]:
    with uow:
        return [e for e in uow.catalogue.all(active_only=active_only) if visible_to(principal, e.org_path)]


def get_entry(uow: GovernanceUnitOfWork, principal: Principal, entry_id: uuid.UUID) -> CatalogueEntry:
    with uow:
        entry = uow.catalogue.get(entry_id)
        if entry is None or not visible_to(principal, entry.org_path):
            raise NotFound("No such catalogue entry.")
        return entry
