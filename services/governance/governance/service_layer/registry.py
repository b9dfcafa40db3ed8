"""Handlers of 应用系统对接台账 (the application registry) and its overview per district.

Wuhai: 「各区、各校根据应用需求建设个性化应用系统，对新建和在用的应用系统必须与市级教育数字基座平台进行对接，
实现用户统一身份认证和单点登录」. Each unit registers its systems and keeps their integration status; the city reads the
connected share per district and the systems still unconnected past their target date.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from governance.adapters.orm import application_systems
from governance.domain.model import (
    ApplicationSystem,
    DistrictCoverage,
    Integration,
    coverage,
    district_of,
    now,
)
from governance.service_layer.refusals import refusals
from governance.service_layer.unit_of_work import GovernanceUnitOfWork
from shared import clock
from shared.errors import NotFound, Unprocessable, field_error
from shared.principal import Principal
from shared.scope import within_any

# the unit's own administrator, its district bureau and the city bureau keep the registry's lines
KEEPER_ROLES = ("school_admin", "county_reviewer", "city_reviewer", "platform_admin")
READER_ROLES = (*KEEPER_ROLES, "auditor", "evaluator")


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
        unit = uow.orgs.get(org_code)
        if unit is None:
            raise Unprocessable("Unknown unit.", errors=[field_error("org_code", "no organisation with this code")])
        principal.require_within(unit.path, *KEEPER_ROLES, what="organisation")
        system = ApplicationSystem(
            org_code=unit.code,
            org_path=unit.path,
            org_name=unit.name,
            district=district_of(unit, uow.orgs.on_path(unit.path)),
            name=details.name,
            owner=details.owner,
            purpose=details.purpose,
            integration=details.integration,
            target_date=details.target_date,
            by=principal.subject,
            at=now(),
        )
        uow.applications.add(system)
        uow.audit(
            "application.registered",
            actor=principal.subject,
            target=str(system.id),
            org_path=system.org_path,
            details={"name": system.name, "connected": system.connected},
        )
        uow.commit()
    return system


def update(
    uow: GovernanceUnitOfWork,
    principal: Principal,
    system_id: uuid.UUID,
    check_version: Callable[[int], None],
    details: SystemDetails,
) -> ApplicationSystem:
    with uow, refusals("record"):
        system = uow.applications.get(system_id)
        if system is None:
            raise NotFound("No such application system.")
        principal.require_within(system.org_path, *KEEPER_ROLES, what="application system")
        check_version(system.version)
        system.update(
            name=details.name,
            owner=details.owner,
            purpose=details.purpose,
            integration=details.integration,
            target_date=details.target_date,
            at=now(),
        )
        uow.audit(
            "application.updated",
            actor=principal.subject,
            target=str(system.id),
            org_path=system.org_path,
            details={
                "unified_identity": system.unified_identity,
                "single_sign_on": system.single_sign_on,
                "data_exchange": system.data_exchange,
            },
        )
        uow.commit()
    return system


def get(uow: GovernanceUnitOfWork, principal: Principal, system_id: uuid.UUID) -> ApplicationSystem:
    with uow:
        system = uow.applications.get(system_id)
        if system is None:
            raise NotFound("No such application system.")
        principal.require_within(system.org_path, *READER_ROLES, what="application system")
        return system


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
