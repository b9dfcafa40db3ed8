"""The bureau's rounds in Chromium: 焦作市教育局 opens a Jiaozuo round in the browser (title, policy, issuing org,
deadline), watches the progress view (报送进度) change as two schools of a county submit, and exports the 汇总表 —
masked, then with full personal data after stating a reason, which the audit trail keeps. An auditor sees the same
round and its progress with no control that opens, closes or reveals anything.

The two schools sit in a county made for this test under 焦作市 (4108), so the county's row of the progress view
holds them alone; the round is the test's own, so the 汇总表 holds exactly their two rows. Every page is checked
with axe-core and photographed (artifacts/screenshots/bureau-*.png).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import uuid
from pathlib import Path

from openpyxl import load_workbook
from playwright.sync_api import Locator, Page, expect

from shared import clock
from tests.browser.school import new_school
from tests.browser.test_bureau_appointments import settled
from tests.browser.test_review_chains import NewPage, Person, check
from tests.e2e.conftest import Stack
from tests.e2e.test_policies_e2e import (
    JIAOZUO_FORM,
    Client,
    candidate,
    jiaozuo_certificate,
    poll,
    prepared_nomination,
    submit,
)

# The progress view refreshes itself every 5 s; a submission shows within two refreshes on a loaded machine.
SEEN_WITHIN_MS = 30_000


def county_row(page: Page, county_name: str) -> Locator:
    return page.locator("[data-test=county-table] tbody tr", has_text=county_name)


def unit_row(page: Page, school_name: str) -> Locator:
    return page.locator("[data-test=unit-table] tbody tr", has_text=school_name)


def cells(row: Locator) -> list[str]:
    return [c.strip() for c in row.locator("td").all_inner_texts()]


def county_counts(page: Page, county_name: str, schools: int, submitted: int, missing: int) -> None:
    """The county's row reads (schools, submitted, not submitted), waited for: the view refreshes by itself."""
    row = county_row(page, county_name).locator("td")
    for column, value in ((1, schools), (2, submitted), (3, missing)):
        expect(row.nth(column)).to_have_text(str(value), timeout=SEEN_WITHIN_MS)


def download(page: Page, item: str) -> Path:
    """Pick `item` in the export menu and return the file the browser saved."""
    page.locator("[data-test=export-button]").click()
    with page.expect_download() as started:
        page.locator(f"[data-test={item}]:visible").click()
    path = started.value.path()
    assert path is not None
    return Path(path)


def choose(page: Page, where: str, label: str) -> None:
    page.locator(f"[data-test={where}] .el-select__wrapper").click()
    page.locator(".el-select-dropdown__item:visible", has_text=label).first.click()


