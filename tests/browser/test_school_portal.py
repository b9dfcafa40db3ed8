"""The school administrator in the portal (issue 13): signing in, the open rounds, the 推荐表 wizard of each of the
three policies up to submission, a stale edit, a return answered and resubmitted, the inbox and notification
settings, the pages at a phone's width, and never another school's data.

The reviewers' decisions here go through the API (their pages have tests of their own); everything the school
administrator does goes through the browser. Each page of these tests is checked with axe-core and photographed
(artifacts/screenshots/school-*.png, zh-CN).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE
from tests.browser.helpers import assert_accessible, problems, screenshot, sign_in
from tests.browser.school import (
    PASSWORD,
    Client,
    School,
    candidate,
    fill_field,
    new_school,
    png,
    tag,
)
from tests.e2e.conftest import Stack
from tests.e2e.test_policies_e2e import (
    HELAN_FORM,
    JIAOZUO_FORM,
    YICHUN_FORM,
    account,
    decide,
    jiaozuo_certificate,
    open_round,
    poll,
    prepared_nomination,
    status_becomes,
    submit,
    task_for,
)

# The minutes of the leadership team's meeting, as a (tiny, valid) PDF.
MINUTES_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
TIMEOUT = 30_000  # ms: a loaded 2-core machine with the whole platform on it

# Jiaozuo through a deputy, so `required_when` (the authorization record) and a repeated group (honours) are used.
JIAOZUO_DEPUTY_FORM = {
    **JIAOZUO_FORM,
    "post_kind": "deputy",
    "leadership_authorization": True,
    "authorization_record": "2026年3月5日学校班子会议纪要第12号",
    "honours": [{"award_name": "焦作市教育信息化先进个人", "awarded_on": "2024-09-10", "granted_by": "焦作市教育局"}],
}


@pytest.fixture(scope="module")
def admin(portal_stack: Stack) -> Client:
    return Client(portal_stack, "admin")


def policy(client: Client, policy_id: str) -> dict[str, Any]:
    return dict(client.call("GET", f"/api/policies/{policy_id}").json())


def eligible(client: Client, nid: str) -> None:
    poll(
        lambda: client.call("GET", f"/api/nominations/{nid}/eligibility").json()["eligible"] or None,
        "the candidate is eligible",
    )


def known_candidate(school: School, user_id: str) -> None:
    """Nominations has heard of the person (identity's `user.created` event has been consumed)."""
    poll(
        lambda: (
            any(
                c["user_id"] == user_id
                for c in school.admin.call("GET", f"/api/nominations/candidates?org_code={school.code}").json()["items"]
            )
            or None
        ),
        "nominations knows the candidate",
    )


def nomination_id(page: Page) -> str:
    page.wait_for_url("**/school/nominations/*", timeout=TIMEOUT)
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def check(page: Page, name: str) -> None:
    """No serious accessibility violation, a screenshot, and nothing wrong behind the scenes."""
    page.wait_for_load_state("networkidle")
    # Element Plus's toasts fade in and out: axe would measure their contrast half transparent.
    if page.locator(".el-message").count():
        page.locator(".el-message").last.wait_for(state="detached", timeout=TIMEOUT)
    screenshot(page, name)
    assert_accessible(page)
    problems(page).assert_clean()


# -- sign-in -------------------------------------------------------------------------------------
def test_signing_in_with_a_local_account_leads_to_the_page_the_person_wanted(
    portal_stack: Stack, admin: Client, page: Page
) -> None:
    school = new_school(portal_stack, admin, "410811", f"山阳区登录测试学校{tag()}")
    page.goto("/school/rounds")
    page.wait_for_url(re.compile(r"/login\?redirect=/school/rounds$"), timeout=TIMEOUT)
    check(page, "school-sign-in")

    page.locator("input[autocomplete='username']").fill(school.admin_username)
    page.locator("input[autocomplete='current-password']").fill("not-the-password")
    page.locator("form button[type='submit']").click()
    expect(page.locator("[data-test='sign-in-error']")).to_contain_text("用户名或密码错误", timeout=TIMEOUT)

    page.locator("input[autocomplete='current-password']").fill(PASSWORD)
    page.locator("form button[type='submit']").click()
    page.wait_for_url("**/school/rounds", timeout=TIMEOUT)
    expect(page.locator("[data-test='person-name']")).to_have_text(f"{school.name}管理员")
    expect(page.locator(".shell-header")).to_contain_text(f"学校管理员 · {school.name}")
    expect(page.get_by_role("menuitem", name="推荐批次")).to_be_visible()
    # No token is ever readable by the page: the session is the HttpOnly cookie.
    assert "cio_session" not in page.evaluate("document.cookie")
    assert not page.evaluate("Object.keys(localStorage).filter(k => /token|session/i.test(k))")

    page.locator("[data-test='sign-out']").click()
    page.wait_for_url(re.compile(r"/login"), timeout=TIMEOUT)
    page.goto("/school/rounds")
    page.wait_for_url(re.compile(r"/login\?redirect=/school/rounds$"), timeout=TIMEOUT)
    problems(page).assert_clean()


def test_a_lockout_is_explained_in_the_language_the_person_chose(
    portal_stack: Stack, admin: Client, page: Page
) -> None:
    school = new_school(portal_stack, admin, "410811", f"山阳区锁定测试学校{tag()}")
    page.goto("/login")
    page.locator(".language-switch .el-select__wrapper").click()
    page.locator(".el-select-dropdown__item:visible", has_text="English").click()
    expect(page.locator("form button[type='submit']")).to_have_text("Sign in")
    for _ in range(5):
        page.locator("input[autocomplete='username']").fill(school.admin_username)
        page.locator("input[autocomplete='current-password']").fill("wrong-password")
        page.locator("form button[type='submit']").click()
        expect(page.locator("[data-test='sign-in-error']")).to_be_visible(timeout=TIMEOUT)
    page.locator("input[autocomplete='current-password']").fill(PASSWORD)
    page.locator("form button[type='submit']").click()
    expect(page.locator("[data-test='sign-in-error']")).to_contain_text("this account is locked", timeout=TIMEOUT)
    assert "/login" in page.url
    # The language is remembered (and nothing else is).
    page.reload()
    expect(page.locator("form button[type='submit']")).to_have_text("Sign in")
    assert page.evaluate("JSON.stringify(localStorage)") == '{"cio.locale":"en"}'
    screenshot(page, "school-sign-in-locked-en")
    problems(page).assert_clean()


# -- the wizard, for each policy -----------------------------------------------------------------
def jiaozuo_case(stack: Stack, admin: Client) -> tuple[School, Client, str, dict[str, Any]]:
    school = new_school(stack, admin, "410811", f"山阳区向导测试学校{tag()}")
    return school, Client(stack, "city.reviewer"), "4108", JIAOZUO_DEPUTY_FORM


def helan_case(stack: Stack, admin: Client) -> tuple[School, Client, str, dict[str, Any]]:
    school = new_school(stack, admin, "640122", f"贺兰县向导测试学校{tag()}")
    county = account(stack, admin, "county_reviewer", "640122", "贺兰县教育体育局审核员")
    return school, county, "640122", HELAN_FORM


def yichun_case(stack: Stack, admin: Client) -> tuple[School, Client, str, dict[str, Any]]:
    university = new_school(
        stack, admin, None, f"宜春学院向导测试{tag()}", level="university", role="university_president"
    )
    return university, university.admin, university.code, YICHUN_FORM


CASES: dict[str, Callable[[Stack, Client], tuple[School, Client, str, dict[str, Any]]]] = {
    "jiaozuo-2022": jiaozuo_case,
    "helan-2024": helan_case,
    "yichun-university": yichun_case,
}


@pytest.mark.parametrize("policy_id", sorted(CASES))
def test_the_nominator_fills_the_policy_form_in_the_wizard_and_submits_it(
    portal_stack: Stack, admin: Client, page: Page, policy_id: str
) -> None:
    school, issuer, issuing_org, values = CASES[policy_id](portal_stack, admin)
    person = candidate(admin, school.code, f"候选人{tag()}")
    if policy_id == "jiaozuo-2022":
        jiaozuo_certificate(Client(portal_stack, "training.admin"), person["id"])
    title = f"{policy_id} 浏览器推荐 {tag()}"
    open_round(issuer, policy_id, issuing_org, title)
    fields = {f["name"]: f for f in policy(admin, policy_id)["form"]["fields"]}

    known_candidate(school, person["id"])

    sign_in(page, school.admin_username, PASSWORD, then="/school/rounds")
    card = page.locator("[data-test='round']", has_text=title)
    expect(card.locator("[data-test='countdown']")).to_contain_text("剩余", timeout=TIMEOUT)
    expect(card.locator("[data-test='round-status']")).to_contain_text("尚未推荐", timeout=TIMEOUT)
    check(page, f"school-rounds-{policy_id}")
    card.locator("[data-test='start-nomination']").click()
    nid = nomination_id(page)

    # 1. the candidate, among the unit's people (they reach nominations by event, so the wizard is opened once the
    #    event has arrived: the list it loads then holds them)
    page.locator("[data-test='step-candidate'] .el-select__wrapper").click()
    page.locator(".el-select-dropdown__item:visible", has_text=person["display_name"]).first.click()
    expect(page.locator("[data-test='next']")).to_be_enabled(timeout=TIMEOUT)
    check(page, f"school-wizard-candidate-{policy_id}")
    page.locator("[data-test='next']").click()

    # 2. the form: prefilled values are marked and read-only; every other field typed in as a person would
    name = page.locator("[data-field='name']")
    expect(name.locator("[data-test='prefilled']")).to_be_visible()
    expect(name.locator("input")).to_be_disabled()
    expect(name.locator("input")).to_have_value(person["display_name"])
    for field_name, value in values.items():
        fill_field(page, fields[field_name], value)
    if policy_id == "jiaozuo-2022":
        # 副职 makes the authorization record required (required_when)
        expect(page.locator("[data-field='authorization_record']")).to_have_class(re.compile(r"\bis-required\b"))
    check(page, f"school-wizard-form-{policy_id}")
    page.locator("[data-test='save-draft']").click()
    expect(page.locator("[data-test='save-draft']")).to_be_disabled(timeout=TIMEOUT)
    page.locator("[data-test='next']").click()

    # 3. the photo: the policy's size rule is checked before sending, then a real image is shown
    photo = page.locator("[data-test='photo-input']")
    photo.set_input_files({"name": "big.png", "mimeType": "image/png", "buffer": png() + b"\0" * 2_100_000})
    expect(page.locator("[data-test='photo-error']")).to_contain_text("不能超过 2 MB")
    photo.set_input_files({"name": "photo.png", "mimeType": "image/png", "buffer": png()})
    preview = page.locator("[data-test='photo-preview']")
    expect(preview).to_be_visible(timeout=TIMEOUT)
    page.wait_for_function("el => el.complete && el.naturalWidth === 60", arg=preview.element_handle())
    if policy_id == "jiaozuo-2022":
        # 特殊情况下经学校班子研究授权，由单位副职领导担任: a deputy's form carries the leadership team's minutes
        minutes = page.locator("[data-evidence='leadership_minutes']")
        expect(minutes.locator("[data-test='evidence-required']")).to_be_visible()
        expect(minutes.locator("[data-test='evidence-missing']")).to_be_visible()
        minutes.locator("[data-test='evidence-input']").set_input_files(
            {"name": "班子会议纪要.pdf", "mimeType": "application/pdf", "buffer": MINUTES_PDF}
        )
        expect(minutes.locator("[data-test='evidence-file']")).to_contain_text("班子会议纪要.pdf")
    check(page, f"school-wizard-photo-{policy_id}")
    page.locator("[data-test='next']").click()

    # 4. attestation and submission, once the eligibility facts have arrived
    page.locator("#signer-name").fill("张填表")
    page.locator("[data-test='step-submit'] .el-checkbox").click()
    page.locator("[data-test='attest']").click()
    expect(page.locator("[data-test='attested']")).to_contain_text("张填表", timeout=TIMEOUT)
    eligible(school.admin, nid)
    page.locator("[data-test='eligibility'] button").click()
    expect(page.locator("[data-test='eligible']")).to_be_visible(timeout=TIMEOUT)
    check(page, f"school-wizard-submit-{policy_id}")
    page.locator("[data-test='submit']").click()
    expect(page.locator("[data-test='nomination-status']")).to_have_text("已提交", timeout=TIMEOUT)
    expect(page.locator("[data-test='history']")).to_contain_text("提交")
    check(page, f"school-nomination-submitted-{policy_id}")

    stored = school.admin.call("GET", f"/api/nominations/{nid}").json()
    assert stored["status"] == "submitted" and stored["candidate_user_id"] == person["id"]
    assert stored["photo_sha256"] and stored["attested_name"] == "张填表"
    for field_name, value in values.items():
        assert stored["form"][field_name] == value, field_name
    assert stored["form"]["name"] == person["display_name"]
    if policy_id == "jiaozuo-2022":
        evidence = school.admin.call("GET", f"/api/nominations/{nid}/evidence").json()["items"]
        assert [(e["kind"], e["filename"], e["size"]) for e in evidence] == [
            ("leadership_minutes", "班子会议纪要.pdf", len(MINUTES_PDF))
        ]


# -- a stale edit ----------------------------------------------------------------------------------
def helan_draft(stack: Stack, admin: Client, label: str) -> tuple[School, str, dict[str, Any]]:
    """A Helan school with a drafted nomination (candidate chosen, form filled) made through the API."""
    school, county, issuing_org, values = helan_case(stack, admin)
    person = candidate(admin, school.code, f"{label}{tag()}")
    round_ = open_round(county, "helan-2024", issuing_org, f"贺兰{label}{tag()}")
    nomination = prepared_nomination(school.admin, round_["id"], school.code, person["id"], values, photo=True)
    return school, nomination.id, person


def test_an_edit_made_elsewhere_meanwhile_asks_to_reload_instead_of_overwriting(
    portal_stack: Stack, admin: Client, new_page: Callable[..., Page]
) -> None:
    school, nid, _ = helan_draft(portal_stack, admin, "并发")
    first, second = new_page(), new_page()
    for page in (first, second):
        sign_in(page, school.admin_username, PASSWORD, then=f"/school/nominations/{nid}")
        expect(page.locator("[data-test='step-form']")).to_be_visible(timeout=TIMEOUT)

    first.locator("[data-field='position'] input").fill("副校长")
    first.locator("[data-test='save-draft']").click()
    expect(first.locator("[data-test='save-draft']")).to_be_disabled(timeout=TIMEOUT)

    second.locator("[data-field='position'] input").fill("教导主任")
    second.locator("[data-test='save-draft']").click()
    expect(second.locator("[data-test='stale']")).to_contain_text("已在别处修改，请刷新", timeout=TIMEOUT)
    check(second, "school-wizard-stale")
    second.locator("[data-test='stale-reload']").click()
    expect(second.locator("[data-field='position'] input")).to_have_value("副校长", timeout=TIMEOUT)
    expect(second.locator("[data-test='stale']")).to_be_hidden()
    assert school.admin.call("GET", f"/api/nominations/{nid}").json()["form"]["position"] == "副校长"


# -- a return, answered --------------------------------------------------------------------------
def test_a_returned_nomination_shows_the_opinion_beside_the_form_and_is_resubmitted(
    portal_stack: Stack, admin: Client, page: Page
) -> None:
    school, county, issuing_org, values = helan_case(portal_stack, admin)
    person = candidate(admin, school.code, f"退回{tag()}")
    round_ = open_round(county, "helan-2024", issuing_org, f"贺兰退回{tag()}")
    nomination = prepared_nomination(school.admin, round_["id"], school.code, person["id"], values, photo=True)
    submit(school.admin, nomination)
    nid = nomination.id
    decide(school.admin, task_for(school.admin, nid, "unit"), "approve", "同意推荐", school.name)
    decide(
        county,
        task_for(county, nid, "county_appointment"),
        "return",
        "请补充近三年的信息化工作经历。",
        "贺兰县教育体育局",
    )
    status_becomes(school.admin, nid, "returned")

    # The inbox tells the school and links to the nomination.
    poll(
        lambda: any("退回" in m["subject"] for m in school.admin.call("GET", "/api/inbox").json()["items"]) or None,
        "the return reaches the school's inbox",
    )
    sign_in(page, school.admin_username, PASSWORD, then="/inbox")
    message = page.locator("[data-test='message']", has_text="退回").first
    expect(message).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("[data-test='unread-badge'] sup")).to_be_visible()
    check(page, "school-inbox")
    message.locator("[data-test='message-open']").click()
    assert nomination_id(page) == nid

    opinion = page.locator("[data-test='return-opinion']")
    expect(opinion).to_contain_text("请补充近三年的信息化工作经历。", timeout=TIMEOUT)
    expect(opinion).to_contain_text("县教育体育局审核聘任")
    expect(page.locator("[data-test='nomination-status']")).to_have_text("退回修改")
    check(page, "school-wizard-returned")

    page.locator("[data-field='work_history'] textarea").fill(
        "2005年起任教；2018年起任校长；2023—2025年主持智慧校园建设。"
    )
    page.locator("[data-test='save-draft']").click()
    expect(page.locator("[data-test='save-draft']")).to_be_disabled(timeout=TIMEOUT)
    page.locator("[data-test='next']").click()
    page.locator("[data-test='next']").click()
    page.locator("#signer-name").fill("张填表")
    page.locator("[data-test='step-submit'] .el-checkbox").click()
    page.locator("[data-test='attest']").click()
    expect(page.locator("[data-test='attested']")).to_be_visible(timeout=TIMEOUT)
    page.locator("[data-test='submit']").click()
    expect(page.locator("[data-test='nomination-status']")).to_have_text("已重新提交", timeout=TIMEOUT)
    problems(page).assert_clean()

    stored = school.admin.call("GET", f"/api/nominations/{nid}").json()
    assert stored["status"] == "resubmitted" and stored["revision"] == 2
    assert stored["form"]["work_history"].endswith("主持智慧校园建设。")


