"""Bulk decisions and delegations in the reviewer's pages (Chromium).

A county reviewer selects two tasks in the inbox and approves them at once: both move on to the city. The city
reviewer's bulk approval of the same two is refused as a whole (the final stage needs a document number): the
dialog names each refused item and no task was decided. A reviewer delegates to a colleague holding the same role
at the same county; the colleague decides a task on the delegator's behalf; the delegator revokes it.
"""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import Page, expect

from shared import clock
from tests.browser.helpers import assert_accessible
from tests.browser.test_review_chains import NewPage, Person, check, decide, reviewer, unique
from tests.e2e.batches import city_task_released, county_sends_its_batch
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


def nominated_to_the_county(stack: Stack, admin: Client, round_id: str, school_code: str, name: str) -> str:
    """A Jiaozuo nomination of a fresh school admin and candidate, its unit stage approved: at the county now."""
    school = reviewer(stack, admin, "school_admin", school_code, f"{school_code}管理员")
    person = candidate(admin, school_code, name)
    jiaozuo_certificate(Client(stack, "training.admin"), person["id"])
    nomination = prepared_nomination(school.api, round_id, school_code, person["id"], JIAOZUO_FORM, photo=True)
    submit(school.api, nomination)
    unit = task_for(school.api, nomination.id, "unit")
    school.api.call(
        "POST",
        f"/api/tasks/{unit['id']}/decision",
        json={"decision": "approve", "opinion": "同意推荐", "seal": {"unit_name": school_code}},
    )
    return nomination.id


def select_rows(page: Page, names: list[str]) -> None:
    for name in names:
        row = page.locator("[data-test=task-table] .el-table__row", has_text=name)
        row.locator(".el-checkbox").click()


def test_bulk_approval_moves_every_task_on_and_a_refused_one_records_none(
    portal_stack: Stack, new_page: NewPage
) -> None:
    admin, city = Client(portal_stack, "admin"), Person(portal_stack, "city.reviewer")
    county = reviewer(portal_stack, admin, "county_reviewer", "410811", "山阳区教育局审核员")
    round_ = open_round(city.api, "jiaozuo-2022", "4108", "焦作市首席教育信息官推荐（山阳区）")
    names = [unique("赵文博"), unique("孙雅琴")]
    nids = [
        nominated_to_the_county(portal_stack, admin, round_["id"], code, name)
        for code, name in zip(("4108110001", "4108110002"), names, strict=True)
    ]
    for nid in nids:
        task_for(county.api, nid, "county_review")

    page = county.browse(new_page, "/review")
    # Some rows chosen: "select all" is indeterminate, and still an accessible checkbox (Element Plus's mixed state
    # on its label is moved to the input).
    select_rows(page, names[:1])
    expect(page.locator("[data-test=bulk-bar]")).to_contain_text("已选 1 项")
    assert page.locator("thead .el-checkbox input").evaluate("input => input.indeterminate")
    assert_accessible(page)
    select_rows(page, names[1:])
    expect(page.locator("[data-test=bulk-bar]")).to_contain_text("已选 2 项")
    page.locator("[data-test=bulk-approve]").click()
    dialog = page.locator("[data-test=bulk-dialog]")
    dialog.get_by_role("textbox", name="审核意见", exact=True).fill("经审核，符合条件")
    dialog.locator("[data-test=bulk-submit]").click()
    expect(dialog).to_contain_text("已记录 2 项审核意见")
    expect(dialog.locator(".el-table__row")).to_have_count(2)
    expect(dialog).to_contain_text("转下一环节")
    check(page, "review-bulk-recorded")
    for nid in nids:
        task_for(city.api, nid, "city_review")
    # 推荐表、汇总表各1份，报送至市教育局: the county sends both in its one batch before the city decides
    batch = county_sends_its_batch(county.api, round_["id"], "410811", nids[0])
    assert sorted(n["nomination_id"] for n in batch["nominations"]) == sorted(nids)
    for nid in nids:
        city_task_released(city.api, nid)

    # The city's stage appoints: approving both without a document number is refused as a whole.
    page = city.browse(new_page, "/review")
    select_rows(page, names)
    page.locator("[data-test=bulk-approve]").click()
    dialog = page.locator("[data-test=bulk-dialog]")
    dialog.locator("[data-test=bulk-submit]").click()
    refusal = dialog.locator("[data-test=bulk-refusal]")
    expect(refusal).to_contain_text("未记录任何审核意见")
    for name in names:
        expect(refusal.locator(".el-table__row", has_text=name)).to_contain_text("最终审批通过须填写发文字号")
    check(page, "review-bulk-refused")
    open_tasks = {
        t["nomination_id"]: t for t in city.api.call("GET", "/api/tasks", params={"limit": 500}).json()["items"]
    }
    assert all(open_tasks[nid]["status"] == "open" and open_tasks[nid]["decision"] is None for nid in nids)


def test_a_delegation_is_given_used_for_a_decision_and_revoked(portal_stack: Stack, new_page: NewPage) -> None:
    admin = Client(portal_stack, "admin")
    away = Person(portal_stack, "county2.reviewer")  # 修武县教育局
    colleague = reviewer(portal_stack, admin, "county_reviewer", "410821", unique("修武县审核员"))
    round_ = open_round(
        Client(portal_stack, "city.reviewer"), "jiaozuo-2022", "4108", "焦作市首席教育信息官推荐（修武县）"
    )
    name = unique("周立新")
    nid = nominated_to_the_county(portal_stack, admin, round_["id"], "4108210002", name)
    task_for(colleague.api, nid, "county_review")

    page = away.browse(new_page, "/review/delegations")
    expect(page.locator("[data-test=delegations-given]")).to_contain_text("暂无委托")
    page.locator("[data-test=give-delegation]").click()
    dialog = page.locator("[data-test=delegation-dialog]")
    dialog.get_by_role("combobox", name="受托人").click()
    page.get_by_role("option", name=re.compile(colleague.name)).click()
    today = clock.today()
    for label, day in (("开始日期", today), ("结束日期", today + dt.timedelta(days=14))):
        field = dialog.get_by_label(label, exact=True)
        field.fill(day.isoformat())
        field.press("Enter")
    check(page, "review-delegation-dialog")
    dialog.locator("[data-test=delegation-submit]").click()
    given = page.locator("[data-test=delegations-given] .el-table__row", has_text=colleague.name)
    expect(given).to_contain_text("生效中")
    check(page, "review-delegations")

    # The colleague decides the delegator's task in the delegator's name; the record names both.
    page = colleague.browse(new_page, "/review/delegations")
    expect(page.locator("[data-test=delegations-received]")).to_contain_text(away.name)
    decide(page, name, "通过", "代为审核：符合条件", on_behalf_of=away.name)
    decided = [
        t
        for t in colleague.api.call("GET", "/api/tasks", params={"status": "decided"}).json()["items"]
        if t["nomination_id"] == nid
    ]
    assert [(t["decided_by"], t["on_behalf_of"]) for t in decided] == [(colleague.id, away.id)]

    page = away.browse(new_page, "/review/delegations")
    page.locator("[data-test=delegations-given] .el-table__row", has_text=colleague.name).locator(
        "[data-test=revoke]"
    ).click()
    page.get_by_role("dialog").get_by_role("button", name="撤销").click()
    expect(page.locator("[data-test=delegations-given] .el-table__row", has_text=colleague.name)).to_contain_text(
        "已撤销"
    )
    listed = away.api.call("GET", "/api/tasks/delegations").json()["items"]
    assert [d["revoked_at"] is not None for d in listed if d["delegate_user_id"] == colleague.id] == [True]