def test_a_bureau_opens_a_jiaozuo_round_watches_two_schools_submit_and_exports_the_summary_table(
    portal_stack: Stack, new_page: NewPage
) -> None:
    admin = Client(portal_stack, "admin")
    suffix = uuid.uuid4().hex[:4].upper()
    county_code, county_name = f"T{uuid.uuid4().hex[:10].upper()}", f"焦作市示范区{suffix}教育局"
    admin.call(
        "POST",
        "/api/orgs",
        expect=201,
        json={"code": county_code, "name": county_name, "level": "county", "parent_code": "4108"},
    )
    first = new_school(portal_stack, admin, county_code, f"示范区{suffix}第一小学")
    second = new_school(portal_stack, admin, county_code, f"示范区{suffix}实验中学")
    people = [candidate(admin, s.code, f"候选人{suffix}{n}") for n, s in enumerate((first, second), 1)]
    trainer = Client(portal_stack, "training.admin")
    for person in people:
        jiaozuo_certificate(trainer, person["id"])

    # 焦作市教育局 opens the round in the browser: 各县（市、区）于截止日期前报送.
    city = Person(portal_stack, "city.reviewer")
    page = city.browse(new_page, "/bureau/rounds")
    expect(page.locator("[data-test=rounds-table]").or_(page.locator(".el-empty"))).to_be_visible()
    check(page, "bureau-rounds")
    page.locator("[data-test=open-round]").click()
    dialog = page.locator("[data-test=round-dialog]")
    title = f"焦作市2026年首席教育信息官推荐（示范区{suffix}）"
    dialog.locator("[data-test=round-title]").fill(title)
    choose(page, "round-policy", "焦作")
    expect(dialog.locator("[data-test=round-org]")).to_contain_text("焦作市教育局")
    deadline = f"{clock.today() + dt.timedelta(days=20):%Y-%m-%d} 17:00"
    box = dialog.locator("[data-test=round-deadline] input")
    box.fill(deadline)
    box.press("Enter")
    expect(box).to_have_value(deadline)
    settled(page)
    check(page, "bureau-round-open")
    dialog.locator("[data-test=submit-round]").click()
    expect(dialog).to_be_hidden()
    link = page.locator("[data-test=rounds-table]").get_by_role("link", name=title, exact=True)
    expect(link).to_be_visible()
    round_id = poll(
        lambda: next(
            (
                r["id"]
                for r in city.api.call("GET", "/api/rounds?status=open&limit=50").json()["items"]
                if r["title"] == title
            ),
            None,
        ),
        "the round is listed",
    )

    # The progress view: the county's two schools, neither has submitted (未报送).
    link.click()
    page.wait_for_url(re.compile(rf"/bureau/rounds/{round_id}$"))
    expect(county_row(page, county_name)).to_be_visible(timeout=SEEN_WITHIN_MS)
    county_counts(page, county_name, 2, 0, 2)
    choose(page, "filter-county", county_name)
    expect(page.locator("[data-test=unit-table] tbody tr")).to_have_count(2)
    for school in (first, second):
        expect(unit_row(page, school.name).locator("[data-test=unit-status]")).to_have_text("未报送")

    # One school submits: the view changes by itself.
    nomination = prepared_nomination(first.admin, round_id, first.code, people[0]["id"], JIAOZUO_FORM, photo=True)
    submit(first.admin, nomination)
    expect(unit_row(page, first.name).locator("[data-test=unit-status]")).to_have_text(
        re.compile("已提交|审核中"), timeout=SEEN_WITHIN_MS
    )
    expect(unit_row(page, first.name)).to_contain_text(people[0]["display_name"])
    county_counts(page, county_name, 2, 1, 1)
    expect(unit_row(page, second.name).locator("[data-test=unit-status]")).to_have_text("未报送")
    # Its case is at the first stage of 焦作's chain (所在单位意见) once approvals has opened it.
    expect(unit_row(page, first.name)).to_contain_text("单位", timeout=SEEN_WITHIN_MS)

    # The second school submits: nobody in the county is missing.
    nomination = prepared_nomination(second.admin, round_id, second.code, people[1]["id"], JIAOZUO_FORM, photo=True)
    submit(second.admin, nomination)
    expect(unit_row(page, second.name).locator("[data-test=unit-status]")).to_have_text(
        re.compile("已提交|审核中"), timeout=SEEN_WITHIN_MS
    )
    county_counts(page, county_name, 2, 2, 0)
    assert cells(county_row(page, county_name))[1:] == ["2", "2", "0"]
    check(page, "bureau-round-progress")

    # 汇总表, masked: one row per school of the round, the candidates' mobiles as 139****9000.
    rows = list(csv.reader(io.StringIO(download(page, "export-summary-csv").read_text("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["县（市、区）", "单位名称", "姓名"]
    assert sorted((r[0], r[1], r[2]) for r in body) == sorted(
        (county_name, s.name, p["display_name"]) for s, p in zip((first, second), people, strict=True)
    )
    assert all("139****9000" in r for r in body) and not any("13900139000" in r for r in body)

    # Full personal data: the reason is asked first, then the export is audited with it.
    page.locator("[data-test=export-button]").click()
    page.locator("[data-test=export-reveal]:visible").click()
    reveal = page.locator("[data-test=reveal-dialog]")
    reveal.locator("[data-test=reveal-submit]").click()
    expect(reveal).to_contain_text("请填写导出理由")
    reveal.locator("[data-test=reveal-reason]").fill("报送省教育厅备案")
    settled(page)
    check(page, "bureau-summary-reveal")
    with page.expect_download() as started:
        reveal.locator("[data-test=reveal-submit]").click()
    saved = started.value.path()
    assert saved is not None
    sheet = load_workbook(io.BytesIO(Path(saved).read_bytes()), read_only=True).active
    assert sheet is not None
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert len(values) == 3 and all("13900139000" in row for row in values[1:])
    auditor = Client(portal_stack, "auditor")
    trail = auditor.call(
        "GET", "/api/audit/nominations", params={"action": "summary.personal_export", "target": round_id}
    ).json()["items"]
    assert [(e["actor"], e["details"]["reason"]) for e in trail] == [(city.id, "报送省教育厅备案")]

    # The auditor reads the same progress, and has no control to open, close or reveal.
    watcher = Person(portal_stack, "auditor")
    page = watcher.browse(new_page, "/bureau/rounds")
    expect(page.locator("[data-test=read-only]")).to_be_visible()
    expect(page.locator("[data-test=open-round]")).to_have_count(0)
    expect(page.locator("[data-test=close-round]")).to_have_count(0)
    page.goto(f"/bureau/rounds/{round_id}")
    expect(county_row(page, county_name)).to_be_visible(timeout=SEEN_WITHIN_MS)
    page.locator("[data-test=export-button]").click()
    expect(page.locator("[data-test=export-summary-csv]:visible")).to_be_visible()
    expect(page.locator("[data-test=export-reveal]")).to_have_count(0)
    check(page, "bureau-round-progress-auditor")
