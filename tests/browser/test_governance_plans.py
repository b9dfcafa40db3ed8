"""The governance pages in Chromium. A district's IT project plan is checked against the city platform's
catalogue (乌教发〔2023〕97号: 「提前向市教育局提交项目建设方案」, 「不得规划建设数据中心以及与市级平台系统功能相同
的应用系统」), revised, and reviewed in the existing review inbox on approvals' chain (审核评估, 资金审核, 审核决定
with 合理化建议); the city then records the stage and completion acceptance with evidence (「阶段性验收和竣工验收」).
The application registry (应用系统对接台账) shows the connected share per district and flags the overdue.

The demo accounts do the work (city.reviewer at 焦作市, county.reviewer at 解放区, school.admin at 解放区's school);
each test names its records with a tag of its own. Every page is checked with axe-core and photographed
(artifacts/screenshots/governance-*.png, review-task-plan*.png).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

from playwright.sync_api import Locator, Page, expect

from shared import clock
from tests.browser.test_bureau_appointments import settled
from tests.browser.test_review_chains import NewPage, Person, check
from tests.e2e.conftest import Stack
from tests.e2e.test_policies_e2e import poll

CITY, DISTRICT, SCHOOL = "4108", "410802", "4108020001"  # 焦作市, 解放区, 解放区's demo school


def pick_date(page: Page, where: Locator, day: dt.date, *, leave: Locator | None = None) -> None:
    """Type a day into an Element Plus date picker as a person does, and leave the field with its panel closed:
    Escape, or (in a dialog, which Escape would close) a click on `leave`."""
    box = where.locator("input")
    box.click()
    box.fill(day.isoformat())
    box.press("Enter")
    expect(box).to_have_value(day.isoformat())
    if leave is None:
        box.press("Escape")
    else:
        leave.click()
    expect(page.locator(".el-picker__popper:visible")).to_have_count(0)


def decide_plan_stage(page: Page, title: str, stage: str, opinion: str, *, shot: str | None = None) -> None:
    """From the city's inbox, the plan's open task at `stage`: read the plan and approve with `opinion`."""
    page.goto("/review")
    row = page.locator("[data-test=task-table] .el-table__row", has_text=title).filter(has_text=stage)
    expect(row).to_have_count(1)
    expect(row.locator("[data-test=plan-task]")).to_have_text("项目方案")
    row.get_by_role("link", name=title, exact=True).click()
    page.wait_for_url(re.compile(r"/review/tasks/[0-9a-f-]+$"))
    sheet = page.locator("[data-test=plan-sheet]")
    expect(sheet).to_contain_text(title)
    expect(sheet).to_contain_text("解放区")
    expect(sheet.locator("[data-test=plan-budget]")).to_have_text("¥1,500,000.00")
    card = page.locator("[data-test=decision-card]")
    card.locator("[data-test=decision]").get_by_text("通过", exact=True).click()
    if shot:
        check(page, shot)
    box = card.get_by_role("textbox", name=re.compile("^(审核意见|合理化建议)$"))
    box.fill(opinion)
    card.locator("[data-test=submit-decision]").click()
    page.wait_for_url(re.compile(r"/review$"))


def test_a_district_plan_flagged_against_the_city_platform_is_revised_reviewed_and_accepted(
    portal_stack: Stack, new_page: NewPage
) -> None:
    tag = uuid.uuid4().hex[:6].upper()
    function = f"统一身份认证{tag}"
    title = f"解放区智慧校园建设项目{tag}"
    city, district = Person(portal_stack, "city.reviewer"), Person(portal_stack, "county.reviewer")

    # 市级平台已有功能: the city bureau puts its unified identity service in the catalogue; a bad code is refused.
    page = city.browse(new_page, "/governance/catalogue")
    expect(page.locator("h1")).to_have_text("市级平台功能目录")
    page.locator("[data-test=add-entry]").click()
    dialog = page.locator("[data-test=entry-dialog]")
    dialog.locator("[data-test=entry-org]").fill(CITY)
    dialog.locator("[data-test=entry-code]").fill("统一 认证")
    dialog.locator("[data-test=save-entry]").click()
    expect(dialog).to_contain_text("条目代码须为 1–64 位字母、数字、点、下划线或连字符")
    expect(dialog).to_contain_text("请填写名称")
    dialog.locator("[data-test=entry-code]").fill(f"uia-{tag}")
    dialog.locator("[data-test=entry-name]").fill(function)
    dialog.locator("[data-test=entry-keywords]").fill(f"单点登录{tag}")
    settled(page)
    check(page, "governance-catalogue-entry")
    dialog.locator("[data-test=save-entry]").click()
    expect(page.get_by_text("目录已保存")).to_be_visible()
    entry = page.locator("[data-test=catalogue-table] .el-table__row", has_text=f"uia-{tag}")
    expect(entry).to_contain_text(function)
    expect(entry).to_contain_text("比对中")
    check(page, "governance-catalogue")

    # The district writes its plan: an empty form is refused field by field, nothing sent.
    form_page = district.browse(new_page, "/governance/plans")
    form_page.locator("[data-test=new-plan]").click()
    form_page.wait_for_url(re.compile(r"/governance/plans/new$"))
    form_page.locator("[data-test=save-plan]").click()
    expect(form_page.locator("[data-test=form-failure]")).to_contain_text("请按各项提示修改后再保存")
    form = form_page.locator("[data-test=plan-form]")
    for message in (
        "请填写项目名称",
        "项目预算须为金额",
        "请填写资金来源",
        "请至少填写一项建设内容",
        "请选择计划开工日期",
    ):
        expect(form).to_contain_text(message)
    check(form_page, "governance-plan-refused")

    today = clock.today()
    form.locator("[data-test=unit-org-code]").fill(DISTRICT)
    form.locator("[data-test=plan-title]").fill(title)
    form.locator("[data-test=plan-budget]").fill("1500000")
    form.locator("[data-test=plan-funding]").fill("区级财政预算")
    form.locator("[data-test=plan-functions]").fill(f"智慧课堂\n区级{function}平台")
    form.locator("[data-test=plan-data]").fill("学生作业数据")
    form.locator("[data-test=plan-connects]").fill("市级教育数字基座")
    pick_date(form_page, form.locator("[data-test=plan-starts-on]"), today)
    pick_date(form_page, form.locator("[data-test=plan-ends-on]"), today + dt.timedelta(days=300))
    form_page.locator("[data-test=add-attachment]").click()
    form.get_by_role("textbox", name="第 1 个附件名称").fill("建设方案.pdf")
    form.get_by_role("textbox", name="第 1 个附件地址").fill("files.example.cn/plan.pdf")
    form_page.locator("[data-test=save-plan]").click()
    expect(form).to_contain_text("第 1 个附件须填写名称和以 http(s):// 开头的地址")
    form.get_by_role("textbox", name="第 1 个附件地址").fill("https://files.example.cn/plan.pdf")

    # 重复建设: saved, the plan is compared with the catalogue and the flag names the entry before anything is sent.
    form_page.locator("[data-test=save-plan]").click()
    form_page.wait_for_url(re.compile(r"/governance/plans/[0-9a-f-]+/edit$"))
    checked = form_page.locator("[data-test=duplication-check]")
    expect(checked).to_contain_text("发现 1 项与市级平台重复的建设内容")
    flag = checked.locator(f"[data-test=flags] [data-code='uia-{tag}']")
    expect(flag).to_contain_text(function)
    expect(flag).to_contain_text(f"方案中的：区级{function}平台")
    # A flagged plan is not sent without the reason it must be built.
    form_page.locator("[data-test=send-plan]").click()
    expect(checked).to_contain_text("方案与市级平台重复，请写明必须建设的理由，或修改建设内容")
    check(form_page, "governance-plan-flagged")

    # Revised: the unit drops what the city platform has; the check runs again and finds nothing; it is sent.
    form.locator("[data-test=plan-functions]").fill("智慧课堂")
    form_page.locator("[data-test=save-plan]").click()
    expect(checked.locator("[data-test=no-flags]")).to_be_visible()
    form_page.locator("[data-test=send-plan]").click()
    form_page.wait_for_url(re.compile(r"/governance/plans/[0-9a-f-]+$"))
    expect(form_page.locator("[data-test=plan-status]")).to_have_text("审核中")
    expect(form_page.locator("[data-test=plan-functions]")).to_have_text("智慧课堂")
    check(form_page, "governance-plan-in-review")
    plan_id = form_page.url.rsplit("/", 1)[1]

    # The city's list shows the plan; the reviewers decide it in the existing review inbox, stage by stage.
    page.goto("/governance/plans")
    listed = page.locator("[data-test=plan-table] .el-table__row", has_text=title)
    expect(listed).to_contain_text("审核中")
    expect(listed).to_contain_text("解放区")
    check(page, "governance-plans")
    decide_plan_stage(page, title, "市教育局审核评估", "审核通过", shot="review-task-plan")
    decide_plan_stage(page, title, "项目资金审核", "资金来源合理")
    # 审核决定: approving needs the 合理化建议 the unit receives.
    page.goto("/review")
    page.locator("[data-test=task-table] .el-table__row", has_text=title).get_by_role("link", name=title).click()
    card = page.locator("[data-test=decision-card]")
    card.locator("[data-test=decision]").get_by_text("通过", exact=True).click()
    card.locator("[data-test=submit-decision]").click()
    expect(card).to_contain_text("审核决定须填写合理化建议")
    expect(page.locator("[data-test=earlier-opinions]")).to_contain_text("资金来源合理")
    check(page, "review-task-plan-decision")
    card.get_by_role("textbox", name="合理化建议", exact=True).fill("建议接入市级统一身份认证，不另建认证模块")
    card.locator("[data-test=submit-decision]").click()
    page.wait_for_url(re.compile(r"/review$"))

    # governance follows review.decided to approval: the unit reads the decisions and the 合理化建议.
    poll(
        lambda: district.api.call("GET", f"/api/project-plans/{plan_id}").json()["status"] == "approved" or None,
        "the plan approved in governance",
    )
    form_page.reload()
    expect(form_page.locator("[data-test=plan-status]")).to_have_text("已通过")
    expect(form_page.locator("[data-test=plan-suggestions]")).to_contain_text(
        "建议接入市级统一身份认证，不另建认证模块"
    )
    reviews = form_page.locator("[data-test=plan-reviews]")
    for stage in ("市教育局审核评估", "项目资金审核", "审核决定（合理化建议）"):
        expect(reviews).to_contain_text(stage)
    expect(form_page.locator("[data-test=acceptance-form], [data-test=revise-plan]")).to_have_count(0)
    check(form_page, "governance-plan-approved")

    # 阶段性验收 then 竣工验收, recorded by the city with their evidence; evidence is required.
    page.goto(f"/governance/plans/{plan_id}")
    accept = page.locator("[data-test=acceptance-form]")
    accept.locator("[data-test=record-acceptance]").click()
    expect(accept).to_contain_text("请选择验收日期")
    expect(accept).to_contain_text("请至少提供一份验收材料")
    check(page, "governance-acceptance-refused")
    for kind, day, recorded in (
        ("阶段性验收", today + dt.timedelta(days=100), "阶段性验收已记录"),
        ("竣工验收", today + dt.timedelta(days=290), "竣工验收已记录"),
    ):
        accept.locator("[data-test=acceptance-kind]").get_by_text(kind, exact=True).click()
        pick_date(page, accept.locator("[data-test=acceptance-date]"), day)
        accept.get_by_role("textbox", name="第 1 份材料名称").fill(f"{kind}报告.pdf")
        accept.get_by_role("textbox", name="第 1 份材料地址").fill("https://files.example.cn/acceptance.pdf")
        accept.locator("[data-test=acceptance-opinion]").fill(f"{kind}合格")
        accept.locator("[data-test=record-acceptance]").click()
        expect(page.get_by_text(recorded)).to_be_visible()
    expect(page.locator("[data-test=plan-status]")).to_have_text("已竣工验收")
    done = page.locator("[data-test=plan-acceptances]")
    expect(done.locator("[data-kind=stage]")).to_contain_text("阶段性验收报告.pdf")
    expect(done.locator("[data-kind=completion]")).to_contain_text("竣工验收合格")
    expect(page.locator("[data-test=acceptance-form]")).to_have_count(0)
    check(page, "governance-plan-completed")
    assert [a["kind"] for a in city.api.call("GET", f"/api/project-plans/{plan_id}").json()["acceptances"]] == [
        "stage",
        "completion",
    ]


def test_the_registry_shows_each_districts_connected_share_and_flags_the_overdue_unconnected(
    portal_stack: Stack, new_page: NewPage
) -> None:
    tag = uuid.uuid4().hex[:6].upper()
    school = Person(portal_stack, "school.admin")
    page = school.browse(new_page, "/governance/applications")
    expect(page.locator("h1")).to_have_text("应用系统对接台账")

    # The school registers two systems: one connected, one not, past its target date. A nameless one is refused.
    page.locator("[data-test=register-system]").click()
    dialog = page.locator("[data-test=system-dialog]")
    dialog.locator("[data-test=save-system]").click()
    for message in ("请填写系统名称", "请填写负责人", "请填写系统用途"):
        expect(dialog).to_contain_text(message)
    settled(page)
    check(page, "governance-system-refused")
    lines = (
        (f"智慧课堂{tag}", True, None),
        (f"校园安防{tag}", False, clock.today() - dt.timedelta(days=10)),
    )
    for name, linked, target in lines:
        if not dialog.is_visible():
            page.locator("[data-test=register-system]").click()
        dialog.locator("[data-test=system-org]").fill(SCHOOL)
        dialog.locator("[data-test=system-name]").fill(name)
        dialog.locator("[data-test=system-owner]").fill("信息中心")
        dialog.locator("[data-test=system-purpose]").fill("教学管理")
        if linked:
            dialog.locator("[data-test=system-identity]").click()
            dialog.locator("[data-test=system-sso]").click()
        if target:
            pick_date(
                page, dialog.locator("[data-test=system-target]"), target, leave=dialog.locator(".el-dialog__title")
            )
        dialog.locator("[data-test=save-system]").click()
        expect(page.get_by_text("台账已保存").first).to_be_visible()
        expect(dialog).to_be_hidden()
    rows = page.locator("[data-test=system-table] .el-table__row")
    late = rows.filter(has_text=f"校园安防{tag}")
    expect(late.locator("[data-test=overdue]")).to_have_text("逾期未对接")
    expect(rows.filter(has_text=f"智慧课堂{tag}").locator("[data-test=overdue]")).to_have_count(0)
    check(page, "governance-applications-school")

    # The city: the share per district equals its records; only the overdue ones, when asked.
    city = Person(portal_stack, "city.reviewer")
    city_page = city.browse(new_page, "/governance/applications")
    records = city.api.call("GET", "/api/application-systems").json()["items"]
    mine = [r for r in records if r["district_code"] == DISTRICT]
    connected = sum(1 for r in mine if r["unified_identity"] and r["single_sign_on"])
    share = round(connected / len(mine) * 100, 1)
    row = city_page.locator("[data-test=coverage-table] .el-table__row", has_text="解放区")
    cells = row.locator("td")
    expect(cells.nth(1)).to_have_text(str(len(mine)))
    expect(cells.nth(2)).to_have_text(str(connected))
    expect(row.locator("[data-test=share]")).to_contain_text(f"{share:g}%")
    expect(row.locator("[data-test=district-overdue]")).to_have_text(str(sum(1 for r in mine if r["overdue"])))
    check(city_page, "governance-applications")
    city_page.locator("[data-test=filter-overdue]").click()
    shown = city_page.locator("[data-test=system-table] .el-table__row")
    expect(shown.filter(has_text=f"校园安防{tag}")).to_have_count(1)
    expect(shown.filter(has_text=f"智慧课堂{tag}")).to_have_count(0)
