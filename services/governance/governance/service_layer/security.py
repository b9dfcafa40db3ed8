"""Handlers of network security work: inspections, drills and self-checks with their findings, rectifications
tracked to done, and each unit's emergency plan with its last review date.

Wuhai: 「每年统一组织…网络安全检查、应急演练」 (organised from above: the city or district bureau records them),
「常态化开展网络安全自查」 (the unit's own), 「网络安全事件应急处置预案」; Yichun 第十二条.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from governance.adapters import metrics
from governance.adapters.orm import emergency_plans, security_checks
from governance.domain import events
from governance.domain.model import OrgNode, now
from governance.domain.security import CheckKind, EmergencyPlan, FindingInput, SecurityCheck
from governance.service_layer.records import Permission, Records, named_org, require
from governance.service_layer.refusals import refusals
from governance.service_layer.unit_of_work import GovernanceUnitOfWork
from shared.errors import NotFound
from shared.principal import Principal
from shared.scope import within_any

# inspections and drills are organised by the bureaus above the unit
ORGANISER_ROLES = ("city_reviewer", "county_reviewer", "platform_admin")
# the unit itself: its administrator and its CIO (self-checks, rectifications, its emergency plan)
UNIT_ROLES = ("school_admin", "cio", *ORGANISER_ROLES)
READER_ROLES = (*UNIT_ROLES, "auditor", "university_president")
CHECKS: Records[SecurityCheck] = Records("check", READER_ROLES, lambda uow: uow.security_checks)
# a self-check is the unit's own; anyone else refused a check is below the bureau that runs it
_CHECK_REFUSAL = "Inspections and drills are recorded by the bureau that runs them."
RECORD_SELF_CHECK = Permission(UNIT_ROLES, _CHECK_REFUSAL)
RECORD_ORGANISED_CHECK = Permission(ORGANISER_ROLES, _CHECK_REFUSAL)
RECTIFY = Permission(UNIT_ROLES, "The unit that was checked reports its rectifications.")
KEEP_PLAN = Permission(UNIT_ROLES, "A unit keeps its own emergency plan.")


def _unit(uow: GovernanceUnitOfWork, principal: Principal, org_code: str, permission: Permission) -> OrgNode:
    unit = named_org(uow, principal, org_code, *READER_ROLES)
    require(principal, unit.path, permission)
    return unit


@dataclass(frozen=True)
class CheckRecord:
    kind: CheckKind
    held_on: dt.date
    title: str
    summary: str | None
    findings: Sequence[FindingInput]


def record_check(uow: GovernanceUnitOfWork, principal: Principal, org_code: str, record: CheckRecord) -> SecurityCheck:
    permission = RECORD_SELF_CHECK if record.kind is CheckKind.SELF_CHECK else RECORD_ORGANISED_CHECK
    with uow, refusals("check"):
        unit = _unit(uow, principal, org_code, permission)
        check = SecurityCheck(unit=unit, by=principal.subject, at=now(), **record.__dict__)
        uow.security_checks.add(check)
        uow.publish(events.SecurityCheckRecorded.from_aggregate(check, check_id=check.id, findings=len(check.findings)))
        CHECKS.audit(
            uow,
            principal,
            "security_check.recorded",
            check,
            {"kind": record.kind.value, "findings": len(check.findings)},
        )
        uow.commit()
    metrics.SECURITY_CHECKS.labels(record.kind.value).inc()
    return check


def rectify(
    uow: GovernanceUnitOfWork,
    principal: Principal,
    check_id: uuid.UUID,
    finding_id: str,
    rectified_on: dt.date,
    evidence: Sequence[dict[str, str]],
) -> SecurityCheck:
    """整改完成: the unit (or the bureau above it) closes a finding with its evidence."""
    with uow, refusals("check"):
        check = CHECKS.changeable(uow, principal, check_id, RECTIFY)
        check.rectify(finding_id, rectified_on, evidence)
        uow.publish(
            events.FindingRectified(
                check_id=str(check.id),
                finding_id=finding_id,
                org_path=check.org_path,
                rectified_on=rectified_on.isoformat(),
                check_done=check.done,
            )
        )
        uow.audit(
            "finding.rectified", actor=principal.subject, target=f"{check.id}:{finding_id}", org_path=check.org_path
        )
        uow.commit()
    return check


def get_check(uow: GovernanceUnitOfWork, principal: Principal, check_id: uuid.UUID) -> SecurityCheck:
    return CHECKS.read(uow, principal, check_id)


def list_checks(
    uow: GovernanceUnitOfWork, principal: Principal, *, kind: str | None, open_only: bool
) -> list[SecurityCheck]:
    with uow:
        found = uow.security_checks.in_scope(
            within_any(security_checks.c.org_path, principal.paths(*READER_ROLES)), kind=kind
        )
    return [c for c in found if not c.done] if open_only else found


# -- emergency plans ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlanRecord:
    title: str
    document_url: str
    last_reviewed_on: dt.date


def put_emergency_plan(
    uow: GovernanceUnitOfWork,
    principal: Principal,
    org_code: str,
    check_version: Callable[[int], None],
    record: PlanRecord,
) -> tuple[EmergencyPlan, bool]:
    """The unit's plan put on record, or its new review recorded (If-Match when one is on record already)."""
    with uow, refusals("emergency plan"):
        unit = _unit(uow, principal, org_code, KEEP_PLAN)
        plan = uow.emergency_plans.get(unit.code)
        created = plan is None
        if plan is None:
            plan = EmergencyPlan(unit=unit, by=principal.subject, at=now(), **record.__dict__)
            uow.emergency_plans.add(plan)
        else:
            check_version(plan.version)
            plan.record(by=principal.subject, at=now(), **record.__dict__)
        uow.audit(
            "emergency_plan.recorded",
            actor=principal.subject,
            target=unit.code,
            org_path=unit.path,
            details={"last_reviewed_on": record.last_reviewed_on.isoformat()},
        )
        uow.commit()
    return plan, created


def get_emergency_plan(uow: GovernanceUnitOfWork, principal: Principal, org_code: str) -> EmergencyPlan:
    with uow:
        plan = uow.emergency_plans.get(org_code)
        if plan is None:
            raise NotFound("No emergency plan on record for this unit.")
        principal.require_within(plan.org_path, *READER_ROLES, what="emergency plan")
        return plan


def list_emergency_plans(
    uow: GovernanceUnitOfWork, principal: Principal, *, stale_only: bool, today: dt.date, review_days: int
) -> list[EmergencyPlan]:
    with uow:
        found = uow.emergency_plans.in_scope(within_any(emergency_plans.c.org_path, principal.paths(*READER_ROLES)))
    return [p for p in found if p.stale(today, review_days)] if stale_only else found
