"""Governance through the gateway: 月调度 (「市教育局对各区教育信息化建设工作进行月调度」) with one district
late, reminded once before and once after the deadline; and 宜春学院's 网络安全和信息化委员会 (第十七条
「每学期至少召开1次…由CIO召集」) and its 信息化联络员 (第十六条 「各部门和教学院指定1名负责人作为本部门信息化联络员」).

The worker's check runs as the operator command does (`governance check --today`), which is how these tests move
the calendar: the deadline and the semester are the days given to it, the stack's processes keep the real clock."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from typing import Any

import pytest
from governance.domain.committee import Semester, Term
from governance.domain.scheduling import deadline_of, month_of

from shared import clock
from tests.e2e.conftest import ROOT, Stack
from tests.e2e.test_policies_e2e import Client, account, new_user, open_round, poll, tag

pytestmark = pytest.mark.e2e

DUE_DAY = 25  # GOVERNANCE_REPORT_DUE_DAY's default, the stack's setting
REMINDER_DAYS = 3


def governance_check(stack: Stack, day: dt.date) -> str:
    """One run of the worker's check for `day`, as an operator runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "governance.entrypoints.cli", "check", "--today", day.isoformat()],
        env=stack.envs["governance"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def inbox(client: Client, kind: str, needle: str) -> list[dict[str, Any]]:
    items = client.call("GET", "/api/inbox", params={"limit": 100}).json()["items"]
    return [m for m in items if m["kind"] == kind and needle in m["subject"] + m["body"]]


def _report(district: str, month: str) -> dict[str, Any]:
    return {
        "district_code": district,
        "month": month,
        "projects": [{"name": "解放区智慧校园建设项目", "progress_percent": 35, "note": "完成招标"}],
        "targets": [{"code": "smart_campus_share", "name": "智慧校园学校占比", "target": 0.6, "actual": 0.42}],
        "overall": "按计划推进",
    }


def test_a_months_reports_with_one_district_late_reminded_once_before_and_once_after_the_deadline(
    stack: Stack,
) -> None:
    city, jiefang, xiuwu = (
        Client(stack, "city.reviewer"),
        Client(stack, "county.reviewer"),
        Client(stack, "county2.reviewer"),
    )
    # a month whose deadline is still ahead, so the report sent now is on time
    month = month_of(clock.today() + dt.timedelta(days=40))
    deadline = deadline_of(month, DUE_DAY)
    sent = jiefang.call("POST", "/api/progress-reports", 201, json=_report("410802", month)).json()
    assert sent["late"] is False and sent["deadline"] == deadline.isoformat()
    # 修武县 does not report: the worker's check reminds it before the deadline and after it, once each
    for day in (deadline - dt.timedelta(days=REMINDER_DAYS + 1), deadline - dt.timedelta(days=2)):
        governance_check(stack, day)
        governance_check(stack, day)
    before = poll(lambda: inbox(xiuwu, "report_reminder", month), "修武县's reminder before the deadline")
    governance_check(stack, deadline + dt.timedelta(days=1))
    governance_check(stack, deadline + dt.timedelta(days=3))
    poll(lambda: len(inbox(xiuwu, "report_reminder", month)) == 2 or None, "修武县's reminder after the deadline")
    time.sleep(2)  # anything more would have arrived by now
    reminders = inbox(xiuwu, "report_reminder", month)
    assert len(before) == 1 and len(reminders) == 2
    assert sum("催报" in m["subject"] or "Overdue" in m["subject"] for m in reminders) == 1  # one after the deadline
    assert inbox(jiefang, "report_reminder", month) == []  # 解放区 reported: never reminded
    overview = city.call("GET", "/api/progress-reports/overview", params={"month": month}).json()
    lines = {d["district_code"]: d for d in overview["districts"]}
    assert lines["410802"]["reported"] is True and lines["410802"]["late"] is False
    assert lines["410802"]["reminders"] == []
    assert lines["410821"]["reported"] is False and lines["410821"]["reminders"] == ["before", "after"]
    assert "410821" in overview["missing"] and "410802" not in overview["missing"]
    assert all(d["district_path"].startswith("/4108/") for d in overview["districts"])
    # one district does not read another's report
    jiefang_report = f"/api/progress-reports/{sent['id']}"
    xiuwu.call("GET", jiefang_report, 404)
    city.call("GET", jiefang_report, 200)


def test_a_yichun_semester_without_a_committee_meeting_is_flagged_then_cleared_and_departments_without_a_liaison_listed(
    stack: Stack,
) -> None:
    admin, president = Client(stack, "admin"), Client(stack, "president")
    cio = account(stack, admin, "cio", "10417", "宜春学院首席信息官")
    # the university's policy (yichun-university.yaml: committee_meetings_per_semester 1, liaison_per_department 1)
    # reaches governance with the round its president opens
    open_round(president, "yichun-university", "10417", f"宜春学院CIO聘任-{tag()}")
    poll(
        lambda: cio.call("GET", "/api/committees/10417").json()["meetings_per_semester"] == 1 or None,
        "governance knows 宜春学院's policy keys",
    )
    members = [
        {"name": "宜春学院校长", "position": "director", "title": "校长"},
        {"name": "宜春学院首席信息官", "position": "deputy_director", "is_cio": True},
        {"name": "网络安全与信息化工作办公室主任", "position": "secretary"},
    ]
    president.call(
        "PUT", "/api/committees/10417", 201, json={"name": "宜春学院网络安全和信息化委员会", "members": members}
    )

    # A semester ended without a meeting: flagged once, the CIO told. The check runs as of the first day of the
    # semester before this one, so the semester it flags is the one before that, which no other check on the shared
    # stack reaches: the worker's timer (today) and the month's reports above (days after today) flag the semester
    # just ended, for every university whose policy an earlier test's round brought, and a CIO granted after that
    # flag is not told of it again.
    day = Semester.of(clock.today()).previous().starts_on
    ended = Semester.of(day).previous()
    governance_check(stack, day)
    governance_check(stack, day)
    named = f"{ended.year}年{'秋季' if ended.term is Term.AUTUMN else '春季'}学期"  # the semester in words
    told = poll(lambda: inbox(cio, "committee_meeting_missed", named), "the CIO told of the semester")
    time.sleep(2)
    assert len(told) == 1 and len(inbox(cio, "committee_meeting_missed", named)) == 1

    def standing() -> dict[str, Any]:
        semesters = cio.call("GET", "/api/committees/10417").json()["semesters"]
        return dict(next(s for s in semesters if s["semester"] == ended.key))

    assert standing()["flagged"] is True and standing()["flagged_at"] is not None
    # the meeting held that semester, recorded with its minutes, clears the flag
    meeting = {
        "held_on": ended.ends_on.isoformat(),
        "convened_by": "宜春学院首席信息官",
        "attendees": ["宜春学院校长", "宜春学院首席信息官"],
        "minutes": "审议学校网络安全和信息化工作",
        "decisions": ["通过年度网络安全工作计划"],
    }
    recorded = cio.call("POST", "/api/committees/10417/meetings", 201, json=meeting).json()
    assert recorded["semester"] == ended.key
    cleared = standing()
    assert cleared["flagged"] is False and cleared["held"] == 1 and cleared["cleared_at"] is not None

    # 第十六条: the demo liaison holds `liaison` at the university, not at a department: every department lacks one
    coverage = cio.call("GET", "/api/committees/10417/liaisons").json()
    assert coverage["liaison_per_department"] == 1
    assert coverage["lacking"] == ["10417-ACA", "10417-IT", "10417-NET"]
    liaison = new_user(admin, "10417-ACA", "教务处信息化联络员")
    admin.call("POST", f"/api/users/{liaison['id']}/grants", 201, json={"role": "liaison", "org_code": "10417-ACA"})
    poll(
        lambda: (
            cio.call("GET", "/api/committees/10417/liaisons").json()["lacking"] == ["10417-IT", "10417-NET"] or None
        ),
        "教务处 covered by its liaison",
    )
    # another university's or city's accounts do not see the committee
    Client(stack, "city.reviewer").call("GET", "/api/committees/10417", 404)
