"""Handlers of 信息化项目建设方案审核: write, check, revise and submit a plan; follow its review chain in approvals;
record its 阶段性验收 and 竣工验收.

Wuhai: 「各区教育局及市直属各学校在实施重大信息化建设项目前，应提前向市教育局提交项目建设方案，由市教育局组织相关人员对
建设方案进行审核评估并提出合理化建议」. The review itself runs in approvals as a `project_plan` case (its chain from
approvals' policy file); this service sends `governance.plan.submitted` and follows `approvals.review.decided`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from governance.adapters import metrics
from governance.adapters.orm import project_plans
from governance.domain.model import (
    Acceptance,
    AcceptanceKind,
    PlanContent,
    ProjectPlan,
    duplication_flags,
    now,
)
from governance.service_layer.records import Permission, Records, named_org
from governance.service_layer.refusals import refusals
from governance.service_layer.unit_of_work import GovernanceUnitOfWork
from shared.contracts import consumes
from shared.contracts.approvals import ReviewDecided
from shared.errors import Unprocessable, field_error
from shared.principal import Principal
from shared.scope import within_any

# 各区教育局 (county_reviewer at the district bureau) and 市直属各学校 / schools (school_admin) write plans
SUBMITTER_ROLES = ("school_admin", "county_reviewer")
# the city bureau records the acceptances (验收) of the plans it approved
ACCEPTOR_ROLES = ("city_reviewer",)
READER_ROLES = (*SUBMITTER_ROLES, "city_reviewer", "platform_admin", "auditor")
UNIT_LEVELS = ("county", "school")
PLAN_CASE_KIND = "project_plan"
# a stage's decision as approvals sends it, kept in the plan's review history under the same names
DECISION_FIELDS = {"stage_key", "decision", "opinion", "outcome", "decided_by"}
PLANS: Records[ProjectPlan] = Records("plan", READER_ROLES, lambda uow: uow.plans, path="unit_org_path")
EDIT = Permission(SUBMITTER_ROLES, "Only the unit that wrote the plan changes or submits it.")
ACCEPT = Permission(ACCEPTOR_ROLES, "The city bureau records the acceptances (验收).")


def create_plan(
    uow: GovernanceUnitOfWork, principal: Principal, unit_org_code: str, content: PlanContent
) -> ProjectPlan:
    """A draft plan, checked against the city platform at once: the author sees the flags before sending it."""
    with uow, refusals("plan"):
        unit = named_org(uow, principal, unit_org_code, *SUBMITTER_ROLES, field="unit_org_code")
        if unit.level not in UNIT_LEVELS:
            raise Unprocessable(
                "A plan is written by a district bureau or a school.",
                errors=[field_error("unit_org_code", f"must be a {' or '.join(UNIT_LEVELS)}")],
            )
        flags = duplication_flags(content.declaration, uow.catalogue.covering(unit.path))
        plan = ProjectPlan(
            unit_org_code=unit.code,
            unit_org_path=unit.path,
            unit_name=unit.name,
            content=content,
            flags=flags,
            by=principal.subject,
            at=now(),
        )
        uow.plans.add(plan)
        PLANS.audit(uow, principal, "plan.created", plan, {"title": plan.title, "flags": [f["code"] for f in flags]})
        uow.commit()
    return plan


@PLANS.edit("plan", EDIT)
def revise_plan(uow: GovernanceUnitOfWork, principal: Principal, plan: ProjectPlan, content: PlanContent) -> None:
    flags = duplication_flags(content.declaration, uow.catalogue.covering(plan.unit_org_path))
    plan.revise(content, flags, now())
    PLANS.audit(uow, principal, "plan.revised", plan, {"flags": [f["code"] for f in flags]})


def submit_plan(
    uow: GovernanceUnitOfWork,
    principal: Principal,
    plan_id: uuid.UUID,
    check_version: Callable[[int], None],
    justification: str | None,
) -> ProjectPlan:
    """提交项目建设方案: the flags are checked once more against today's catalogue, then the plan goes to approvals."""
    with uow, refusals("plan"):
        plan = PLANS.changeable(uow, principal, plan_id, EDIT)
        check_version(plan.version)
        plan.flags = duplication_flags(plan.declaration, uow.catalogue.covering(plan.unit_org_path))
        plan.submit(justification, principal.subject, now())
        PLANS.audit(
            uow,
            principal,
            "plan.submitted",
            plan,
            {"revision": plan.revision, "flags": [f["code"] for f in plan.flags]},
        )
        uow.commit()
    metrics.PLANS_SUBMITTED.labels("true" if plan.flags else "false").inc()
    return plan


def get_plan(
    uow: GovernanceUnitOfWork, principal: Principal, plan_id: uuid.UUID
) -> tuple[ProjectPlan, list[Acceptance]]:
    with uow:
        plan = PLANS.visible(uow, principal, plan_id)
        return plan, uow.plans.acceptances(plan.id)


def list_plans(
    uow: GovernanceUnitOfWork,
    principal: Principal,
    *,
    status: str | None,
    after: list[str] | None,
    limit: int,
) -> list[ProjectPlan]:
    with uow:
        condition = within_any(project_plans.c.unit_org_path, principal.paths(*READER_ROLES))
        return uow.plans.in_scope(condition, status=status, after=after, limit=limit)


def record_acceptance(
    uow: GovernanceUnitOfWork,
    principal: Principal,
    plan_id: uuid.UUID,
    kind: AcceptanceKind,
    accepted_on: dt.date,
    evidence: Sequence[dict[str, Any]],
    opinion: str | None,
) -> Acceptance:
    """阶段性验收 / 竣工验收, by the city bureau, with the evidence (验收材料)."""
    with uow, refusals("plan"):
        plan = PLANS.changeable(uow, principal, plan_id, ACCEPT)
        acceptance = plan.accept(
            kind, accepted_on=accepted_on, evidence=evidence, opinion=opinion, by=principal.subject, at=now()
        )
        uow.plans.add_acceptance(acceptance)
        PLANS.audit(
            uow,
            principal,
            "plan.accepted",
            plan,
            {"kind": kind.value, "accepted_on": accepted_on.isoformat(), "evidence": len(evidence)},
        )
        uow.commit()
    metrics.PLAN_ACCEPTANCES.labels(kind.value).inc()
    return acceptance


# -- approvals' decisions ---------------------------------------------------------------------------
@consumes(ReviewDecided)
def on_review_decided(event: ReviewDecided, uow: GovernanceUnitOfWork) -> None:
    """approvals.review.decided of a `project_plan` case: the plan follows its case (returned, approved with the
    合理化建议, rejected); decisions of other kinds of case are not this service's."""
    if event.kind != PLAN_CASE_KIND:
        return
    plan = uow.plans.get(uuid.UUID(event.nomination_id), lock=True)
    if plan is None:
        return  # a case whose plan this database never had (another deployment's plan): nothing to follow
    decided_at = dt.datetime.fromisoformat(event.decided_at) if event.decided_at else now()
    applied = plan.apply_review(
        case_id=str(event.case_id),
        task_id=str(event.task_id),
        stage_name=event.stage_name or "",
        at=decided_at,
        **event.model_dump(include=DECISION_FIELDS),
    )
    if not applied:
        return
    uow.audit(
        "plan.review_applied",
        actor=event.decided_by,
        target=str(plan.id),
        org_path=plan.unit_org_path,
        details={"stage": event.stage_key, "decision": event.decision, "outcome": event.outcome},
    )
    if event.outcome in ("approved", "rejected"):
        metrics.PLANS_DECIDED.labels(event.outcome).inc()
