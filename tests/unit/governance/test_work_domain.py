"""The rules of 月调度, network security work and Yichun's committee and liaisons, without a database."""

from __future__ import annotations

import datetime as dt

import pytest
from governance.domain.committee import (
    Committee,
    CommitteeMeeting,
    Member,
    Position,
    Semester,
    Term,
    liaison_coverage,
    standings,
)
from governance.domain.model import DomainError, OrgNode, StateConflict
from governance.domain.scheduling import (
    ActionItemInput,
    ProgressReport,
    ProjectProgress,
    ReminderKind,
    ReportContent,
    SchedulingMeeting,
    TargetProgress,
    deadline_of,
    previous_month,
    reminder_due,
    reporting_overview,
)
from governance.domain.security import CheckKind, EmergencyPlan, FindingInput, SecurityCheck, Severity

AT = dt.datetime(2026, 3, 20, 8, tzinfo=dt.UTC)
HBW = OrgNode("150302", "海勃湾区教育局", "county", "/1503/150302")
HN = OrgNode("150303", "海南区教育局", "county", "/1503/150303")
SCHOOL = OrgNode("1503020001", "海勃湾区第一中学", "school", "/1503/150302/1503020001")
YICHUN = OrgNode("10417", "宜春学院", "university", "/10417")


def _content(**overrides: object) -> ReportContent:
    values: dict[str, object] = {
        "projects": [ProjectProgress("智慧校园", 40)],
        "targets": [TargetProgress("smart_campus_share", "智慧校园学校占比", 0.6, 0.45)],
        "overall": "按计划推进",
        **overrides,
    }
    return ReportContent(**values)  # type: ignore[arg-type]


# -- 月调度 ------------------------------------------------------------------------------------------
def test_月调度_the_deadline_is_the_due_day_of_the_month_or_its_last_day() -> None:
    assert deadline_of("2026-03", 25) == dt.date(2026, 3, 25)
    assert deadline_of("2026-02", 31) == dt.date(2026, 2, 28)
    assert previous_month("2026-01") == "2025-12"
    with pytest.raises(DomainError) as refused:
        deadline_of("2026-13", 25)
    assert refused.value.field == "month"


def test_a_month_of_year_0000_is_refused_as_no_month() -> None:
    """The pattern YYYY-MM lets 0000 through; no calendar has that year (the fuzzer's GET overview?month=0000-01)."""
    with pytest.raises(DomainError) as refused:
        deadline_of("0000-01", 25)
    assert refused.value.field == "month"


def test_a_reminder_is_due_from_some_days_before_the_deadline_and_after_it() -> None:
    assert reminder_due("2026-03", dt.date(2026, 3, 21), 25, 3) is None
    assert reminder_due("2026-03", dt.date(2026, 3, 22), 25, 3) is ReminderKind.BEFORE
    assert reminder_due("2026-03", dt.date(2026, 3, 25), 25, 3) is ReminderKind.BEFORE
    assert reminder_due("2026-03", dt.date(2026, 3, 26), 25, 3) is ReminderKind.AFTER


def test_a_report_after_the_deadline_is_late_and_a_correction_keeps_it_late() -> None:
    late = ProgressReport(
        district=HN, month="2026-03", content=_content(), deadline=dt.date(2026, 3, 25), by="hn", at=AT.replace(day=27)
    )
    assert late.late is True and late.targets[0]["met"] is False
    late.revise(_content(overall="已完成补报"), AT.replace(day=28))
    assert late.late is True and late.overall == "已完成补报"


def test_a_report_names_the_project_whose_progress_is_not_a_percentage() -> None:
    with pytest.raises(DomainError) as refused:
        ProgressReport(
            district=HBW,
            month="2026-03",
            content=_content(projects=[ProjectProgress("智慧校园", 120)]),
            deadline=dt.date(2026, 3, 25),
            by="hbw",
            at=AT,
        )
    assert refused.value.field == "projects.0.progress_percent"


def test_the_overview_shows_who_has_not_reported_and_the_reminders_sent() -> None:
    report = ProgressReport(
        district=HBW, month="2026-03", content=_content(), deadline=dt.date(2026, 3, 25), by="hbw", at=AT
    )
    lines = reporting_overview(
        [HN, HBW], [report], {"150303": ["after", "before"]}, dt.date(2026, 3, 25), dt.date(2026, 3, 26)
    )
    assert [(x.district_code, x.reported, x.overdue, x.reminders) for x in lines] == [
        ("150302", True, False, []),
        ("150303", False, True, ["before", "after"]),
    ]


def test_调度会议_action_items_are_done_once_and_not_before_the_meeting() -> None:
    meeting = SchedulingMeeting(
        org=OrgNode("1503", "乌海市教育局", "city", "/1503"),
        held_on=dt.date(2026, 3, 28),
        title="3月调度会",
        attendees=["市教育局", "海南区教育局"],
        minutes="海南区说明迟报原因",
        decisions=["海南区按月报送"],
        action_items=[ActionItemInput("补报月调度表", "海南区教育局", dt.date(2026, 4, 3))],
        by="city",
        at=AT,
    )
    item = meeting.action_items[0]["id"]
    assert [i["id"] for i in meeting.overdue_items(dt.date(2026, 4, 4))] == [item]
    with pytest.raises(DomainError):
        meeting.complete(item, dt.date(2026, 3, 27), None)
    meeting.complete(item, dt.date(2026, 4, 1), "已补报")
    assert meeting.open_items() == []
    with pytest.raises(StateConflict):
        meeting.complete(item, dt.date(2026, 4, 2), None)


