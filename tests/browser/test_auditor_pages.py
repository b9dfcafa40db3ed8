"""The auditor's pages in Chromium (审计员, read-only): a case decided at its first stage is opened from the list of
review cases, its append-only history shows the decision with its opinion and seal, and the page has no write
control; the services refuse the writes an auditor might force past the page (a decision, closing the round,
withdrawing the nomination). Photographed as artifacts/screenshots/audit-*.png."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tests.browser.school import new_school
from tests.browser.test_review_chains import NewPage, Person, check
from tests.e2e.conftest import Stack
from tests.e2e.test_policies_e2e import (
    JIAOZUO_FORM,
    Client,
    candidate,
    jiaozuo_certificate,
    open_round,
    prepared_nomination,
    submit,
    task_for,
)


def test_an_auditor_opens_a_cases_history_and_finds_no_write_control(portal_stack: Stack, new_page: NewPage) -> None:
    admin, city = Client(portal_stack, "admin"), Client(portal_stack, "city.reviewer")
    suffix = uuid.uuid4().hex[:4].upper()
    school = new_school(portal_stack, admin, "410802", f"解放区审计示范小学{suffix}")
    person = candidate(admin, school.code, f"周文{suffix}")
    jiaozuo_certificate(Client(portal_stack, "training.admin"), person["id"])
    title = f"焦作市首席教育信息官推荐（审计抽查{suffix}）"
    round_ = open_round(city, "jiaozuo-2022", "4108", title)
    nomination = prepared_nomination(school.admin, round_["id"], school.code, person["id"], JIAOZUO_FORM, photo=True)
    submit(school.admin, nomination)
    unit_task = task_for(school.admin, nomination.id, "unit")
    school.admin.call(
        "POST",
        f"/api/tasks/{unit_task['id']}/decision",
        json={"decision": "approve", "opinion": "同意推荐，情况属实", "seal": {"unit_name": school.name}},
    )
    county_task = task_for(Client(portal_stack, "county.reviewer"), nomination.id, "county_review")

    auditor = Person(portal_stack, "auditor")
    page = auditor.browse(new_page, "/")
    page.wait_for_url(re.compile(r"/audit/cases$"))
    page.locator("[data-test=filter-round] .el-select__wrapper").click()
    page.locator(".el-select-dropdown__item:visible", has_text=title).click()
    link = page.locator("[data-test=case-table]").get_by_role("link", name=person["display_name"], exact=True)
    expect(link).to_be_visible()
    check(page, "audit-cases")

    link.click()
    page.wait_for_url(re.compile(r"/audit/cases/[0-9a-f-]+$"))
    history = page.locator("[data-test=case-history]")
    expect(history).to_contain_text("同意推荐，情况属实")
    expect(history).to_contain_text(school.name)  # the seal's unit
    expect(page.locator("[data-test=case-stages]")).to_contain_text("通过")
    expect(page.locator("[data-test=nomination-history]")).to_contain_text("提交")
    expect(page.locator("[data-test=read-only]")).to_be_visible()
    # No write control in the page: no decision card, no field, no button, no switch in the content.
    content = page.locator("#main")
    expect(page.locator("[data-test=decision-card]")).to_have_count(0)
    expect(content.locator("button, input, textarea, select, [role=switch], [contenteditable=true]")).to_have_count(0)
    check(page, "audit-case")

    # Forced past the page, the services refuse the auditor's writes and nothing changes.
    decision = auditor.api.call(
        "POST",
        f"/api/tasks/{county_task['id']}/decision",
        expect=None,
        json={"decision": "approve", "opinion": "审计员不应能审核", "seal": {"unit_name": "审计"}},
    )
    assert decision.status_code in (403, 404), decision.text
    etag = city.call("GET", f"/api/rounds/{round_['id']}").headers["ETag"]
    closed = auditor.api.call("POST", f"/api/rounds/{round_['id']}/close", expect=None, headers={"If-Match": etag})
    assert closed.status_code in (403, 404), closed.text
    current = school.admin.call("GET", f"/api/nominations/{nomination.id}")
    withdrawn = auditor.api.call(
        "POST",
        f"/api/nominations/{nomination.id}/withdraw",
        expect=None,
        headers={"If-Match": current.headers["ETag"]},
    )
    assert withdrawn.status_code in (403, 404), withdrawn.text
    assert task_for(Client(portal_stack, "county.reviewer"), nomination.id, "county_review")["status"] == "open"
    assert city.call("GET", f"/api/rounds/{round_['id']}").json()["status"] == "open"
    assert school.admin.call("GET", f"/api/nominations/{nomination.id}").json()["status"] != "withdrawn"
