"""Handlers of 应用系统对接台账 (the application registry) and its overview per district.

Wuhai: 「各区、各校根据应用需求建设个性化应用系统，对新建和在用的应用系统必须与市级教育数字基座平台进行对接，
实现用户统一身份认证和单点登录」. Each unit registers its systems and keeps their integration status; the city reads the
connected share per district and the systems still unconnected past their target date.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import asdict, dataclass

from governance.adapters.orm import application_systems
from governance.domain.model import (
    ApplicationSystem,
    DistrictCoverage,
    Integration,
    coverage,
    district_of,
    now,
)
from governance.service_layer.records import Records, named_org
from governance.service_layer.unit_of_work import GovernanceUnitOfWork
from shared import clock
from shared.principal import Principal
from shared.scope import within_any

# the unit's own administrator, its district bureau and the city bureau keep the registry's lines
KEEPER_ROLES = ("school_admin", "county_reviewer", "city_reviewer", "platform_admin")
READER_ROLES = (*KEEPER_ROLES, "auditor", "evaluator")
SYSTEMS: Records[ApplicationSystem] = Records("application system", READER_ROLES, lambda uow: uow.applications)


@dataclass(frozen=True)
class SystemDetails:
    name: str
    owner: str
    purpose: str
    integration: Integration
    target_date: dt.date | None


def register(
    uow: GovernanceUnitOfWork, principal: Principal, org_code: str, details: SystemDetails
) -> ApplicationSystem:
    with uow:
        unit = named_org(uow, principal, org_code, *KEEPER_ROLES)
        system = ApplicationSystem(
            org_code=unit.code,
            org_path=unit.path,
            org_name=unit.name,
            district=district_of(unit, uow.orgs.on_path(unit.path)),
            by=principal.subject,
            at=now(),
            **details.__dict__,
        )
        uow.applications.add(system)
        SYSTEMS.audit(
            uow, principal, "application.registered", system, {"name": system.name, "connected": system.connected}
        )
        uow.commit()
    return system


@SYSTEMS.edit("record", KEEPER_ROLES)
def update(uow: GovernanceUnitOfWork, principal: Principal, system: ApplicationSystem, details: SystemDetails) -> None:
    system.update(at=now(), **details.__dict__)
    SYSTEMS.audit(uow, principal, "application.updated", system, asdict(system.integration))


def get(uow: GovernanceUnitOfWork, principal: Principal, system_id: uuid.UUID) -> ApplicationSystem:
    return SYSTEMS.read(uow, principal, system_id)


def list_systems(
    uow: GovernanceUnitOfWork,
    principal: Principal,
    *,
    district: str | None,
    overdue_only: bool,
    today: dt.date | None = None,
) -> list[ApplicationSystem]:
    day = today or clock.today()
    with uow:
        condition = within_any(application_systems.c.org_path, principal.paths(*READER_ROLES))
        found = uow.applications.in_scope(condition, district=district)
    return [s for s in found if s.overdue(day)] if overdue_only else found


def overview(uow: GovernanceUnitOfWork, principal: Principal, today: dt.date | None = None) -> list[DistrictCoverage]:
    """The connected share per district over the systems the caller sees."""
    day = today or clock.today()
    return coverage(list_systems(uow, principal, district=None, overdue_only=False, today=day), day)
