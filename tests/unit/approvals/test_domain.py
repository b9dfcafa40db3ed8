"""The approvals rules without I/O: stage resolution, the chain, terms and their limit, the policy adapter."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import re
import uuid
from typing import Any

import pytest
from approvals.adapters.policy_snapshot import PolicySnapshotError, parse_policy
from approvals.domain.model import (
    APPROVED,
    IN_REVIEW,
    RETURNED,
    Appointment,
    DomainError,
    Nominee,
    OrgNode,
    ReviewCase,
    StateConflict,
    UnknownOrg,
    resolve_stages,
)
from approvals.domain.policy import RESUBMIT_FIRST, RESUBMIT_RETURNING, TermPolicy, term_dates

from tests.unit.approvals.nominations_events import policy_document

SNAPSHOT = policy_document("jiaozuo-2022")
ORGS = {
    "4108": OrgNode("4108", "焦作市教育局", "city", "/4108"),
    "410802": OrgNode("410802", "解放区教育局", "county", "/4108/410802"),
    "4108020001": OrgNode("4108020001", "一小", "school", "/4108/410802/4108020001"),
}
AT = dt.datetime(2022, 10, 1, tzinfo=dt.UTC)


def new_case() -> ReviewCase:
    policy = parse_policy(SNAPSHOT)
    nominee = Nominee(uuid.uuid4(), uuid.uuid4(), "4108020001", "/4108/410802/4108020001", "一小", "u1", "张三")
    return ReviewCase(nominee, policy, resolve_stages(policy, nominee.school_org_path, ORGS), AT)


def test_each_stage_acts_at_the_nearest_org_of_its_level_above_the_school() -> None:
    case = new_case()
    assert [(s["role"], s["org_code"]) for s in case.stages] == [
        ("school_admin", "4108020001"),
        ("county_reviewer", "410802"),
        ("city_reviewer", "4108"),
    ]
    assert case.tasks[0].due_at == AT + dt.timedelta(days=5)  # the unit's due_days in the policy


def test_a_missing_org_of_the_tree_is_reported_not_guessed() -> None:
    policy = parse_policy(SNAPSHOT)
    with pytest.raises(UnknownOrg):
        resolve_stages(policy, "/4108/410802/4108020001", {k: v for k, v in ORGS.items() if k != "410802"})


def test_the_chain_moves_one_stage_at_a_time_and_return_needs_an_opinion() -> None:
    case = new_case()
    first = case.tasks[0]
    assert (
        case.decide(first.id, "approve", opinion=None, seal=None, decided_by="a", on_behalf_of=None, at=AT) == IN_REVIEW
    )
    with pytest.raises(StateConflict):
        case.decide(first.id, "approve", opinion=None, seal=None, decided_by="a", on_behalf_of=None, at=AT)
    second = case.open_task()
    assert second is not None and second.stage_index == 1
    with pytest.raises(DomainError) as refused:
        case.decide(second.id, "return", opinion=" ", seal=None, decided_by="b", on_behalf_of=None, at=AT)
    assert refused.value.field == "opinion"
    assert (
        case.decide(second.id, "return", opinion="补充", seal=None, decided_by="b", on_behalf_of=None, at=AT)
        == RETURNED
    )
    assert case.resubmit(2, 1, AT) and case.open_task().stage_index == 1  # type: ignore[union-attr]
    assert not case.resubmit(2, 1, AT)  # the same resubmission again changes nothing
    third = case.open_task()
    assert third is not None
    case.decide(third.id, "approve", opinion=None, seal=None, decided_by="b", on_behalf_of=None, at=AT)
    last = case.open_task()
    assert last is not None
    assert (
        case.decide(last.id, "approve", opinion=None, seal=None, decided_by="c", on_behalf_of=None, at=AT) == APPROVED
    )


def appoint(snapshot: dict[str, Any]) -> Appointment:
    policy = parse_policy(snapshot)
    return Appointment(
        person_user_id="u1", person_name="张三", org_code="10417", org_path="/10417", term_number=1,
        starts_on=dt.date(2024, 9, 1), term=policy.term, training_requirement=policy.training_requirement,
        document_number="5号", round_id=None, nomination_id=None, case_id=None, policy=snapshot,
        policy_id=policy.id, appointing_role="party_committee", appointing_org_path="/10417", at=AT,
    )  # fmt: skip


def test_yichun_terms_end_the_day_before_the_anniversary_and_renewal_respects_the_limit() -> None:
    assert term_dates(dt.date(2024, 2, 29), 3) == (dt.date(2024, 2, 29), dt.date(2027, 2, 27))
    yichun = parse_policy(policy_document("yichun-university"))
    first = appoint(policy_document("yichun-university"))
    with pytest.raises(DomainError, match="连聘 goes through the whole chain again") as single_call:
        first.renew("9号", yichun.term, yichun.training_requirement, "p", AT)
    assert single_call.value.field == "policy" and first.status == "active"
    # the same limit on a policy whose appointing body renews by itself
    yichun = dataclasses.replace(yichun, term=dataclasses.replace(yichun.term, renewal_by_nomination=False))
    second = first.renew("9号", yichun.term, yichun.training_requirement, "p", AT)
    assert (second.term_number, second.starts_on, second.ends_on) == (2, dt.date(2027, 9, 1), dt.date(2030, 8, 31))
    assert first.status == "renewed" and second.events[0].event_type == "approvals.appointment.renewed"
    with pytest.raises(DomainError, match="at most 2 consecutive terms"):
        second.renew("1号", yichun.term, yichun.training_requirement, "p", AT)
    assert not second.end_if_due(dt.date(2030, 8, 31), AT)
    assert second.end_if_due(dt.date(2030, 9, 1), AT) and second.status == "ended"


def test_without_a_term_length_the_appointment_is_open_ended() -> None:
    jiaozuo = parse_policy(SNAPSHOT)
    assert jiaozuo.term == TermPolicy(length_years=None, max_consecutive_terms=None, renewable=True)
    assert term_dates(dt.date(2022, 11, 1), None) == (dt.date(2022, 11, 1), None)
    appointment = appoint(SNAPSHOT)
    assert appointment.ends_on is None
    assert appointment.events[0].payload()["ends_on"] is None
    assert appointment.events[0].payload()["training_requirement"] == {}
    assert not appointment.end_if_due(dt.date(2099, 1, 1), AT) and appointment.status == "active"
    with pytest.raises(DomainError, match="nothing to renew") as refused:
        appointment.renew("9号", jiaozuo.term, jiaozuo.training_requirement, "p", AT)
    assert refused.value.field == "ends_on" and appointment.status == "active"


def test_the_real_policies_parse_into_what_approvals_acts_on() -> None:
    jiaozuo = parse_policy(SNAPSHOT)
    assert [(s.key, s.name, s.role, s.org_level, s.due_days) for s in jiaozuo.stages] == [
        ("unit", "所在单位意见", "school_admin", "school", 5),
        ("county_review", "县（市、区）教育行政部门审核意见", "county_reviewer", "county", 10),
        ("city_review", "市教育局审核意见", "city_reviewer", "city", 10),
    ]
    assert jiaozuo.resubmit_reenters == RESUBMIT_RETURNING
    assert [(c.kind, c.every_years) for c in jiaozuo.evaluation.cadences] == [
        ("cio_annual", 1),
        ("school_biennial", 2),
    ]
    assert jiaozuo.evaluation.revoke_on_failed_rectification
    assert jiaozuo.evaluation.rectification_due_days == 90
    assert jiaozuo.evaluation.grades == ("优秀", "合格", "不合格")

    helan = parse_policy(policy_document("helan-2024"))
    assert helan.resubmit_reenters == RESUBMIT_FIRST
    assert (helan.term.length_years, helan.term.change_requires_refiling) == (3, True)
    assert helan.training_requirement == {"centralized_per_year": 1}
    assert not helan.evaluation.revoke_on_failed_rectification

    yichun = parse_policy(policy_document("yichun-university"))
    assert (yichun.term.length_years, yichun.term.max_consecutive_terms) == (3, 2)
    assert [s.key for s in yichun.stages] == ["president_nomination", "office_meeting", "party_committee"]
    assert yichun.evaluation.cadences == () and yichun.evaluation.on_unqualified is None


def test_unknown_keys_are_ignored_and_missing_ones_are_named() -> None:
    assert parse_policy({**SNAPSHOT, "something_new": {"x": 1}}).id == "jiaozuo-2022"

    def without(path: list[str | int]) -> dict[str, Any]:
        doc = copy.deepcopy(SNAPSHOT)
        target: Any = doc
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]
        return doc

    for path, named in [
        (["approval"], "approval is missing"),
        (["approval", "resubmission_reenters"], "approval.resubmission_reenters is missing"),
        (["approval", "stages", 1, "role"], "approval.stages[1].role is missing"),
        (["approval", "stages", 0, "name_zh"], "approval.stages[0].name_zh is missing"),
        (["term", "length_years"], "term.length_years is missing"),
        (["evaluation", "cadences"], "evaluation.cadences is missing"),
        (["training", "requirement"], "training.requirement is missing"),
    ]:
        with pytest.raises(PolicySnapshotError, match=re.escape(named)):
            parse_policy(without(path))
    with pytest.raises(PolicySnapshotError, match=re.escape("approval.stages is empty")):
        parse_policy({**SNAPSHOT, "approval": {"resubmission_reenters": "first_stage", "stages": []}})
    with pytest.raises(PolicySnapshotError, match="must be one of first_stage, returning_stage"):
        parse_policy({**SNAPSHOT, "approval": {**SNAPSHOT["approval"], "resubmission_reenters": "returning"}})
    with pytest.raises(PolicySnapshotError, match=re.escape("term.length_years must be a positive integer or null")):
        parse_policy({**SNAPSHOT, "term": {**SNAPSHOT["term"], "length_years": "3"}})
    with pytest.raises(PolicySnapshotError, match="no id"):
        parse_policy({"approval": {}})
