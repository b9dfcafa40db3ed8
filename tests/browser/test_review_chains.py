"""The reviewer's pages in Chromium: for each of the three policies, a nomination submitted through the API is
decided stage by stage in the browser, by each reviewer of the policy's chain, until the appointment exists and
the appointed CIO sees it on their own page; a return reaches the school with the reviewer's opinion; a bulk
decision is recorded for all selected tasks, or (refused) for none; a delegation is given, used and revoked.

Each test has schools and people of its own (one live nomination per school and round, one active appointment
per org): Jiaozuo 解放区第一实验小学 with the demo accounts, Helan 贺兰县第一小学, Yichun 宜春学院, the return at
解放区育才中学, the bulk decisions in 山阳区, the delegation in 修武县. Every page is checked with axe-core and
photographed (artifacts/screenshots/review-*.png, cio-*.png).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.helpers import assert_accessible, problems, screenshot
from tests.e2e.batches import send_up_to_the_city
from tests.e2e.conftest import DEMO_PASSWORD, Stack
from tests.e2e.test_policies_e2e import (
    HELAN_FORM,
    JIAOZUO_FORM,
    PASSWORD,
    YICHUN_FORM,
    Client,
    candidate,
    jiaozuo_certificate,
    new_user,
    open_round,
    poll,
    prepared_nomination,
    status_becomes,
    submit,
    task_for,
)

NewPage = Callable[..., Page]


# -- people ------------------------------------------------------------------------------------------
class Person:
    """Someone who signs in to the portal (username and password) and also calls the API as themself."""

    def __init__(self, stack: Stack, username: str, password: str = DEMO_PASSWORD) -> None:
        self.username, self.password = username, password
        self.api = Client(stack, username, password)
        me = self.api.call("GET", "/api/me").json()
        self.id: str = me["id"]
        self.name: str = me["display_name"]

    def browse(self, new_page: NewPage, then: str) -> Page:
        """A fresh browser context signed in as this person (the HttpOnly cookie session), showing `then`.

        The session comes from the portal's own sign-in endpoint; the sign-in page itself is tested elsewhere."""
        page = new_page()
        response = page.request.post("/api/auth/session", data={"username": self.username, "password": self.password})
        assert response.status == 204, response.text()
        page.goto(then)
        return page


def reviewer(stack: Stack, admin: Client, role: str, org_code: str, display_name: str) -> Person:
    """A fresh user holding `role` at `org_code`."""
    user = new_user(admin, org_code, display_name)
    admin.call("POST", f"/api/users/{user['id']}/grants", expect=201, json={"role": role, "org_code": org_code})
    return Person(stack, user["username"], PASSWORD)


def appointee(stack: Stack, user: dict[str, Any]) -> Person:
    """The nominated person, once identity has granted them `cio` for their appointment (by event)."""

    def granted() -> bool:
        me = Client(stack, user["username"], PASSWORD).call("GET", "/api/me").json()
        return any(g["role"] == "cio" for g in me["grants"])

    poll(lambda: granted() or None, f"{user['username']} holds cio")
    return Person(stack, user["username"], PASSWORD)


def unique(name: str) -> str:
    """A candidate's name that no other test's inbox holds (the inbox is found by it)."""
    return f"{name}{uuid.uuid4().hex[:3].upper()}"


# -- the pages -----------------------------------------------------------------------------------------
def check(page: Page, name: str) -> None:
    """Every page of this area: no serious or critical axe violation, a zh-CN screenshot, nothing went wrong."""
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(400)  # Element Plus's fade-ins: axe would measure a half-transparent alert's contrast
    assert_accessible(page)
    screenshot(page, name)
    problems(page).assert_clean()


def open_task(page: Page, candidate_name: str) -> None:
    """From the inbox, the candidate's open task."""
    page.goto("/review")
    page.get_by_role("link", name=candidate_name, exact=True).click()
    page.wait_for_url(re.compile(r"/review/tasks/[0-9a-f-]+$"))
    expect(page.locator("[data-test=decision-card]")).to_be_visible()


