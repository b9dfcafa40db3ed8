"""The seeds' rules that nominations keeps, each test named after the document's phrase."""

from __future__ import annotations

import datetime as dt

from nominations.adapters.policies import PolicyCatalog
from nominations.domain.form_sheet import build_sheet, stage_decisions

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
