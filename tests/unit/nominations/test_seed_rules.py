"""The seeds' rules that nominations keeps, each test named after the document's phrase."""

from __future__ import annotations

import datetime as dt

from nominations.adapters.policies import PolicyCatalog
from nominations.domain.form_sheet import build_sheet, stage_decisions
from nominations.domain.terms import TermRecord, consecutive_terms_before, next_term_start

CATALOG = PolicyCatalog.load()


def test_市直各学校_the_city_opinion_of_a_city_run_school_stands_under_the_city_on_the_form() -> None:
    """A city-run school's case has two stages (unit, city): the city's decision is the case's stage 1,
    but on 焦作市首席教育信息官推荐表 it belongs under 市教育局审核意见, and the county line stays empty."""
    jiaozuo = CATALOG.get("jiaozuo-2022")
    assert jiaozuo is not None
    at = dt.datetime(2022, 9, 20, tzinfo=dt.UTC)
    history = [
        {
            "action": "review_in_review",
            "at": at,
            "details": {"stage_index": 0, "stage_key": "unit", "decision": "approve"},
        },
        {
            "action": "review_approved",
            "at": at,
            "details": {"stage_index": 1, "stage_key": "city_review", "decision": "approve", "opinion": "同意聘任"},
        },
    ]
    decided = stage_decisions(jiaozuo, history)
    assert sorted(decided) == [0, 2]
    sheet = build_sheet(jiaozuo, form={}, filled_on=None, signer=None, decisions=decided, seal_names={}, masked=False)
    assert [o.text for o in sheet.opinions] == ["同意", "", "同意。同意聘任"]


def test_职能部门负责人_yichun_takes_candidates_from_the_university_and_its_departments() -> None:
    """宜春学院 「职能部门负责人（如教务处、研究生院、信息化管理部门等）」 belong to department orgs under the
    university."""
    yichun, jiaozuo = CATALOG.get("yichun-university"), CATALOG.get("jiaozuo-2022")
    assert yichun is not None and jiaozuo is not None
    assert yichun.candidates_from_subtree and not jiaozuo.candidates_from_subtree
    assert yichun.admits_candidate_of("/10417/10417-ACA", "/10417")
    assert yichun.admits_candidate_of("/10417", "/10417")
    assert not yichun.admits_candidate_of("/104170", "/10417")  # a sibling whose code merely starts alike
    assert not yichun.admits_candidate_of("/4108/410802/4108020001", "/10417")
    assert not jiaozuo.admits_candidate_of("/4108/410802/4108020001/dept", "/4108/410802/4108020001")


def test_连任不超过2届_eligibility_counts_the_run_a_new_term_would_continue() -> None:
    """宜春学院 「任期3年，可连聘连任，连任不超过2届」: two terms in a row up to now bar a third; two terms that ended
    years ago do not; a term already renewed into the future still counts."""
    today = dt.date(2026, 12, 4)

    def run(*terms: tuple[str, str | None]) -> int:
        history = [TermRecord(dt.date.fromisoformat(a), dt.date.fromisoformat(b) if b else None) for a, b in terms]
        return consecutive_terms_before(history, next_term_start(history, today))

    assert run(("2021-09-01", "2024-08-31"), ("2024-09-01", "2027-08-31")) == 2
    assert run(("2024-09-01", "2027-08-31"), ("2027-09-01", "2030-08-31")) == 2  # the second begins later
    assert run(("2012-09-01", "2015-08-31"), ("2015-09-01", "2018-08-31")) == 0  # a gap since 2018
    assert run(("2024-09-01", "2027-08-31")) == 1
    revoked = [
        TermRecord(dt.date(2021, 9, 1), dt.date(2024, 8, 31)),
        TermRecord(dt.date(2024, 9, 1), dt.date(2025, 1, 1), True),
    ]
    assert consecutive_terms_before(revoked, next_term_start(revoked, today)) == 0
