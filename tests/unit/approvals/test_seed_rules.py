"""The seeds' rules of the CIO's life that approvals keeps, each test named after the document's phrase."""

from __future__ import annotations

import copy
import datetime as dt
import uuid

import pytest
from approvals.adapters.policy_snapshot import PolicySnapshotError, parse_policy
from approvals.domain.model import Nominee, OrgNode, ReviewCase, UnknownOrg, resolve_stages

from tests.unit.approvals.nominations_events import policy_document

JIAOZUO = policy_document("jiaozuo-2022")
AT = dt.datetime(2022, 10, 1, tzinfo=dt.UTC)
CITY = OrgNode("4108", "焦作市教育局", "city", "/4108")
CITY_RUN_SCHOOL = OrgNode("4108000001", "焦作市第一中学", "school", "/4108/4108000001")


# -- seed 001 「各县（市、区）教育（教体）局，市直各学校」 --------------------------------------------------
def test_市直各学校_a_city_run_school_goes_from_its_unit_straight_to_the_city() -> None:
    policy = parse_policy(JIAOZUO)
    stages = resolve_stages(policy, CITY_RUN_SCHOOL.path, {"4108": CITY, "4108000001": CITY_RUN_SCHOOL})
    assert [(s.index, s.key, s.role, s.org_code) for s in stages] == [
        (0, "unit", "school_admin", "4108000001"),
        (1, "city_review", "city_reviewer", "4108"),
    ]
    nominee = Nominee(uuid.uuid4(), uuid.uuid4(), "4108000001", CITY_RUN_SCHOOL.path, "焦作市第一中学", "u1", "张三")
    case = ReviewCase(nominee, policy, stages, AT)
    assert case.tasks[0].role == "school_admin" and not case.is_final_stage


def test_市直各学校_a_stage_is_skipped_only_when_the_whole_path_is_known() -> None:
    """The city is not known here yet: the chain waits for the tree rather than skip a county it may have."""
    policy = parse_policy(JIAOZUO)
    with pytest.raises(UnknownOrg):
        resolve_stages(policy, CITY_RUN_SCHOOL.path, {"4108000001": CITY_RUN_SCHOOL})


def test_市直各学校_a_stage_without_when_missing_still_waits_for_its_org() -> None:
    document = copy.deepcopy(JIAOZUO)
    del document["approval"]["stages"][1]["when_missing"]
    with pytest.raises(UnknownOrg, match="county"):
        resolve_stages(parse_policy(document), CITY_RUN_SCHOOL.path, {"4108": CITY, "4108000001": CITY_RUN_SCHOOL})
    document["approval"]["stages"][1]["when_missing"] = "guess"
    with pytest.raises(PolicySnapshotError, match=r"approval.stages\[1\].when_missing"):
        parse_policy(document)
