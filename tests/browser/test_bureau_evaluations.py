"""The bureau's evaluations and rectifications console in Chromium, seed 001 (焦教文〔2022〕60号):
「首席信息官每年组织一次测评……不合格者限期整改，整改不合格的取消首席信息官任命」.

A county bureau of the test's own under 焦作市 opens the year's evaluations in one act and sees the completion
overview; the CIO it helped appoint (along Jiaozuo's chain, through the API) fills in and submits the
self-assessment; the bureau verifies it on the score sheet — a deduction with its reason (扣分原因), a veto item
(一票否决) with what was found — and grades it 不合格, which orders 限期整改 due in the policy's 90 days; the school
sends its 整改报告 with an attachment; the bureau reads it, downloads the attachment and records 整改合格. Every page
is checked with axe-core and photographed (artifacts/screenshots/bureau-evaluation*.png, bureau-rectification*.png,
school-rectification*.png).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path

from playwright.sync_api import expect

from shared import clock
from tests.browser.appointed import appointed_cio, new_county
from tests.browser.test_bureau_appointments import settled
from tests.browser.test_review_chains import NewPage, Person, appointee, check
from tests.e2e.conftest import Stack
from tests.e2e.test_policies_e2e import PASSWORD, Client

REPORT_PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def test_首席信息官每年组织一次测评_the_bureau_verifies_with_a_veto_grades_and_checks_the_整改报告(
    portal_stack: Stack, new_page: NewPage
) -> None:
    admin = Client(portal_stack, "admin")
    suffix = uuid.uuid4().hex[:4].upper()
    county = new_county(portal_stack, admin, f"焦作市测评示范区{suffix}教育局")
    appointed = appointed_cio(portal_stack, admin, county, f"测评示范区{suffix}第一小学", f"测评{suffix}")
    school, person, bureau = appointed.school, appointed.person, county.reviewer
    year = clock.today().year

    # 每年组织一次测评: the county opens the year's evaluations in one act and sees its one CIO not yet graded.
    page = bureau.browse(new_page, "/bureau/evaluations")
    overview = page.locator("[data-test=campaign-overview]")
    expect(overview.locator("[data-test=overview-total]")).to_have_text("1")
    expect(overview).to_contain_text("未开启 1")
    page.locator("[data-test=open-campaign]").click()
    expect(page.get_by_text("已开启 1 项测评（0 项此前已开启）")).to_be_visible()
    expect(overview).to_contain_text("待自评 1")
    expect(overview.locator("[data-test=overview-completed]")).to_have_text("0")
    rows = page.locator("[data-test=evaluation-table] tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(person["display_name"])
    expect(rows.first).to_contain_text("待自评")
    check(page, "bureau-evaluations")
    [evaluation] = bureau.api.call("GET", "/api/evaluations", params={"period": year}).json()["items"]

    # 自评: the CIO scores every indicator (5 points each) and submits.
    cio = appointee(portal_stack, person)
    cio_page = cio.browse(new_page, f"/cio/evaluations/{evaluation['id']}")
    scores = cio_page.locator(".el-input-number input")
    expect(scores.first).to_be_visible()
    for index in range(scores.count()):
        scores.nth(index).fill("5")
        scores.nth(index).press("Tab")
    cio_page.get_by_role("textbox", name="自评总结", exact=True).fill("完成智慧校园建设，网络日志留存正在整改。")
    cio_page.locator("[data-test=submit-self-assessment]").click()
    cio_page.get_by_role("dialog").get_by_role("button", name="提交自评").click()
    cio_page.wait_for_url(re.compile(r"/cio$"))

    # The auditor reads the submitted evaluation with no control to verify or grade it (and none to open a campaign).
    watcher = Person(portal_stack, "auditor").browse(new_page, f"/bureau/evaluations/{evaluation['id']}")
    expect(watcher.locator("[data-test=self-summary]")).to_have_text("完成智慧校园建设，网络日志留存正在整改。")
    expect(watcher.get_by_text("只读查看：核查与定级由教育局测评人员办理。")).to_be_visible()
    expect(
        watcher.locator("[data-test=save-verification], [data-test=finalise], [data-test=verified-score]")
    ).to_have_count(0)
    check(watcher, "bureau-evaluation-auditor")
    watcher.goto("/bureau/evaluations")
    expect(watcher.locator("[data-test=evaluation-table]")).to_be_visible()
    expect(watcher.locator("[data-test=open-campaign]")).to_have_count(0)

    # 核查: the bureau reads the self-assessment; the verified scores start from the school's own.
    page.reload()
    expect(rows.first).to_contain_text("待核查")
    rows.first.locator("[data-test=open-evaluation]").click()
    page.wait_for_url(re.compile(rf"/bureau/evaluations/{evaluation['id']}$"))
    expect(page.locator("[data-test=self-summary]")).to_have_text("完成智慧校园建设，网络日志留存正在整改。")
    expect(page.locator("[data-test=evaluation-meta]")).to_contain_text("自评合计 55 分（满分 100）")
    # Every score below its maximum needs its 扣分原因: refused in the page, row by row, nothing sent.
    page.locator("[data-test=save-verification]").click()
    expect(page.locator("[data-test=verify-failure]")).to_contain_text("请按各行提示补全后再提交")
    expect(page.locator("[data-test=score-sheet] [data-code='1.1']")).to_contain_text("扣 5 分须写明扣分原因")
    check(page, "bureau-evaluation-refused")

    # The bureau gives each indicator its verified score: full marks but 4.3 (网络日志留存不足6个月, none), and finds
    # veto item V1 (重大网络安全事件) triggered.
    sheet_rows = page.locator("[data-test=score-sheet] tbody tr")
    for index in range(sheet_rows.count()):
        row = sheet_rows.nth(index)
        box = row.locator("[data-test=verified-score] input")
        if not box.count():
            continue
        code = row.locator("td").nth(0).inner_text().strip()
        top = row.locator("td").nth(2).inner_text().strip()
        box.fill("0" if code == "4.3" else top)
        box.press("Tab")
    cell = page.locator("[data-test=score-sheet] [data-code='4.3']")
    cell.locator("[data-test=deduction-reason]").fill("网络日志仅留存3个月，不足6个月")
    veto = page.locator("[data-test=veto-items] [data-code='V1']")
    veto.locator("[data-test=veto-triggered]").click()
    page.locator("[data-test=save-verification]").click()
    expect(veto).to_contain_text("触发一票否决项须写明查实的情况")
    veto.locator("[data-test=veto-reason]").fill("2026年5月发生勒索病毒事件，教务系统停摆两天")
    page.locator("[data-test=save-verification]").click()
    expect(page.get_by_text("核查结果已保存")).to_be_visible()
    expect(page.locator("[data-test=evaluation-meta]")).to_contain_text("核查合计 95 分（满分 100）")
    check(page, "bureau-evaluation-verify")

    # 定级: 95 points, but a veto item makes it 不合格, and Jiaozuo orders 限期整改 (90 days).
    page.locator("[data-test=finalise]").click()
    confirm = page.get_by_role("dialog").filter(has_text="一票否决")
    expect(confirm).to_contain_text("发生重大网络安全事件")
    confirm.get_by_role("button", name="定级并公布").click()
    expect(page.locator("[data-test=evaluation-grade]")).to_have_text("不合格")
    due = clock.today() + dt.timedelta(days=90)
    ordered = page.locator("[data-test=rectification-ordered]")
    expect(ordered).to_contain_text(f"整改期限 {due.isoformat()}")
    expect(ordered).to_contain_text("一票否决：发生重大网络安全事件（2026年5月发生勒索病毒事件，教务系统停摆两天）")
    history = page.locator("[data-test=evaluation-history]")
    for step in ("开启测评", "提交自评", "核查", "定级", "通知限期整改"):
        expect(history).to_contain_text(step)
    # Grading took the verification as saved: one 核查 in the history, not one more from the grading.
    expect(history.locator(".entry-title", has_text=re.compile("^核查$"))).to_have_count(1)
    expect(page.locator("[data-test=save-verification]")).to_have_count(0)
    check(page, "bureau-evaluation-finalised")
    graded = bureau.api.call("GET", f"/api/evaluations/{evaluation['id']}").json()
    assert (graded["grade"], graded["vetoed"], graded["verified_total"]) == ("不合格", True, 95)
    [deducted] = [i for i in graded["indicators"] if i.get("deduction_reason")]
    assert (deducted["code"], deducted["verified_score"]) == ("4.3", 0)

    page.goto("/bureau/evaluations")
    expect(overview.locator("[data-test=overview-completed]")).to_have_text("1")
    expect(overview).to_contain_text("不合格 1")

    # 限期整改: due in 90 days, not overdue, no report yet.
    page.goto("/bureau/rectifications")
    rectifications = page.locator("[data-test=rectification-table] tbody tr")
    mine = rectifications.filter(has_text=school.code)
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text(due.isoformat())
    expect(mine).to_contain_text("未提交")
    expect(mine.locator("[data-test=overdue]")).to_have_count(0)
    check(page, "bureau-rectifications")

    # 整改报告: the school writes it (the text is required) with an attachment.
    school_page = Person(portal_stack, school.admin_username, PASSWORD).browse(new_page, "/school/rectifications")
    card = school_page.locator("[data-test=school-rectification]")
    expect(card).to_contain_text(f"整改期限：{due.isoformat()}")
    expect(card).to_contain_text("一票否决：发生重大网络安全事件")
    card.locator("[data-test=write-report]").click()
    card.locator("[data-test=send-report]").click()
    expect(card).to_contain_text("请填写整改报告")
    card.locator("[data-test=report-text]").fill("已更换防火墙，清除病毒并恢复教务系统；网络日志留存延长至12个月。")
    card.locator("[data-test=report-attachments] input[type=file]").set_input_files(
        {"name": "整改方案.pdf", "mimeType": "application/pdf", "buffer": REPORT_PDF}
    )
    expect(card).to_contain_text("整改方案.pdf")
    settled(school_page)
    check(school_page, "school-rectification-report")
    card.locator("[data-test=send-report]").click()
    expect(school_page.get_by_text("整改报告已提交")).to_be_visible()
    expect(card.locator("[data-test=school-report]")).to_contain_text("网络日志留存延长至12个月")
    expect(card.locator("[data-test=school-report]")).to_contain_text("整改方案.pdf")
    check(school_page, "school-rectifications")

    # 整改验收: the bureau reads the report, downloads the attachment as sent and records the outcome.
    page.reload()
    expect(mine).to_contain_text("已提交")
    mine.locator("[data-test=open-rectification]").click()
    drawer = page.locator("[data-test=rectification-drawer]")
    expect(drawer.locator("[data-test=rectification-report]")).to_contain_text("已更换防火墙")
    with page.expect_download() as started:
        drawer.locator("[data-test=download-attachment]").click()
    assert started.value.suggested_filename == "整改方案.pdf"
    saved = started.value.path()
    assert saved is not None and Path(saved).read_bytes() == REPORT_PDF
    drawer.locator("[data-test=outcome] .el-radio", has_text="整改不合格").click()
    expect(drawer).to_contain_text("整改不合格的将取消首席信息官任命")
    drawer.locator("[data-test=record-outcome]").click()
    expect(drawer).to_contain_text("整改不合格须写明原因")
    drawer.locator("[data-test=outcome] .el-radio", has_text="整改合格").click()
    drawer.locator("[data-test=outcome-notes]").fill("经现场核查，整改到位")
    settled(page)
    check(page, "bureau-rectification-check")
    drawer.locator("[data-test=record-outcome]").click()
    expect(page.get_by_text("验收结果已记录")).to_be_visible()
    expect(mine).to_have_count(0)  # the list shows those still being rectified
    rectification = bureau.api.call("GET", f"/api/evaluations/rectifications/{graded['rectification']['id']}").json()
    assert (rectification["status"], rectification["outcome_notes"]) == ("passed", "经现场核查，整改到位")
    appointment = bureau.api.call("GET", f"/api/appointments/{graded['appointment_id']}").json()
    assert appointment["status"] == "active"

    # 每2年对学校信息化工作考核一次: the school's assessment, not the CIO's, names the round whose policy the schools
    # follow; it cannot be opened without one.
    page = bureau.browse(new_page, "/bureau/evaluations")
    page.locator("[data-test=campaign-kind]").click()
    page.get_by_role("option", name="学校信息化工作考核").click()
    open_button = page.locator("[data-test=open-campaign]")
    expect(open_button).to_be_disabled()
    page.locator("[data-test=campaign-round]").click()
    page.get_by_role("option", name=f"焦作市首席教育信息官推荐（测评示范区{suffix}第一小学）").click()
    expect(open_button).to_be_enabled()
    check(page, "bureau-school-assessment-campaign")
    open_button.click()
    expect(page.get_by_text("已开启 1 项测评（0 项此前已开启）")).to_be_visible()
    assessments = bureau.api.call("GET", "/api/evaluations", params={"period": year}).json()["items"]
    assert sorted(e["kind"] for e in assessments) == ["cio_annual", "school_biennial"]
