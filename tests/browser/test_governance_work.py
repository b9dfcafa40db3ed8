"""The governance pages of the recurring work in Chromium. 月调度 (「对各区教育信息化建设工作进行月调度」): one
district reports in the page, the other is reminded before and after the deadline. 宜春学院's 网络安全和信息化委员会
(第十七条 「每学期至少召开1次…由CIO召集，形成会议纪要」): a semester without a meeting is flagged, then cleared by
the meeting recorded in the page; its departments without a 信息化联络员 are listed (第十六条). A scheduling
meeting's action item is tracked to done; a self-check's finding is rectified; the unit's emergency plan is filed.

The worker's check runs as the operator command does (`governance check --today`), which is how the calendar moves.
Every page is checked with axe-core and photographed (artifacts/screenshots/governance-*.png).
"""

from __future__ import annotations

import datetime as dt
import uuid

from governance.domain.committee import Semester, Term
from governance.domain.scheduling import deadline_of, month_of
from playwright.sync_api import expect

from shared import clock
from tests.browser.test_bureau_appointments import settled
from tests.browser.test_governance_plans import pick_date
from tests.browser.test_review_chains import NewPage, Person, check, reviewer
from tests.e2e.conftest import Stack
from tests.e2e.test_governance_work_e2e import DUE_DAY, REMINDER_DAYS, governance_check
from tests.e2e.test_policies_e2e import Client, open_round, poll

YICHUN = "10417"  # 宜春学院
TERMS_ZH = {Term.SPRING: "春季", Term.AUTUMN: "秋季"}  # the portal names a semester 「2025年春季学期」, not 2025-spring


def test_a_month_of_reports_one_district_reporting_in_the_page_and_the_other_reminded(
    portal_stack: Stack, new_page: NewPage
) -> None:
    month = month_of(clock.today() + dt.timedelta(days=70))  # its deadline is ahead: a report sent now is on time
    deadline = deadline_of(month, DUE_DAY)
    district = Person(portal_stack, "county.reviewer")
    page = district.browse(new_page, "/governance/scheduling")
    box = page.locator("[data-test=month] input")
    box.click()
    box.fill(month)
    box.press("Enter")
    expect(box).to_have_value(month)
    box.press("Escape")
    card = page.locator("[data-test=report-card]")
    expect(card).to_contain_text(f"本区 {month} 月报")

    # An empty report is refused field by field, nothing sent.
    card.locator("[data-test=send-report]").click()
    expect(card).to_contain_text("请填写总体进展")
    expect(card).to_contain_text("第 1 个项目须填写名称")
    check(page, "governance-scheduling-refused")
    card.get_by_role("textbox", name="第 1 个项目名称").fill("解放区智慧校园建设项目")
    card.get_by_role("spinbutton", name="第 1 个项目完成百分比").fill("35")
    card.get_by_role("textbox", name="第 1 个项目说明").fill("完成招标")
    card.get_by_role("spinbutton", name="第 1 个目标值").fill("0.6")
    card.get_by_role("spinbutton", name="第 1 个目标实际值").fill("0.42")
    card.locator("[data-test=report-overall]").fill("按计划推进")
    card.locator("[data-test=send-report]").click()
    expect(page.get_by_text("月报已报送", exact=True)).to_be_visible()
    expect(card.locator("[data-test=my-report]")).to_contain_text("本月已按时报送")
    [sent] = district.api.call("GET", "/api/progress-reports", params={"month": month}).json()["items"]
    assert (sent["district_code"], sent["late"]) == ("410802", False)
    assert sent["projects"][0]["progress_percent"] == 35 and sent["targets"][0]["actual"] == 0.42
    check(page, "governance-scheduling-district")

    # 修武县 does not report: reminded once before the deadline and once after it.
    # (the reminder before comes within REMINDER_DAYS of the deadline, not earlier; each is sent once)
    for day in (
        deadline - dt.timedelta(days=REMINDER_DAYS + 1),
        deadline - dt.timedelta(days=2),
        deadline - dt.timedelta(days=1),
        deadline + dt.timedelta(days=1),
        deadline + dt.timedelta(days=2),
    ):
        governance_check(portal_stack, day)
    city = Person(portal_stack, "city.reviewer")
    city_page = city.browse(new_page, "/governance/scheduling")
    box = city_page.locator("[data-test=month] input")
    box.click()
    box.fill(month)
    box.press("Enter")
    box.press("Escape")
    overview = city_page.locator("[data-test=month-overview]")
    expect(overview).to_contain_text(f"截止日期 {deadline.isoformat()}")
    rows = overview.locator("[data-test=reporting-table] .el-table__row")
    jiefang, xiuwu = rows.filter(has_text="解放区"), rows.filter(has_text="修武县")
    expect(jiefang.locator("[data-test=state]")).to_have_text("按时报送")
    expect(jiefang).to_contain_text("按计划推进")
    expect(xiuwu.locator("[data-test=state]")).to_have_text("未报送")
    expect(xiuwu.locator("[data-test=reminders]")).to_have_text("截止前提醒、逾期催报")
    expect(overview.locator("[data-test=missing]")).to_be_visible()
    check(city_page, "governance-scheduling-city")


