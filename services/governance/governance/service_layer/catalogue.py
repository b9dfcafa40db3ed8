"""Handlers of the city platform's catalogue (市级平台已有功能): the data the duplication check reads.

The city bureau keeps it (「各区、各校不得规划建设数据中心以及与市级平台系统功能相同的应用系统」); every unit under the
city reads it, so a plan's author can see what not to build before writing the plan.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from governance.domain.model import CapabilityKind, CatalogueEntry, now
from governance.service_layer.records import Records, named_org
from governance.service_layer.unit_of_work import GovernanceUnitOfWork
from shared.errors import Conflict, NotFound, Unprocessable, field_error
from shared.principal import Principal
from shared.scope import path_within

# the city bureau keeps the catalogue; a platform administrator may set it up for a city
KEEPER_ROLES = ("city_reviewer", "platform_admin")
ENTRIES: Records[CatalogueEntry] = Records("catalogue entry", KEEPER_ROLES, lambda uow: uow.catalogue)


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
        org = named_org(uow, principal, org_code, *KEEPER_ROLES, unknown="Unknown org.")
        if org.level != "city":
            raise Unprocessable(
                "The catalogue belongs to a city bureau.", errors=[field_error("org_code", "not a city bureau")]
            )
        if uow.catalogue.by_code(org.path, code) is not None:
            raise Conflict("The catalogue has an entry with this code.", errors=[field_error("code", "already used")])
        entry = CatalogueEntry(code=code, org_path=org.path, by=principal.subject, at=now(), **content.__dict__)
        uow.catalogue.add(entry)
        ENTRIES.audit(
            uow,
            principal,
            "catalogue.entry_added",
            entry,
            {"code": code, "kind": content.kind.value, "name": content.name},
        )
        try:
            uow.commit()
        except IntegrityError as exc:
            raise Conflict("The catalogue has an entry with this code.") from exc
    return entry


@ENTRIES.edit("entry", KEEPER_ROLES)
def change_entry(uow: GovernanceUnitOfWork, principal: Principal, entry: CatalogueEntry, content: EntryContent) -> None:
    entry.change(**content.__dict__)
    ENTRIES.audit(uow, principal, "catalogue.entry_changed", entry, {"code": entry.code, "active": entry.active})


def list_entries(uow: GovernanceUnitOfWork, principal: Principal, *, active_only: bool) -> list[CatalogueEntry]:
    with uow:
        return [e for e in uow.catalogue.all(active_only=active_only) if visible_to(principal, e.org_path)]


def get_entry(uow: GovernanceUnitOfWork, principal: Principal, entry_id: uuid.UUID) -> CatalogueEntry:
    with uow:
        entry = uow.catalogue.get(entry_id)
        if entry is None or not visible_to(principal, entry.org_path):
            raise NotFound("No such catalogue entry.")
        return entry
