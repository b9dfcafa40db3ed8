"""The bureau's appointments console in Chromium (聘任管理): 贺兰县教育体育局 finds the CIO it appointed by org and by
the term ending before a date, files a change during the term (任期中若有变更，重新报备) and revokes the appointment
with a reason (取消任命), then reads its history. The appointment is made through the API along Helan's chain
(单位意见 → 县教育体育局审核聘任) at a school of the test's own. Photographed as
artifacts/screenshots/bureau-appointment*.png.
"""

from __future__ import annotations

import datetime as dt
import uuid

from playwright.sync_api import Page, expect

from tests.browser.school import new_school
from tests.browser.test_review_chains import NewPage, Person, check, reviewer
from tests.e2e.conftest import Stack
from tests.e2e.test_policies_e2e import (
    HELAN_FORM,
    Client,
    appointment_of,
    candidate,
    decide,
    open_round,
    prepared_nomination,
    submit,
    task_for,
)


def settled(page: Page) -> None:
    """Wait until no transition runs (a drawer sliding in): axe would measure half-transparent text."""
    page.wait_for_function("() => document.getAnimations().every(a => a.playState !== 'running')")


def test_a_county_files_a_change_and_revokes_an_appointment_with_a_reason(
    portal_stack: Stack, new_page: NewPage
) -> None:
    admin = Client(portal_stack, "admin")
    suffix = uuid.uuid4().hex[:4].upper()
    school = new_school(portal_stack, admin, "640122", f"贺兰县聘任示范学校{suffix}")
    county: Person = reviewer(portal_stack, admin, "county_reviewer", "640122", f"贺兰县教育体育局{suffix}")
    person = candidate(admin, school.code, f"马{suffix}")
    round_ = open_round(county.api, "helan-2024", "640122", f"贺兰县首席信息官推荐（{suffix}）")
    nomination = prepared_nomination(school.admin, round_["id"], school.code, person["id"], HELAN_FORM, photo=True)
    submit(school.admin, nomination)
    decide(school.admin, task_for(school.admin, nomination.id, "unit"), "approve", "同意推荐", school.name)
    document = f"贺教体发〔2026〕{suffix}号"
    decide(
        county.api,
        task_for(county.api, nomination.id, "county_appointment"),
        "approve",
        "同意聘任",
        "贺兰县教育体育局",
        document_number=document,
    )
    appointment = appointment_of(county.api, nomination.id, f"/640122/{school.code}")

    page = county.browse(new_page, "/bureau/appointments")
    page.locator("[data-test=filter-org]").fill(school.code)
    page.locator("[data-test=filter-org]").press("Enter")
    rows = page.locator("[data-test=appointment-table] tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(document)
    expect(rows.first).to_contain_text("在任")
    # 任期届满: the term ends after three years; a date just after it keeps the row, one before it hides it.
    ends_on = dt.date.fromisoformat(appointment["ends_on"])
    dates = page.locator("[data-test=filter-ends-before] input")
    dates.fill(f"{ends_on + dt.timedelta(days=1)}")
    dates.press("Enter")
    expect(rows).to_have_count(1)
    dates.fill(f"{ends_on - dt.timedelta(days=1)}")
    dates.press("Enter")
    expect(page.locator("[data-test=appointment-table]")).to_have_count(0)
    dates.fill("")
    dates.press("Enter")
    expect(rows).to_have_count(1)
    check(page, "bureau-appointments")

    # 变更报备: the post changed during the term.
    rows.first.locator("[data-test=appointment-file]").click()
    dialog = page.locator("[data-test=appointment-dialog]")
    dialog.locator("[data-test=filing-change]").fill("现任职务由副校长调整为校长")
    dialog.locator("[data-test=appointment-submit]").click()
    expect(dialog).to_be_hidden()
    filings = county.api.call("GET", f"/api/appointments/{appointment['id']}/filings").json()["items"]
    assert [f["change"] for f in filings] == ["现任职务由副校长调整为校长"]

    # 取消任命 with a reason (required).
    rows.first.locator("[data-test=appointment-revoke]").click()
    dialog.locator("[data-test=appointment-submit]").click()
    expect(dialog).to_contain_text("请填写此项")
    dialog.locator("[data-test=revoke-reason]").fill("整改不合格，取消任命")
    settled(page)
    check(page, "bureau-appointment-revoke")
    dialog.locator("[data-test=appointment-submit]").click()
    expect(dialog).to_be_hidden()
    revoked = county.api.call("GET", f"/api/appointments/{appointment['id']}").json()
    assert (revoked["status"], revoked["revoked_reason"]) == ("revoked", "整改不合格，取消任命")
    expect(page.locator("[data-test=appointment-table]")).to_have_count(0)  # the list shows those in office

    page.locator(".status .el-select__wrapper").click()
    page.locator(".el-select-dropdown__item:visible", has_text="已取消").click()
    expect(rows.first).to_contain_text("已取消")
    rows.first.locator("[data-test=appointment-history]").click()
    drawer = page.locator("[data-test=appointment-history-drawer]")
    expect(drawer).to_contain_text("取消任命")
    expect(drawer).to_contain_text("整改不合格，取消任命")
    expect(drawer).to_contain_text("现任职务由副校长调整为校长")
    settled(page)
    check(page, "bureau-appointment-history")