def test_a_yichun_semester_without_a_committee_meeting_is_flagged_then_cleared_and_departments_lacking_a_liaison(
    portal_stack: Stack, new_page: NewPage
) -> None:
    admin, president = Client(portal_stack, "admin"), Person(portal_stack, "president")
    cio = reviewer(portal_stack, admin, "cio", YICHUN, "宜春学院首席信息官")
    # the university's policy keys (committee_meetings_per_semester 1, liaison_per_department 1) reach governance
    # with a round of its policy
    if cio.api.call("GET", f"/api/committees/{YICHUN}").json()["meetings_per_semester"] != 1:
        open_round(president.api, "yichun-university", YICHUN, f"宜春学院CIO聘任-{uuid.uuid4().hex[:6]}")
    poll(
        lambda: cio.api.call("GET", f"/api/committees/{YICHUN}").json()["meetings_per_semester"] == 1 or None,
        "governance knows 宜春学院's policy keys",
    )

    # The president constitutes the committee in the page; a member without a name is refused.
    page = president.browse(new_page, "/governance/committee")
    expect(page.locator("[data-test=committee]")).to_contain_text("尚未组建委员会")
    page.locator("[data-test=edit-committee]").click()
    dialog = page.locator("[data-test=committee-dialog]")
    dialog.locator("[data-test=save-committee]").click()
    expect(dialog).to_contain_text("第 1 位成员须填写姓名")
    dialog.get_by_role("textbox", name="第 1 位成员姓名").fill("宜春学院校长")
    dialog.get_by_role("textbox", name="第 1 位成员本职").fill("校长")
    dialog.get_by_role("button", name="添加成员").click()
    dialog.get_by_role("textbox", name="第 2 位成员姓名").fill("宜春学院首席信息官")
    dialog.get_by_role("combobox", name="第 2 位成员职务").click(force=True)
    page.get_by_role("option", name="副主任委员").click()
    dialog.locator(".el-checkbox").nth(1).click()
    settled(page)
    check(page, "governance-committee-members")
    dialog.locator("[data-test=save-committee]").click()
    expect(page.get_by_text("委员会已保存")).to_be_visible()
    members = page.locator("[data-test=member-table] .el-table__row")
    expect(members).to_have_count(2)
    expect(members.nth(1)).to_contain_text("副主任委员")
    expect(members.nth(1)).to_contain_text("CIO")

    # The semester before this one ended without a meeting: the check flags it and the CIO sees it.
    ended = Semester.of(clock.today()).previous()
    label = f"{ended.year}年{TERMS_ZH[ended.term]}学期"
    governance_check(portal_stack, clock.today())
    cio_page = cio.browse(new_page, "/governance/committee")
    # (every recent semester that ended without one is flagged: the committee is new)
    flag = cio_page.locator("[data-test=semester-flag]", has_text=label)
    expect(flag).to_contain_text(f"{label}仅召开 0 次会议（要求 1 次）")
    expect(flag).to_contain_text("告知首席信息官")  # the check flagged it and told the CIO
    row = cio_page.locator("[data-test=semester-table] .el-table__row", has_text=label)
    expect(row.locator("[data-test=semester-state]")).to_have_text("未达要求")
    # 第十六条: the departments without their liaison.
    liaisons = cio_page.locator("[data-test=liaisons]")
    expect(liaisons.locator("[data-test=lacking]")).to_contain_text("3 个部门尚未指定信息化联络员")
    expect(liaisons.locator("[data-test=liaison-state]", has_text="未指定")).to_have_count(3)
    check(cio_page, "governance-committee-flagged")

    # The meeting held that semester, convened by the CIO with its minutes, clears the flag.
    cio_page.locator("[data-test=record-meeting]").click()
    meeting = cio_page.locator("[data-test=meeting-dialog]")
    meeting.locator("[data-test=save-meeting]").click()
    expect(meeting).to_contain_text("请选择会议日期")
    expect(meeting).to_contain_text("请填写会议纪要")
    pick_date(
        cio_page, meeting.locator("[data-test=meeting-date]"), ended.ends_on, leave=meeting.locator(".el-dialog__title")
    )
    meeting.locator("[data-test=meeting-attendees]").fill("宜春学院校长、宜春学院首席信息官")
    meeting.locator("[data-test=meeting-minutes]").fill("审议学校网络安全和信息化工作")
    meeting.locator("[data-test=meeting-decisions]").fill("通过年度网络安全工作计划")
    settled(cio_page)
    check(cio_page, "governance-committee-meeting")
    meeting.locator("[data-test=save-meeting]").click()
    expect(cio_page.get_by_text("会议已记录")).to_be_visible()
    expect(flag).to_have_count(0)
    expect(row.locator("[data-test=semester-state]")).to_have_text("已达要求")
    expect(cio_page.locator("[data-test=meetings]")).to_contain_text("审议学校网络安全和信息化工作")
    check(cio_page, "governance-committee")


