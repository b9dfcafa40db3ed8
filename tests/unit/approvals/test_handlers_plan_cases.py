"""Governance's project plans reach approvals' review chain, handled against a fake unit of work (nothing starts):
a submitted plan opens one `project_plan` case on the city bureau's chain; a revised plan starts it again."""

from __future__ import annotations

import datetime as dt
import uuid

from approvals.domain.model import PROJECT_PLAN, OrgNode
from approvals.service_layer.reviews import Decide, decide, on_plan_resubmitted, on_plan_submitted

from shared.contracts.governance import PlanResubmitted, PlanSubmitted
from shared.principal import Grant, Principal
from tests.unit.approvals.fakes import FakeReviewsUnitOfWork

CITY = OrgNode("1503", "乌海市教育局", "city", "/1503")
DISTRICT = OrgNode("150302", "海勃湾区教育局", "county", "/1503/150302")
CITY_REVIEWER = Principal("city-reviewer", (Grant("city_reviewer", CITY.path),))
AT = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)


def submitted(plan_id: uuid.UUID, contract: type[PlanSubmitted] = PlanSubmitted, revision: int = 1) -> PlanSubmitted:
    return contract(
        plan_id=str(plan_id),
        unit_org_code=DISTRICT.code,
        unit_org_path=DISTRICT.path,
        unit_name=DISTRICT.name,
        title="海勃湾区智慧校园建设项目",
        budget="1200000.00",
        funding_source="区级财政预算",
        revision=revision,
        submitted_by="district",
        submitted_at=AT.isoformat(),
        flags=[{"code": "unified-identity", "kind": "function", "name": "统一身份认证", "matched": ["单点登录"]}],
        justification="市级平台尚未覆盖本区教师端",
    )


def test_a_submitted_plan_opens_one_case_on_the_city_bureaus_chain_with_its_flags_on_record() -> None:
    uow = FakeReviewsUnitOfWork(orgs=(CITY, DISTRICT))
    plan_id = uuid.uuid4()

    for _ in range(2):
        on_plan_submitted(submitted(plan_id), uow)

    [case] = uow.cases.items.values()
    assert case.kind == PROJECT_PLAN and case.nomination_id == plan_id
    assert [(t.stage_key, t.role, t.org_path) for t in case.tasks] == [("city_review", "city_reviewer", CITY.path)]
    [(action, fields)] = uow.audited
    assert action == "case.opened" and fields["details"]["flags"][0]["code"] == "unified-identity"


def test_a_returned_plan_sent_again_restarts_its_chain() -> None:
    uow = FakeReviewsUnitOfWork(orgs=(CITY, DISTRICT))
    plan_id = uuid.uuid4()
    on_plan_submitted(submitted(plan_id), uow)
    [case] = uow.cases.items.values()
    decide(uow, CITY_REVIEWER, Decide(case.tasks[0].id, "return", opinion="预算明细不全"))
    assert case.status == "returned"

    on_plan_resubmitted(submitted(plan_id, PlanResubmitted, revision=2), uow)

    assert case.status == "in_review" and case.revision == 2
    assert [t.stage_key for t in case.tasks if t.status == "open"] == ["city_review"]


def test_a_revised_plan_whose_first_sending_never_arrived_opens_its_case_as_the_sending_would() -> None:
    uow = FakeReviewsUnitOfWork(orgs=(CITY, DISTRICT))
    plan_id = uuid.uuid4()

    on_plan_resubmitted(submitted(plan_id, PlanResubmitted, revision=2), uow)

    [case] = uow.cases.items.values()
    assert case.kind == PROJECT_PLAN and case.nomination_id == plan_id and case.status == "in_review"
    assert [t.stage_key for t in case.tasks if t.status == "open"] == ["city_review"]
    assert [action for action, _ in uow.audited] == ["case.opened"]
