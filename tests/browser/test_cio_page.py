"""The CIO's page in Chromium: a CIO appointed through the API (沁阳市永威学校, Jiaozuo) sees the appointment, this
year's training requirement as training itself answers it, and the evaluation the school opened, which they fill
in (自评), save as a draft and submit from the self-assessment page."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from shared import clock
from tests.browser.test_review_chains import NewPage, Person, check, reviewer, unique
from tests.e2e.batches import send_up_to_the_city
from tests.e2e.conftest import Stack
from tests.e2e.test_policies_e2e import (
    JIAOZUO_FORM,
    PASSWORD,
    Client,
    candidate,
    jiaozuo_certificate,
    open_round,
    poll,
    prepared_nomination,
    submit,
    task_for,
)

SCHOOL = "4108820001"  # 沁阳市永威学校


def test_the_cio_sees_the_appointment_training_and_fills_in_the_self_assessment(
    portal_stack: Stack, new_page: NewPage
) -> None:
    admin, city = Client(portal_stack, "admin"), Client(portal_stack, "city.reviewer")
    school = reviewer(portal_stack, admin, "school_admin", SCHOOL, "沁阳市永威学校管理员")
    county = reviewer(portal_stack, admin, "county_reviewer", "410882", "沁阳市教育局审核员")
    person = candidate(admin, SCHOOL, unique("陈思远"))
    jiaozuo_certificate(Client(portal_stack, "training.admin"), person["id"])
    round_ = open_round(city, "jiaozuo-2022", "4108", "焦作市首席教育信息官推荐（沁阳市）")
    nomination = prepared_nomination(school.api, round_["id"], SCHOOL, person["id"], JIAOZUO_FORM, photo=True)
    submit(school.api, nomination)
    for who, stage, extra in (
        (school.api, "unit", {}),
        (county.api, "county_review", {}),
        (city, "city_review", {"document_number": "焦教文〔2026〕52号"}),
    ):
        if stage == "city_review":  # 报送至市教育局: the county sends its batch before the city decides
            send_up_to_the_city(county.api, city, round_["id"], "410882", nomination.id)
        task = task_for(who, nomination.id, stage)
        who.call("POST", f"/api/tasks/{task['id']}/decision", json={"decision": "approve", "opinion": "同意", **extra})
    appointment = poll(
        lambda: next(
            (
                a
                for a in city.call("GET", "/api/appointments", params={"org_path": f"/4108/410882/{SCHOOL}"}).json()[
                    "items"
                ]
                if a["nomination_id"] == nomination.id
            ),
            None,
        ),
        "the appointment",
    )
    year = clock.today().year
    school.api.call(
        "POST",
        "/api/evaluations",
        expect=201,
        json={"appointment_id": appointment["id"], "kind": "cio_annual", "period": year},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )

    def cio_signed_in() -> Client | None:
        client = Client(portal_stack, person["username"], PASSWORD)
        grants = client.call("GET", "/api/me").json()["grants"]
        return client if any(g["role"] == "cio" for g in grants) else None

    cio_api = poll(cio_signed_in, "identity grants cio for the appointment")
    # Training hears of the appointment by event; the CIO reads their own standing (and nobody else's).
    standing = poll(
        lambda: cio_api.call("GET", "/api/training-compliance", params={"year": year}).json()["items"] or None,
        "training knows the appointment",
    )
    assert [s["person_user_id"] for s in standing] == [person["id"]]

    cio = Person(portal_stack, person["username"], PASSWORD)
    page = cio.browse(new_page, "/cio")
    expect(page.locator("[data-test=document-number]")).to_have_text("焦教文〔2026〕52号")
    expect(page.locator("[data-test=my-appointment]")).to_contain_text("不设任期")
    requirement = page.locator("[data-test=training-requirement]")
    expect(requirement).to_contain_text(f"{year} 年度培训要求")
    expect(requirement).to_contain_text(f"{standing[0]['completed']}/{standing[0]['required']}")
    due = page.locator("[data-test=due-next]")
    expect(due).to_contain_text("自评")
    expect(page.locator("[data-test=evaluations] .el-table__row")).to_have_count(1)
    check(page, "cio-home-evaluation-due")

    due.get_by_role("link", name=re.compile("自评")).click()
    page.wait_for_url(re.compile(r"/cio/evaluations/[0-9a-f-]+$"))
    first = page.locator(".el-input-number input").first
    expect(first).to_be_visible()
    first.fill("8")
    page.get_by_role("textbox", name="自评总结", exact=True).fill("本年度完成智慧校园二期建设，教师信息化培训全覆盖。")
    page.locator("[data-test=save-self-assessment]").click()
    expect(page.get_by_text("自评已保存")).to_be_visible()
    check(page, "cio-self-assessment")

    # Submitting needs every indicator scored: refused in the page, naming what is missing, nothing sent.
    page.locator("[data-test=submit-self-assessment]").click()
    expect(page.get_by_role("alert").filter(has_text="提交前须")).to_contain_text(
        "提交前须为每项指标自评打分，尚缺：1.2"
    )
    scores = page.locator(".el-input-number input")
    for index in range(scores.count()):
        scores.nth(index).fill("4")
    page.locator("[data-test=submit-self-assessment]").click()
    page.get_by_role("dialog").get_by_role("button", name="提交自评").click()
    page.wait_for_url(re.compile(r"/cio$"))
    expect(page.locator("[data-test=evaluations]")).to_contain_text("已提交核查")
    evaluations = cio_api.call("GET", "/api/evaluations").json()["items"]
    mine = [e for e in evaluations if e["person_user_id"] == person["id"]]
    assert [(e["status"], e["summary"]) for e in mine] == [
        ("submitted", "本年度完成智慧校园二期建设，教师信息化培训全覆盖。")
    ]
