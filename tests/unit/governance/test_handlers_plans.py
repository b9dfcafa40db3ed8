"""The plan handlers against the fake unit of work (nothing started): a district's plan is checked against the city
platform's catalogue before it is sent, the submission leaves as an event with the flags, and approvals' decisions
reach only project plans, once."""

from __future__ import annotations

import datetime as dt
import uuid

from governance.domain.model import CapabilityKind, CatalogueEntry, OrgNode, PlanStatus, ProjectPlan
from governance.service_layer import plans

from shared.contracts.approvals import ReviewDecided
from shared.contracts.governance import PlanSubmitted
from shared.principal import Grant, Principal
from tests.unit.governance.fakes import FakeGovernanceUnitOfWork
from tests.unit.governance.test_domain import content

AT = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
CITY = OrgNode("1503", "乌海市教育局", "city", "/1503")
DISTRICT = OrgNode("150302", "海勃湾区教育局", "county", "/1503/150302")
DISTRICT_REVIEWER = Principal("district", (Grant("county_reviewer", DISTRICT.path),))


def city_platform_has_single_sign_on() -> CatalogueEntry:
    return CatalogueEntry(
        code="unified-identity",
        kind=CapabilityKind.FUNCTION,
        name="统一身份认证",
        keywords=["单点登录"],
        description=None,
        org_path=CITY.path,
        by="city",
        at=AT,
    )


def unit_of_work() -> FakeGovernanceUnitOfWork:
    uow = FakeGovernanceUnitOfWork(orgs=[CITY, DISTRICT])
    uow.catalogue.add(city_platform_has_single_sign_on())
    return uow


def test_a_district_plan_declaring_a_city_platform_function_is_flagged_before_it_is_sent() -> None:
    uow = unit_of_work()

    plan = plans.create_plan(uow, DISTRICT_REVIEWER, DISTRICT.code, content(functions=["单点登录门户"]))

    assert [f["code"] for f in plan.flags] == ["unified-identity"]
    assert plan.status == PlanStatus.DRAFT and uow.committed
    assert uow.events == [] and uow.audited_actions() == ["plan.created"]


def test_a_submitted_plan_leaves_for_approvals_with_its_flags_and_reason() -> None:
    uow = unit_of_work()
    plan = plans.create_plan(uow, DISTRICT_REVIEWER, DISTRICT.code, content(functions=["单点登录门户"]))

    plans.submit_plan(uow, DISTRICT_REVIEWER, plan.id, lambda version: None, "市级平台尚未覆盖本区教师端")

    [sent] = [e for e in uow.events if isinstance(e, PlanSubmitted)]
    assert sent.plan_id == str(plan.id) and sent.unit_org_path == DISTRICT.path
    assert [f["code"] for f in sent.flags] == ["unified-identity"]
    assert sent.justification == "市级平台尚未覆盖本区教师端"


def submitted_plan(uow: FakeGovernanceUnitOfWork) -> ProjectPlan:
    plan = plans.create_plan(uow, DISTRICT_REVIEWER, DISTRICT.code, content())
    return plans.submit_plan(uow, DISTRICT_REVIEWER, plan.id, lambda version: None, None)


def decided(plan_id: uuid.UUID, kind: str, outcome: str = "approved") -> ReviewDecided:
    return ReviewDecided(
        case_id="c1",
        task_id="t1",
        nomination_id=str(plan_id),
        round_id=str(uuid.uuid4()),
        school_org_path=DISTRICT.path,
        stage_index=2,
        stage_name="审核决定",
        stage_key="decision",
        decision="approve",
        opinion="建议复用市级平台",
        outcome=outcome,
        decided_by="city",
        on_behalf_of=None,
        decided_at=AT.isoformat(),
        kind=kind,
    )


def test_a_decision_on_a_cio_nomination_is_not_the_plans_business() -> None:
    uow = unit_of_work()
    plan = submitted_plan(uow)
    uow.audited.clear()

    plans.on_review_decided(decided(plan.id, "cio_nomination"), uow)

    assert plan.status == PlanStatus.IN_REVIEW and uow.audited == []


def test_the_final_approval_of_a_plan_case_approves_the_plan_once() -> None:
    uow = unit_of_work()
    plan = submitted_plan(uow)
    uow.audited.clear()

    for _ in range(2):
        plans.on_review_decided(decided(plan.id, "project_plan"), uow)

    assert plan.status == PlanStatus.APPROVED and plan.suggestions == "建议复用市级平台"
    assert uow.audited_actions() == ["plan.review_applied"]


def test_a_decision_for_a_plan_this_database_never_had_is_dropped() -> None:
    uow = unit_of_work()

    plans.on_review_decided(decided(uuid.uuid4(), "project_plan"), uow)

    assert uow.audited == []
