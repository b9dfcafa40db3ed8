"""报送 before the city decides (seed 001 焦教文〔2022〕60号
「将焦作市首席教育信息官推荐表、汇总表各1份，报送至市教育局」): the policy declares which stage awaits the batch of
the body below it, and the rule binds it per case."""

from __future__ import annotations

import copy
import datetime as dt
import uuid

import pytest
from approvals.adapters.policy_snapshot import PolicySnapshotError, parse_policy
from approvals.domain.model import APPROVE, Nominee, OrgNode, ReviewCase, resolve_stages

from tests.unit.approvals.nominations_events import policy_document

JIAOZUO = policy_document("jiaozuo-2022")
AT = dt.datetime(2022, 10, 1, tzinfo=dt.UTC)
CITY = OrgNode("4108", "焦作市教育局", "city", "/4108")
COUNTY = OrgNode("410802", "解放区教育局", "county", "/4108/410802")
SCHOOL = OrgNode("4108020001", "解放区第一实验小学", "school", "/4108/410802/4108020001")
CITY_RUN_SCHOOL = OrgNode("4108000001", "焦作市第一中学", "school", "/4108/4108000001")


def _case_at_the_city(school: OrgNode, orgs: list[OrgNode]) -> ReviewCase:
    policy = parse_policy(JIAOZUO)
    stages = resolve_stages(policy, school.path, {o.code: o for o in orgs})
    case = ReviewCase(
        Nominee(uuid.uuid4(), uuid.uuid4(), school.code, school.path, school.name, "u1", "张三"), policy, stages, AT
    )
    while not case.is_final_stage:
        task = case.open_task()
        assert task is not None
        case.decide(task.id, APPROVE, opinion="同意", seal=None, decided_by="r", on_behalf_of=None, at=AT)
    return case


def test_报送至市教育局_only_jiaozuos_city_stage_awaits_a_batch() -> None:
    """焦作: the counties send 推荐表、汇总表 to the city; 贺兰 「由学校提名，由教育体育局发文聘任」
    (school → county, the county appoints) and 宜春学院 「经校长办公会审议通过，报学校党委常委会批准」
    (one university's bodies) send no batch."""
    awaiting = {
        policy_id: [s.key for s in parse_policy(policy_document(policy_id)).stages if s.awaits_batch]
        for policy_id in ("jiaozuo-2022", "helan-2024", "yichun-university")
    }
    assert awaiting == {"jiaozuo-2022": ["city_review"], "helan-2024": [], "yichun-university": []}


def test_报送至市教育局_the_city_task_of_a_county_school_waits_for_its_countys_batch() -> None:
    case = _case_at_the_city(SCHOOL, [CITY, COUNTY, SCHOOL])
    city_task = case.open_task()
    assert city_task is not None and city_task.stage_key == "city_review"
    assert city_task.awaits_batch_from == COUNTY.path
    hold = city_task.batch_hold(in_sent_batch=False)
    assert hold is not None and COUNTY.path in hold and "报送" in hold
    assert city_task.batch_hold(in_sent_batch=True) is None
    # the stages below the city wait for nothing
    assert [t.awaits_batch_from for t in case.tasks] == [None, None, COUNTY.path]


def test_市直各学校_a_city_run_school_has_no_county_and_waits_for_no_batch() -> None:
    """「各县（市、区）教育（教体）局，市直各学校」: the county stage is skipped, so nobody sends the form up."""
    case = _case_at_the_city(CITY_RUN_SCHOOL, [CITY, CITY_RUN_SCHOOL])
    city_task = case.open_task()
    assert city_task is not None and city_task.stage_key == "city_review"
    assert city_task.awaits_batch_from is None
    assert city_task.batch_hold(in_sent_batch=False) is None


def test_报送至市教育局_a_policy_without_the_key_waits_for_no_batch_and_the_first_stage_cannot_await_one() -> None:
    document = copy.deepcopy(JIAOZUO)
    del document["approval"]["stages"][2]["awaits_batch"]
    stages = resolve_stages(parse_policy(document), SCHOOL.path, {o.code: o for o in (CITY, COUNTY, SCHOOL)})
    assert [s.awaits_batch_from for s in stages] == [None, None, None]
    document["approval"]["stages"][0]["awaits_batch"] = True
    with pytest.raises(PolicySnapshotError, match=r"approval.stages\[0\].awaits_batch"):
        parse_policy(document)
    document["approval"]["stages"][0]["awaits_batch"] = "yes"
    with pytest.raises(PolicySnapshotError, match=r"approval.stages\[0\].awaits_batch"):
        parse_policy(document)