def decide(
    page: Page,
    candidate_name: str,
    decision: str,
    opinion: str,
    *,
    document_number: str | None = None,
    on_behalf_of: str | None = None,
    shot: str | None = None,
) -> None:
    """Open the candidate's task from the inbox and record the decision (通过 / 退回修改 / 不通过)."""
    open_task(page, candidate_name)
    card = page.locator("[data-test=decision-card]")
    card.locator("[data-test=decision]").get_by_text(decision, exact=True).click()
    card.get_by_role("textbox", name="审核意见", exact=True).fill(opinion)
    if document_number is not None:
        card.get_by_role("textbox", name="发文字号", exact=True).fill(document_number)
    if on_behalf_of is not None:
        # Element Plus lays the placeholder over the select's input: the click lands on the select as a person's does.
        card.get_by_role("combobox", name="代为审核").click(force=True)
        page.get_by_role("option", name=re.compile(on_behalf_of)).click()
    if shot:
        check(page, shot)
    card.locator("[data-test=submit-decision]").click()
    page.wait_for_url(re.compile(r"/review$"))
    expect(page.get_by_role("link", name=candidate_name, exact=True)).to_have_count(0)


def cio_sees(page: Page, document_number: str, shot: str | None = None) -> None:
    page.goto("/cio")
    expect(page.locator("[data-test=document-number]")).to_have_text(document_number)
    expect(page.locator("[data-test=my-appointment]")).to_contain_text("在任")
    if shot:
        check(page, shot)


# -- Jiaozuo: 所在单位意见 → 县（市、区）教育行政部门审核意见 → 市教育局审核意见 --------------------------------
def test_jiaozuo_chain_is_decided_in_the_browser_and_the_cio_sees_the_appointment(
    portal_stack: Stack, new_page: NewPage
) -> None:
    admin = Client(portal_stack, "admin")
    school, county = Person(portal_stack, "school.admin"), Person(portal_stack, "county.reviewer")
    city, cio = Person(portal_stack, "city.reviewer"), Person(portal_stack, "cio")
    jiaozuo_certificate(Client(portal_stack, "training.admin"), cio.id)
    form = {
        **JIAOZUO_FORM,
        "unit_name": "解放区第一实验小学",
        "name": cio.name,
        "gender": "男",
        "birth_date": "1976-05-04",
        "mobile": "13903910000",
    }
    round_ = open_round(city.api, "jiaozuo-2022", "4108", "焦作市2026年首席教育信息官推荐")
    nomination = prepared_nomination(school.api, round_["id"], "4108020001", cio.id, form, photo=True)
    submit(school.api, nomination)
    task_for(school.api, nomination.id, "unit")

    page = school.browse(new_page, "/review")
    expect(page.get_by_role("link", name=cio.name, exact=True)).to_be_visible()
    check(page, "review-inbox")
    decide(page, cio.name, "通过", "同意推荐", shot="review-task")

    page = county.browse(new_page, "/review")
    decide(page, cio.name, "通过", "经审核，符合条件")
    # 推荐表、汇总表各1份，报送至市教育局: until the county sends its batch, the city's inbox says why the task waits
    task_for(city.api, nomination.id, "city_review")
    page = city.browse(new_page, "/review")
    row = page.locator(".el-table__row", has_text=cio.name)
    expect(row.locator("[data-test=awaiting-batch]")).to_have_text("待县区报送")
    check(page, "review-inbox-awaiting-batch")
    send_up_to_the_city(county.api, city.api, round_["id"], "410802", nomination.id)

    page = city.browse(new_page, "/review")
    open_task(page, cio.name)
    earlier = page.locator("[data-test=earlier-opinions]")
    expect(earlier).to_contain_text("同意推荐")
    expect(earlier).to_contain_text("经审核，符合条件")
    decide(page, cio.name, "通过", "同意聘任", document_number="焦教文〔2026〕31号", shot="review-task-final")

    appointments = admin.call("GET", "/api/appointments", params={"org_path": "/4108/410802/4108020001"}).json()
    made = [a for a in appointments["items"] if a["nomination_id"] == nomination.id]
    assert [(a["document_number"], a["person_user_id"], a["status"]) for a in made] == [
        ("焦教文〔2026〕31号", cio.id, "active")
    ]
    cio_sees(cio.browse(new_page, "/cio"), "焦教文〔2026〕31号", shot="cio-home")


