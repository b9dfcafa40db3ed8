"""The seeds' rules of the CIO's life that approvals keeps, each test named after the document's phrase."""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from typing import Any

import pytest
from approvals.adapters.policy_snapshot import PolicySnapshotError, parse_policy
from approvals.domain.filings import ChangeFiling
from approvals.domain.model import (
    Appointment,
    DomainError,
    Nominee,
    OrgNode,
    ReviewCase,
    StateConflict,
    UnknownOrg,
    resolve_stages,
)
from approvals.domain.terms import TermRecord, consecutive_terms_before

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


# -- 免聘 and 换届: the normal ends of an appointment, apart from 取消任命 ---------------------------------
HELAN = policy_document("helan-2024")
YICHUN = policy_document("yichun-university")
SCHOOL_PATH = "/640122/6401220001"


def appointment(
    person: str = "u1", starts_on: dt.date = dt.date(2024, 9, 1), snapshot: dict[str, Any] = HELAN
) -> Appointment:
    policy = parse_policy(snapshot)
    return Appointment(
        person_user_id=person, person_name=person, org_code="6401220001", org_path=SCHOOL_PATH, term_number=1,
        starts_on=starts_on, term=policy.term, training_requirement=policy.training_requirement,
        document_number="贺教体发〔2024〕1号", round_id=None, nomination_id=None, case_id=None, policy=snapshot,
        policy_id=policy.id, appointing_role="county_reviewer", appointing_org_path="/640122", at=AT,
    )  # fmt: skip


def test_免聘_a_cio_who_retires_ends_with_the_reason_and_no_sanction() -> None:
    cio = appointment()
    cio.events.clear()
    cio.dismiss("retired", "到龄退休", "county", AT, dt.date(2025, 6, 30))
    assert (cio.status, cio.ended_on, cio.end_reason, cio.revoked_reason) == (
        "ended",
        dt.date(2025, 6, 30),
        "retired",
        None,
    )
    [ended] = cio.events
    assert ended.event_type == "approvals.appointment.ended"
    assert (ended.reason, ended.reason_zh, ended.ended_by, ended.note) == ("retired", "退休", "county", "到龄退休")
    with pytest.raises(StateConflict):
        cio.dismiss("left_school", None, "county", AT)


def test_免聘_names_one_of_the_normal_reasons_and_cannot_end_before_the_start() -> None:
    cio = appointment()
    with pytest.raises(DomainError) as unknown:
        cio.dismiss("misconduct", None, "county", AT)  # a sanction is 取消任命, not 免聘
    assert unknown.value.field == "reason"
    with pytest.raises(DomainError) as early:
        cio.dismiss("reassigned", None, "county", AT, dt.date(2024, 8, 31))
    assert early.value.field == "ended_on" and cio.status == "active"


def test_换届_the_new_cio_ends_the_old_appointment_the_day_before_the_new_term_starts() -> None:
    old, new = appointment("u1"), appointment("u2", dt.date(2026, 3, 1))
    old.events.clear()
    old.hand_over(new, "county", AT)
    assert (old.status, old.ended_on, old.end_reason) == ("ended", dt.date(2026, 2, 28), "succeeded")
    [ended] = old.events
    assert (ended.reason_zh, ended.successor_appointment_id) == ("换届", str(new.id))


def test_连聘_the_same_person_again_renews_without_ending_their_cio_role() -> None:
    old, again = appointment("u1"), appointment("u1", dt.date(2027, 9, 1))
    old.events.clear()
    old.hand_over(again, "party", AT)
    assert (old.status, old.ended_on, old.events) == ("renewed", dt.date(2027, 8, 31), [])


# -- 宜春学院 「任期3年，可连聘连任，连任不超过2届」 ------------------------------------------------------------
def term(start: str, last: str | None, revoked: bool = False) -> TermRecord:
    return TermRecord(dt.date.fromisoformat(start), dt.date.fromisoformat(last) if last else None, revoked)


