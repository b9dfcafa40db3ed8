"""The `project_plan` case kind without I/O: its chain comes from approvals' own policy file (乌教发〔2023〕97号
「由市教育局组织相关人员对建设方案进行审核评估并提出合理化建议」, 「对各区教育信息化建设项目资金进行审核」)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from approvals.adapters.case_policies import case_policy
from approvals.adapters.policy_snapshot import PolicySnapshotError, parse_case_policy
from approvals.domain.events import ReviewDecided
from approvals.domain.model import APPROVED, PROJECT_PLAN, Nominee, OrgNode, ReviewCase, resolve_stages

ORGS = {
    "1503": OrgNode("1503", "乌海市教育局", "city", "/1503"),
    "150302": OrgNode("150302", "海勃湾区教育局", "county", "/1503/150302"),
}
AT = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)


def test_the_plan_chain_is_city_review_then_funds_review_then_the_decision_all_at_the_city_bureau() -> None:
    policy = case_policy(PROJECT_PLAN)
    stages = resolve_stages(policy, "/1503/150302", ORGS)
    assert [(s.key, s.role, s.org_path) for s in stages] == [
        ("city_review", "city_reviewer", "/1503"),
        ("funds_review", "city_reviewer", "/1503"),
        ("decision", "city_reviewer", "/1503"),
    ]


def test_a_case_policy_without_stages_is_refused_with_its_path() -> None:
    with pytest.raises(PolicySnapshotError, match=r"approval\.stages"):
        parse_case_policy({"id": "x", "version": 1, "approval": {"resubmission_reenters": "first_stage", "stages": []}})


def test_a_plan_case_announces_its_kind_with_every_decision() -> None:
    policy = case_policy(PROJECT_PLAN)
    plan = Nominee(uuid.uuid4(), uuid.uuid4(), "150302", "/1503/150302", "海勃湾区教育局", "u1", "智慧校园")
    case = ReviewCase(plan, policy, resolve_stages(policy, plan.school_org_path, ORGS), AT, kind=PROJECT_PLAN)
    for _ in range(3):
        task = case.open_task()
        assert task is not None
        outcome = case.decide(task.id, "approve", opinion="同意", seal=None, decided_by="c", on_behalf_of=None, at=AT)
    assert outcome == APPROVED
    decided = [e for e in case.events if isinstance(e, ReviewDecided)]
    assert {e.kind for e in decided} == {PROJECT_PLAN} and len(decided) == 3
