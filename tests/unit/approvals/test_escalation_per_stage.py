"""Issue 17 item 10: an overdue task escalates to the body the round's policy names for its stage
(approval.stages[].escalate_to), never to a hard-wired city reviewer: Jiaozuo 县 → 市, Helan 「由教育体育局发文聘任」
(the county is the top: nobody above it), Yichun 「报学校党委常委会批准」 (its own party committee)."""

from __future__ import annotations

import copy

import pytest
from approvals.adapters.policy_snapshot import PolicySnapshotError, parse_policy
from approvals.domain.model import OrgNode, resolve_stages

from tests.unit.approvals.nominations_events import policy_document

CITY = OrgNode("4108", "焦作市教育局", "city", "/4108")
COUNTY = OrgNode("410802", "解放区教育局", "county", "/4108/410802")
SCHOOL = OrgNode("4108020001", "解放区第一实验小学", "school", "/4108/410802/4108020001")
CITY_RUN_SCHOOL = OrgNode("4108000001", "焦作市第一中学", "school", "/4108/4108000001")
HELAN_COUNTY = OrgNode("640122", "贺兰县教育体育局", "county", "/6401/640122")
HELAN_SCHOOL = OrgNode("6401220001", "贺兰县第一小学", "school", "/6401/640122/6401220001")
YICHUN = OrgNode("10417", "宜春学院", "university", "/10417")


def escalations(policy_id: str, school: OrgNode, *orgs: OrgNode) -> list[tuple[str, str | None, str | None]]:
    nodes = {o.code: o for o in (*orgs, school)}
    stages = resolve_stages(parse_policy(policy_document(policy_id)), school.path, nodes)
    return [(s.key, s.escalate_to_role, s.escalate_to_org_path) for s in stages]


def test_各县市区教育局_jiaozuo_escalates_each_stage_to_the_next_body_and_the_city_to_nobody() -> None:
    assert escalations("jiaozuo-2022", SCHOOL, CITY, COUNTY) == [
        ("unit", "county_reviewer", COUNTY.path),
        ("county_review", "city_reviewer", CITY.path),
        ("city_review", None, None),
    ]


def test_市直各学校_a_city_run_schools_unit_stage_escalates_to_the_city() -> None:
    assert escalations("jiaozuo-2022", CITY_RUN_SCHOOL, CITY) == [
        ("unit", "city_reviewer", CITY.path),
        ("city_review", None, None),
    ]


def test_由教育体育局发文聘任_helan_has_the_county_at_the_top() -> None:
    """No city above Helan's county bureau is asked: the county stage escalates to nobody."""
    assert escalations("helan-2024", HELAN_SCHOOL, HELAN_COUNTY) == [
        ("unit", "county_reviewer", HELAN_COUNTY.path),
        ("county_appointment", None, None),
    ]


def test_报学校党委常委会批准_yichun_escalates_to_its_own_party_committee() -> None:
    assert escalations("yichun-university", YICHUN, YICHUN) == [
        ("president_nomination", "party_committee", YICHUN.path),
        ("office_meeting", "party_committee", YICHUN.path),
        ("party_committee", None, None),
    ]


def test_an_escalation_target_without_its_role_is_refused_with_its_path() -> None:
    document = copy.deepcopy(policy_document("yichun-university"))
    document["approval"]["stages"][0]["escalate_to"] = {"org_level": "university"}
    with pytest.raises(PolicySnapshotError, match=r"approval\.stages\[0\]\.escalate_to\.role"):
        parse_policy(document)
