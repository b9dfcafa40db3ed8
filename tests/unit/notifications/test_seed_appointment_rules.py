"""Whom the ends of an appointment and 变更报备 reach, and what they read (issue 17, items 3 and 4)."""

from __future__ import annotations

import pytest
from notifications.adapters.templates import Templates
from notifications.bootstrap import load_rules
from notifications.domain.rules import resolve

from tests.unit.notifications.test_rules import DIRECTORY

SCHOOL = "/4108/410802/4108020001"


@pytest.fixture(scope="module")
def templates() -> Templates:
    return Templates.load()


def test_免聘_the_person_and_the_school_read_why_the_appointment_ended_no_sanction(templates: Templates) -> None:
    (rule,) = load_rules(templates).for_event("approvals.appointment.ended")
    data = {"person_user_id": "cio-1", "org_path": SCHOOL, "ended_on": "2025-02-28"}
    assert resolve(rule, {**data, "reason": "retired"}, DIRECTORY) == ["cio-1", "school-1"]
    retired = templates.render(
        "appointment_ended", "zh-CN", "in_app", {**data, "reason": "retired", "reason_zh": "退休", "note": "到龄退休"}
    )
    assert (retired.subject, retired.body) == (
        "首席信息官退休",
        "首席信息官任期已于 2025-02-28 结束（退休：到龄退休）。",
    )
    expired = templates.render(
        "appointment_ended", "zh-CN", "in_app", {**data, "reason": "term_expired", "reason_zh": "任期届满"}
    )
    assert expired.subject == "首席信息官任期结束"
    assert not load_rules(templates).kinds["appointment_ended"].mandatory  # 取消任命 is the mandatory one


def test_任期中若有变更_the_school_is_told_it_owes_a_filing_and_how_the_bureau_decided(templates: Templates) -> None:
    book = load_rules(templates)
    (due,) = book.for_event("approvals.appointment.filing_due")
    data = {"org_path": SCHOOL, "person_name": "马明", "reason": "首席信息官已离开本校"}
    assert resolve(due, data, DIRECTORY) == ["school-1"]
    owed = templates.render("appointment_filing_due", "zh-CN", "in_app", data)
    assert "需要重新向主管教育行政部门报备" in owed.body and owed.subject.endswith("马明")
    (decided,) = book.for_event("approvals.appointment.filing_decided")
    answer = {"org_path": SCHOOL, "decision": "reject", "opinion": "号码有误", "change": "联系电话变更"}
    assert resolve(decided, answer, DIRECTORY) == ["school-1"]
    assert (
        templates.render("appointment_filing_decided", "zh-CN", "in_app", answer).body
        == "变更报备“联系电话变更”未通过：号码有误。"
    )
