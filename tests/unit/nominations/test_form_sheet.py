"""The printable form's layout and its opinion rows, from the policy and the nomination's history."""

from __future__ import annotations

import datetime as dt

from nominations.adapters.form_pdf import render_html
from nominations.adapters.policies import PolicyCatalog
from nominations.domain.form_sheet import Cell, SubTable, build_sheet, stage_decisions

CATALOG = PolicyCatalog.load()


def _review(stage: int, decision: str, outcome: str) -> dict[str, object]:
    return {
        "action": f"review_{outcome}",
        "at": dt.datetime(2022, 9, 20, tzinfo=dt.UTC),
        "details": {"stage_index": stage, "decision": decision, "opinion": f"stage {stage}"},
    }


def test_every_policy_lays_out_its_fields_in_seven_columns_with_the_photo() -> None:
    for policy in CATALOG.all():
        sheet = build_sheet(policy, form={}, filled_on=None, signer=None, decisions={}, seal_names={}, masked=False)
        labels = [c.text for row in sheet.rows for c in row.cells if isinstance(c, Cell) and c.label]
        assert labels == [f["label_zh"] for f in policy.document["form"]["fields"]], policy.id
        for i, row in enumerate(sheet.rows):
            width = sum(c.colspan for c in row.cells) + (1 if i < sheet.rows[0].photo_rowspan else 0)
            assert width == 7, (policy.id, i)
        assert [o.label for o in sheet.opinions] == [s.name for s in policy.stages]
        assert all(o.text == "" and o.date == "年　　月　　日" for o in sheet.opinions)


def test_honours_are_a_sub_table_and_values_are_escaped() -> None:
    policy = CATALOG.get("jiaozuo-2022")
    assert policy is not None
    form = {
        "name": "<b>张三</b>",
        "post_kind": "deputy",
        "leadership_authorization": True,
        "honours": [{"award_name": "市级优秀教师", "awarded_on": "2021-09-10", "granted_by": "焦作市教育局"}],
    }
    sheet = build_sheet(policy, form=form, filled_on=None, signer="张三", decisions={}, seal_names={}, masked=False)
    (honours,) = [c for row in sheet.rows for c in row.cells if isinstance(c, SubTable)]
    assert honours.header == ("获奖名称", "获奖时间", "授予单位", "备注")
    assert honours.rows == (("市级优秀教师", "2021-09-10", "焦作市教育局", ""),)
    values = {c.text for row in sheet.rows for c in row.cells if isinstance(c, Cell)}
    assert {"单位副职领导（经班子研究授权）", "是"} <= values
    html = render_html(sheet, None)
    assert "&lt;b&gt;张三&lt;/b&gt;" in html and "<b>张三" not in html


def test_a_resubmission_clears_the_decisions_from_the_returning_stage_on() -> None:
    jiaozuo, helan = CATALOG.get("jiaozuo-2022"), CATALOG.get("helan-2024")
    assert jiaozuo is not None and helan is not None
    history = [
        {"action": "submitted", "details": {}},
        _review(0, "approve", "in_review"),
        _review(1, "return", "returned"),
        {"action": "resubmitted", "details": {}},
        _review(1, "approve", "in_review"),
    ]
    assert sorted(stage_decisions(jiaozuo, history)) == [0, 1]  # re-enters at the returning stage
    assert sorted(stage_decisions(helan, history)) == [1]  # re-enters at the first stage
    decided = stage_decisions(jiaozuo, history)
    sheet = build_sheet(
        jiaozuo, form={}, filled_on=None, signer=None, decisions=decided, seal_names={"school": "某小学"}, masked=False
    )
    assert sheet.opinions[0].text == "同意。stage 0" and sheet.opinions[0].seal == "某小学"
    assert sheet.opinions[1].date == "2022 年 9 月 20 日" and sheet.opinions[2].text == ""