# -- a certificate claim the training administrator rejected --------------------------------------
def test_取得合格证者_a_rejected_claim_shows_rejected_with_the_reason_on_the_form(
    portal_stack: Stack, admin: Client, page: Page
) -> None:
    school, city, issuing_org, values = jiaozuo_case(portal_stack, admin)
    person = candidate(admin, school.code, f"申报{tag()}")
    round_ = open_round(city, "jiaozuo-2022", issuing_org, f"焦作合格证浏览器{tag()}")
    nomination = prepared_nomination(school.admin, round_["id"], school.code, person["id"], values, photo=True)
    number = f"HN-CIO-{tag()}"
    school.admin.call(
        "POST",
        f"/api/nominations/{nomination.id}/certificate-claim",
        json={
            "number": number,
            "kind": "cio",
            "level": "provincial",
            "issuer": "河南省教育厅",
            "issued_on": "2021-07-01",
        },
        headers={"If-Match": nomination.etag},
    )
    trainer = Client(portal_stack, "training.admin")
    pending = poll(
        lambda: next(
            (c for c in trainer.call("GET", "/api/certificates/claims").json()["items"] if c["number"] == number), None
        ),
        "training holds the claim",
    )
    reason = "培训记录中无此证书编号"
    trainer.call(
        "POST", f"/api/certificates/claims/{pending['id']}/decision", json={"decision": "reject", "note": reason}
    )
    poll(
        lambda: (
            school.admin.call("GET", f"/api/nominations/{nomination.id}/evidence").json()["certificate_claim"]["status"]
            == "rejected"
            or None
        ),
        "nominations hears of the rejection",
    )

    sign_in(page, school.admin_username, PASSWORD, then=f"/school/nominations/{nomination.id}")
    page.locator("[data-test='next']").click()  # the form opens at its fields; the evidence is beside the photo
    claim = page.locator("[data-test='certificate-claim']")
    expect(claim).to_be_visible(timeout=TIMEOUT)
    expect(claim.locator("[data-test='certificate-claim-status']")).to_have_text("培训管理员未予确认", timeout=TIMEOUT)
    expect(claim.locator("[data-test='certificate-claim-reason']")).to_have_text(f"原因：{reason}")
    expect(claim).to_contain_text(number)
    check(page, "school-wizard-claim-rejected")