# -- network security work ---------------------------------------------------------------------------
def test_网络安全检查_a_finding_is_rectified_with_evidence_and_the_check_is_done() -> None:
    check = SecurityCheck(
        unit=SCHOOL,
        kind=CheckKind.INSPECTION,
        held_on=dt.date(2026, 3, 1),
        title="2026年网络安全检查",
        summary=None,
        findings=[FindingInput("弱口令", Severity.HIGH, "修改口令", dt.date(2026, 3, 15))],
        by="hbw",
        at=AT,
    )
    finding = check.findings[0]["id"]
    assert not check.done and [f["id"] for f in check.overdue_findings(dt.date(2026, 3, 16))] == [finding]
    with pytest.raises(DomainError) as refused:
        check.rectify(finding, dt.date(2026, 3, 10), [])
    assert refused.value.field == "evidence"
    check.rectify(finding, dt.date(2026, 3, 10), [{"name": "整改报告", "url": "https://files.example.cn/r.pdf"}])
    assert check.done


def test_a_rectification_is_due_after_the_check() -> None:
    with pytest.raises(DomainError) as refused:
        SecurityCheck(
            unit=SCHOOL,
            kind=CheckKind.DRILL,
            held_on=dt.date(2026, 3, 1),
            title="应急演练",
            summary=None,
            findings=[FindingInput("响应超时", Severity.MEDIUM, "完善预案", dt.date(2026, 2, 1))],
            by="hbw",
            at=AT,
        )
    assert refused.value.field == "findings.0.due_on"


def test_应急处置预案_not_reviewed_within_the_interval_is_stale() -> None:
    plan = EmergencyPlan(
        unit=SCHOOL,
        title="网络安全事件应急处置预案",
        document_url="https://files.example.cn/p.pdf",
        last_reviewed_on=dt.date(2025, 3, 1),
        by="s",
        at=AT,
    )
    assert plan.stale(dt.date(2026, 3, 20), 365) is True
    assert plan.stale(dt.date(2026, 2, 28), 365) is False


# -- Yichun's committee and liaisons -----------------------------------------------------------------
def test_cio应担任副主任委员_the_cio_sits_as_deputy_director() -> None:
    members = [Member("校长", Position.DIRECTOR), Member("CIO", Position.MEMBER, is_cio=True)]
    with pytest.raises(DomainError) as refused:
        Committee(org=YICHUN, name="网络安全和信息化委员会", members=members, by="p", at=AT)
    assert refused.value.field == "members.1.position"
    with pytest.raises(DomainError):
        Committee(org=YICHUN, name="网络安全和信息化委员会", members=members[:1], by="p", at=AT)
    members[1] = Member("CIO", Position.DEPUTY_DIRECTOR, is_cio=True)
    assert Committee(org=YICHUN, name="网络安全和信息化委员会", members=members, by="p", at=AT).members[1]["is_cio"]


def test_semesters_run_september_to_january_and_february_to_august() -> None:
    assert Semester.of(dt.date(2026, 1, 31)) == Semester(2025, Term.AUTUMN)
    assert Semester.of(dt.date(2026, 2, 1)) == Semester(2026, Term.SPRING)
    assert Semester.of(dt.date(2026, 9, 1)).key == "2026-autumn"
    assert Semester(2026, Term.SPRING).previous() == Semester(2025, Term.AUTUMN)
    assert Semester.parse("2025-autumn").ends_on == dt.date(2026, 1, 31)


def test_每学期至少召开1次_a_semester_that_ended_without_a_meeting_is_flagged() -> None:
    meeting = CommitteeMeeting(
        org=YICHUN,
        held_on=dt.date(2025, 10, 10),
        convened_by="CIO",
        attendees=["校长", "CIO"],
        minutes="审议网络安全工作",
        decisions=[],
        by="cio",
        at=AT,
    )
    lines = standings([meeting], 1, dt.date(2026, 9, 10))
    assert [(x.semester, x.held, x.ended, x.flagged) for x in lines] == [
        ("2026-autumn", 0, False, False),  # still running: not flagged yet
        ("2026-spring", 0, True, True),
        ("2025-autumn", 1, True, False),
        ("2025-spring", 0, True, True),
    ]
    assert not any(x.flagged for x in standings([], 0, dt.date(2026, 9, 10)))  # a policy asking for none


def test_形成会议纪要_a_committee_meeting_has_minutes() -> None:
    with pytest.raises(DomainError) as refused:
        CommitteeMeeting(
            org=YICHUN,
            held_on=dt.date(2026, 3, 1),
            convened_by="CIO",
            attendees=["CIO"],
            minutes=" ",
            decisions=[],
            by="cio",
            at=AT,
        )
    assert refused.value.field == "minutes"


def test_各部门指定1名信息化联络员_departments_without_a_liaison_are_lacking() -> None:
    departments = [
        OrgNode("10417-IT", "现代教育技术与信息中心", "department", "/10417/10417-IT"),
        OrgNode("10417-ACA", "教务处", "department", "/10417/10417-ACA"),
    ]
    lines = liaison_coverage(departments, {"/10417/10417-ACA": ["u1"], "/10417": ["u2"]}, 1)
    assert [(x.org_code, x.liaisons, x.lacking) for x in lines] == [
        ("10417-ACA", ["u1"], False),
        ("10417-IT", [], True),
    ]