# -- Helan: 单位意见 → 县教育体育局审核聘任 (three-year term) -----------------------------------------------
def test_helan_chain_is_decided_in_the_browser_and_the_cio_sees_a_three_year_term(
    portal_stack: Stack, new_page: NewPage
) -> None:
    admin = Client(portal_stack, "admin")
    school = reviewer(portal_stack, admin, "school_admin", "6401220001", "贺兰县第一小学管理员")
    county = reviewer(portal_stack, admin, "county_reviewer", "640122", "贺兰县教育体育局审核员")
    person = candidate(admin, "6401220001", unique("马志强"))
    round_ = open_round(county.api, "helan-2024", "640122", "贺兰县2026年首席信息官推荐")
    nomination = prepared_nomination(school.api, round_["id"], "6401220001", person["id"], HELAN_FORM, photo=True)
    submit(school.api, nomination)
    task_for(school.api, nomination.id, "unit")

    decide(school.browse(new_page, "/review"), person["display_name"], "通过", "同意推荐")
    decide(
        county.browse(new_page, "/review"),
        person["display_name"],
        "通过",
        "同意聘任",
        document_number="贺教体发〔2026〕7号",
    )

    status_becomes(school.api, nomination.id, "approved")
    page = appointee(portal_stack, person).browse(new_page, "/cio")
    cio_sees(page, "贺教体发〔2026〕7号")
    expect(page.locator("[data-test=my-appointment]")).to_contain_text("第 1 届")
    # 每届任期一般不少于3年: the term's end is shown, and named as what is due next.
    expect(page.locator("[data-test=due-next]")).to_contain_text("任期至")


# -- Yichun: 校长提名推荐 → 校长办公会审议 → 党委常委会批准 -------------------------------------------------
def test_yichun_chain_is_decided_in_the_browser_and_the_cio_sees_the_appointment(
    portal_stack: Stack, new_page: NewPage
) -> None:
    admin = Client(portal_stack, "admin")
    president = Person(portal_stack, "president")
    meeting, committee = Person(portal_stack, "office.meeting"), Person(portal_stack, "party.committee")
    person = candidate(admin, "10417", unique("刘振华"))
    round_ = open_round(president.api, "yichun-university", "10417", "宜春学院首席信息官聘任")
    nomination = prepared_nomination(president.api, round_["id"], "10417", person["id"], YICHUN_FORM, photo=False)
    submit(president.api, nomination)
    task_for(president.api, nomination.id, "president_nomination")

    decide(president.browse(new_page, "/review"), person["display_name"], "通过", "提名推荐")
    decide(meeting.browse(new_page, "/review"), person["display_name"], "通过", "校长办公会审议通过")
    decide(
        committee.browse(new_page, "/review"),
        person["display_name"],
        "通过",
        "党委常委会批准",
        document_number="宜院党字〔2026〕15号",
    )

    status_becomes(president.api, nomination.id, "approved")
    cio_sees(appointee(portal_stack, person).browse(new_page, "/cio"), "宜院党字〔2026〕15号")


# -- a return reaches the school ---------------------------------------------------------------------------
def test_a_return_needs_an_opinion_and_reaches_the_school_with_it(portal_stack: Stack, new_page: NewPage) -> None:
    admin = Client(portal_stack, "admin")
    school = reviewer(portal_stack, admin, "school_admin", "4108020002", "解放区育才中学管理员")
    county = Person(portal_stack, "county.reviewer")
    person = candidate(admin, "4108020002", unique("李红梅"))
    jiaozuo_certificate(Client(portal_stack, "training.admin"), person["id"])
    round_ = open_round(
        Client(portal_stack, "city.reviewer"), "jiaozuo-2022", "4108", "焦作市首席教育信息官推荐（补报）"
    )
    nomination = prepared_nomination(school.api, round_["id"], "4108020002", person["id"], JIAOZUO_FORM, photo=True)
    submit(school.api, nomination)
    school.api.call(
        "POST",
        f"/api/tasks/{task_for(school.api, nomination.id, 'unit')['id']}/decision",
        json={"decision": "approve", "opinion": "同意推荐", "seal": {"unit_name": "解放区育才中学"}},
    )
    task_for(county.api, nomination.id, "county_review")

    page = county.browse(new_page, "/review")
    open_task(page, person["display_name"])
    card = page.locator("[data-test=decision-card]")
    card.locator("[data-test=decision]").get_by_text("退回修改", exact=True).click()
    card.locator("[data-test=submit-decision]").click()
    # No opinion: refused in the page, nothing sent.
    expect(card).to_contain_text("退回或不通过时必须填写审核意见")
    assert page.url.endswith(f"/review/tasks/{task_for(county.api, nomination.id, 'county_review')['id']}")
    decide(page, person["display_name"], "退回修改", "请补充信息化工作事迹的具体成效。")

    status_becomes(school.api, nomination.id, "returned")
    page = school.browse(new_page, f"/school/nominations/{nomination.id}")
    expect(page.locator("[data-test=return-opinion]")).to_contain_text("请补充信息化工作事迹的具体成效。")
    problems(page).assert_clean()