def test_a_meetings_action_item_and_a_self_checks_finding_are_tracked_to_done(
    portal_stack: Stack, new_page: NewPage
) -> None:
    tag = uuid.uuid4().hex[:6].upper()
    today = clock.today()
    district = Person(portal_stack, "county.reviewer")
    page = district.browse(new_page, "/governance/meetings")
    page.locator("[data-test=new-meeting]").click()
    dialog = page.locator("[data-test=meeting-dialog]")
    dialog.locator("[data-test=save-meeting]").click()
    for message in ("请选择会议日期", "请填写会议名称", "请填写参会人员", "第 1 个工作事项须填写事项、责任人和期限"):
        expect(dialog).to_contain_text(message)
    title = f"解放区教育信息化调度会{tag}"
    pick_date(page, dialog.locator("[data-test=meeting-date]"), today, leave=dialog.locator(".el-dialog__title"))
    dialog.get_by_role("textbox", name="会议名称").fill(title)
    dialog.get_by_role("textbox", name="参会人员").fill("局长、信息中心主任")
    dialog.get_by_role("textbox", name="会议纪要").fill("通报各校智慧校园建设进度")
    dialog.get_by_role("textbox", name="第 1 个工作事项").fill(f"完成校园网改造{tag}")
    dialog.get_by_role("textbox", name="第 1 个事项责任人").fill("信息中心")
    item_due = dialog.locator(".el-date-editor input").nth(1)
    item_due.fill((today + dt.timedelta(days=30)).isoformat())
    item_due.press("Enter")
    dialog.locator(".el-dialog__title").click()
    settled(page)
    check(page, "governance-meeting-dialog")
    dialog.locator("[data-test=save-meeting]").click()
    expect(page.get_by_text("会议已记录")).to_be_visible()
    card = page.locator("[data-test=meeting]", has_text=title)
    card.locator("[data-test=complete-item]").click()
    done = page.locator("[data-test=done-dialog]")
    done_on = done.locator(".el-date-editor input")
    done_on.fill(today.isoformat())
    done_on.press("Enter")
    done.get_by_role("textbox", name="完成情况").fill("已完成验收")
    done.locator(".el-dialog__title").click()
    done.locator("[data-test=save-done]").click()
    expect(card.locator("[data-test=item-done]")).to_contain_text(f"{today.isoformat()} 完成")
    check(page, "governance-meetings")

    # The school's self-check with a finding, rectified with its evidence; its emergency plan filed.
    school = Person(portal_stack, "school.admin")
    page = school.browse(new_page, "/governance/security")
    page.locator("[data-test=new-check]").click()
    dialog = page.locator("[data-test=check-dialog]")
    check_title = f"网络安全自查{tag}"
    pick_date(page, dialog.locator("[data-test=check-date]"), today, leave=dialog.locator(".el-dialog__title"))
    dialog.locator("[data-test=check-title]").fill(check_title)
    dialog.locator("[data-test=save-check]").click()
    expect(dialog).to_contain_text("第 1 个问题须填写问题、整改要求和期限")
    dialog.get_by_role("textbox", name="第 1 个问题", exact=True).fill("网络日志仅留存3个月")
    dialog.get_by_role("textbox", name="第 1 个问题整改要求").fill("日志留存不少于6个月")
    finding_due = dialog.locator(".el-date-editor input").nth(1)
    finding_due.fill((today + dt.timedelta(days=30)).isoformat())
    finding_due.press("Enter")
    dialog.locator(".el-dialog__title").click()
    settled(page)
    check(page, "governance-security-check")
    dialog.locator("[data-test=save-check]").click()
    expect(page.get_by_text("检查已记录")).to_be_visible()
    recorded = page.locator("[data-test=check]", has_text=check_title)
    expect(recorded.locator("[data-test=check-state]")).to_have_text("整改中")
    recorded.locator("[data-test=rectify]").click()
    rectify = page.locator("[data-test=rectify-dialog]")
    rectify.locator("[data-test=save-rectification]").click()
    expect(rectify).to_contain_text("请选择整改完成日期并提供材料名称和以 http(s):// 开头的地址")
    rectified_on = rectify.locator(".el-date-editor input")
    rectified_on.fill(today.isoformat())
    rectified_on.press("Enter")
    rectify.locator(".el-dialog__title").click()
    rectify.get_by_role("textbox", name="材料名称").fill("日志策略截图.png")
    rectify.get_by_role("textbox", name="材料地址").fill("https://files.example.cn/log-policy.png")
    rectify.locator("[data-test=save-rectification]").click()
    expect(recorded.locator("[data-test=check-state]")).to_have_text("已全部整改")
    expect(recorded.locator("[data-test=finding-done]")).to_contain_text("日志策略截图.png")
    page.locator("[data-test=edit-plan]").click()
    plan = page.locator("[data-test=plan-dialog]")
    plan.get_by_role("textbox", name="预案名称").fill("网络安全事件应急处置预案")
    plan.get_by_role("textbox", name="预案文件地址").fill("https://files.example.cn/emergency.pdf")
    reviewed = plan.locator(".el-date-editor input")
    reviewed.fill(today.isoformat())
    reviewed.press("Enter")
    plan.locator(".el-dialog__title").click()
    plan.locator("[data-test=save-plan]").click()
    expect(page.get_by_text("预案已备案")).to_be_visible()
    filed = page.locator("[data-test=emergency-table] .el-table__row", has_text="网络安全事件应急处置预案")
    expect(filed).to_contain_text(today.isoformat())
    expect(filed.locator("[data-test=stale]")).to_have_count(0)
    check(page, "governance-security")