def test_连任不超过2届_consecutive_terms_are_counted_across_rounds() -> None:
    history = [term("2018-09-01", "2021-08-31"), term("2021-09-01", "2024-08-31")]
    assert consecutive_terms_before(history, dt.date(2024, 9, 1)) == 2  # a third in a row would be term 3
    assert consecutive_terms_before(history[:1], dt.date(2021, 9, 1)) == 1
    # a successor approved before the running term is over: the running term counts
    assert consecutive_terms_before([term("2024-09-01", "2027-08-31")], dt.date(2027, 9, 1)) == 1
    assert consecutive_terms_before([term("2024-09-01", None)], dt.date(2026, 1, 1)) == 1


def test_连任不超过2届_a_gap_ends_the_run_so_two_old_terms_bar_no_one() -> None:
    history = [term("2012-09-01", "2015-08-31"), term("2015-09-01", "2018-08-31")]
    assert consecutive_terms_before(history, dt.date(2024, 9, 1)) == 0
    gap_between = [term("2015-09-01", "2018-08-31"), term("2019-09-01", "2022-08-31")]
    assert consecutive_terms_before(gap_between, dt.date(2022, 9, 1)) == 1


def test_连任不超过2届_a_revoked_term_ends_the_run() -> None:
    history = [term("2018-09-01", "2021-08-31"), term("2021-09-01", "2022-03-01", revoked=True)]
    assert consecutive_terms_before(history, dt.date(2022, 3, 2)) == 0


def test_连聘_under_yichun_is_a_new_nomination_not_a_single_renewal() -> None:
    policy = parse_policy(YICHUN)
    assert policy.term.renewal_by_nomination and policy.term.max_consecutive_terms == 2
    assert not parse_policy(HELAN).term.renewal_by_nomination


# -- 贺兰县 「任期中若有变更，需要重新向主管教育行政部门报备」 -------------------------------------------------
def test_任期中若有变更_a_filing_names_what_changed_and_the_bureau_acknowledges_or_rejects() -> None:
    cio = appointment()
    with pytest.raises(DomainError) as unnamed:
        ChangeFiling(cio, "something", AT)
    assert unnamed.value.field == "kind"
    post = ChangeFiling(cio, "post", AT)
    post.file(cio, change="任副校长", details={"position": "副校长"}, new_person_user_id=None,
              new_person_name=None, effective_on=None, by="school", at=AT)  # fmt: skip
    assert post.status == "filed" and cio.events[-1].event_type == "approvals.appointment.filed"
    with pytest.raises(DomainError) as bare_rejection:
        post.decide(cio, "reject", opinion=None, document_number=None, by="county", at=AT)
    assert bare_rejection.value.field == "opinion"
    post.decide(cio, "reject", opinion="请附任职文件", document_number=None, by="county", at=AT)
    assert post.status == "rejected" and post.events[-1].decision == "reject"
    with pytest.raises(StateConflict):
        post.decide(cio, "acknowledge", opinion=None, document_number=None, by="county", at=AT)


def test_任期中若有变更_a_change_of_person_names_the_new_cio_and_needs_the_bureaus_document() -> None:
    cio = appointment()
    person = ChangeFiling(cio, "person", AT)
    with pytest.raises(DomainError) as nobody:
        person.file(cio, change="原首席信息官调离", details=None, new_person_user_id=None, new_person_name=None,
                    effective_on=None, by="school", at=AT)  # fmt: skip
    assert nobody.value.field == "new_person_user_id"
    person.file(cio, change="原首席信息官调离", details=None, new_person_user_id="u2", new_person_name="李四",
                effective_on=dt.date(2025, 3, 1), by="school", at=AT)  # fmt: skip
    with pytest.raises(DomainError) as undocumented:
        person.decide(cio, "acknowledge", opinion=None, document_number=None, by="county", at=AT)
    assert undocumented.value.field == "document_number"
    person.decide(cio, "acknowledge", opinion="同意备案", document_number="贺教体发〔2025〕3号", by="county", at=AT)
    assert person.changes_person


def test_任期中若有变更_a_cio_who_left_the_school_leaves_a_filing_owed() -> None:
    cio = appointment()
    owed = ChangeFiling.owed(cio, "首席信息官已离开本校", AT)
    assert (owed.kind, owed.status) == ("person", "due")
    [due] = owed.events
    assert (due.event_type, due.org_path) == ("approvals.appointment.filing_due", SCHOOL_PATH)