# -- another school's data ------------------------------------------------------------------------
def test_a_school_administrator_never_sees_another_schools_nomination(
    portal_stack: Stack, admin: Client, page: Page
) -> None:
    other, other_nid, other_person = helan_draft(portal_stack, admin, "他校")
    ours = new_school(portal_stack, admin, "640122", f"贺兰县本校{tag()}")

    sign_in(page, ours.admin_username, PASSWORD, then="/school/rounds")
    expect(page.locator("[data-test='round']").first).to_be_visible(timeout=TIMEOUT)
    for status in page.locator("[data-test='round-status']").all():
        expect(status).not_to_contain_text("草稿")
    page.goto(f"/school/nominations/{other_nid}")
    expect(page.get_by_text("未找到该记录")).to_be_visible(timeout=TIMEOUT)
    page.goto("/inbox")
    page.wait_for_load_state("networkidle")
    for page_path in ("/school/rounds", "/inbox", f"/school/nominations/{other_nid}"):
        page.goto(page_path)
        page.wait_for_load_state("networkidle")
        content = page.content()
        assert other_person["display_name"] not in content and other.name not in content, page_path
    problems(page).assert_clean()


# -- notification settings -------------------------------------------------------------------------
def test_notification_settings_are_saved(portal_stack: Stack, admin: Client, page: Page) -> None:
    school = new_school(portal_stack, admin, "410811", f"山阳区通知测试学校{tag()}")
    sign_in(page, school.admin_username, PASSWORD, then="/preferences")
    row = page.locator("tr", has_text="推荐批次开启")
    sms = row.locator(".el-checkbox").nth(2)  # in-app, e-mail, SMS, ...
    expect(sms).to_be_visible(timeout=TIMEOUT)
    sms.click()
    # a mandatory kind keeps its channels
    expect(page.locator("tr", has_text="审核超期").locator("input[type=checkbox]").nth(2)).to_be_disabled()
    page.locator("[data-test='save-preferences']").click()
    expect(page.locator(".el-message--success")).to_contain_text("通知设置已保存", timeout=TIMEOUT)
    check(page, "school-preferences")
    channels = school.admin.call("GET", "/api/preferences").json()["channels"]["round_opened"]
    assert "sms" in channels


# -- at a phone's width ----------------------------------------------------------------------------
def test_the_school_pages_work_at_a_phone_width(
    portal_stack: Stack, admin: Client, new_page: Callable[..., Page]
) -> None:
    school, nid, _ = helan_draft(portal_stack, admin, "手机")
    page = new_page(PHONE)
    sign_in(page, school.admin_username, PASSWORD, then="/school/rounds")
    expect(page.locator("[data-test='round']").first).to_be_visible(timeout=TIMEOUT)
    check(page, "school-rounds-phone")
    for path, name in ((f"/school/nominations/{nid}", "school-wizard-form-phone"), ("/inbox", "school-inbox-phone")):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], f"{path} scrolls sideways"
        check(page, name)
    # The menu opens from the header's button on a phone.
    page.get_by_role("button", name="打开菜单").click()
    expect(page.get_by_role("menuitem", name="推荐批次").last).to_be_visible()
