"""Issue 17's rules of the documents through the gateway, the real bus and every service:

- 焦教文〔2022〕60号 is addressed to 「各县（市、区）教育（教体）局，市直各学校」: a school directly under the city
  has no county bureau, and its nomination goes unit → city and is approved (it used to be parked for ever);
- 宜春学院 lets 「职能部门负责人（如教务处、研究生院、信息化管理部门等）」 be CIO: the head of 教务处 (a department org
  under the university) is nominated by the president, appointed through the three bodies and given `cio`;
- 免聘 (not 取消任命): the party committee ends that appointment because the person was reassigned, and identity
  takes the `cio` grant away as it does for a revocation;
- 贺兰县 「任期中若有变更，需要重新向主管教育行政部门报备」: the digital base's export moves the CIO to the bureau, the
  school is told it owes a filing, files the change of person, and the county's acknowledgement appoints the new CIO
  (who gets `cio`) and ends the old appointment (whose `cio` goes).

Each test makes its own org or person, so it shares the session's stack with the other journeys.
"""

from __future__ import annotations

import secrets

import pytest

from tests.e2e.batches import city_task_released, county_sends_its_batch
from tests.e2e.conftest import Stack
from tests.e2e.test_policies_e2e import (
    HELAN_FORM,
    JIAOZUO_FORM,
    PASSWORD,
    YICHUN_FORM,
    Client,
    account,
    appointment_of,
    candidate,
    decide,
    helan_accounts,
    jiaozuo_certificate,
    open_round,
    poll,
    prepared_nomination,
    status_becomes,
    submit,
    tag,
    task_for,
)

pytestmark = pytest.mark.e2e


def test_市直各学校_a_city_run_school_is_reviewed_by_its_unit_then_the_city(stack: Stack) -> None:
    admin, city, trainer = Client(stack, "admin"), Client(stack, "city.reviewer"), Client(stack, "training.admin")
    code = f"4108{secrets.randbelow(10**6):06d}"
    admin.call(
        "POST",
        "/api/orgs",
        expect=201,
        json={"code": code, "name": f"焦作市直属中学{tag()}", "level": "school", "parent_code": "4108"},
    )
    school = account(stack, admin, "school_admin", code, "市直中学管理员")
    person = candidate(admin, code, "周立新")
    jiaozuo_certificate(trainer, person["id"])

    round_ = open_round(city, "jiaozuo-2022", "4108", f"焦作市直-{tag()}")
    nomination = prepared_nomination(school, round_["id"], code, person["id"], JIAOZUO_FORM, photo=True)
    assert submit(school, nomination)["status"] == "submitted"
    unit = task_for(school, nomination.id, "unit")
    assert unit["org_path"] == f"/4108/{code}"
    decide(school, unit, "approve", "同意推荐", "焦作市直属中学")

    city_task = task_for(city, nomination.id, "city_review")  # no county stage: 市直 goes to the city
    assert (city_task["stage_index"], city_task["org_path"]) == (1, "/4108")
    # no county sends its form up (报送): the city decides it without waiting for a batch
    assert (city_task["awaits_batch_from"], city_task["awaiting_batch"]) == (None, False)
    final = decide(city, city_task, "approve", "同意聘任", "焦作市教育局", document_number=f"焦教文〔2026〕{tag()}号")
    assert final["outcome"] == "approved"
    status_becomes(school, nomination.id, "approved")
    made = appointment_of(city, nomination.id, f"/4108/{code}")
    assert made["person_user_id"] == person["id"] and made["status"] == "active"


def test_报送至市教育局_the_city_decides_a_county_schools_form_after_the_county_sent_its_batch(stack: Stack) -> None:
    """焦教文〔2022〕60号: 「将焦作市首席教育信息官推荐表、汇总表各1份，报送至市教育局」 — the county sends its batch in
    one act; until then the city's task waits (shown in its inbox) and a decision is 409 problem+json `batch`."""
    admin, city, trainer = Client(stack, "admin"), Client(stack, "city.reviewer"), Client(stack, "training.admin")
    county = Client(stack, "county.reviewer")  # 解放区教育局
    code = f"410802{secrets.randbelow(10**4):04d}"
    admin.call(
        "POST",
        "/api/orgs",
        expect=201,
        json={"code": code, "name": f"解放区报送试点学校{tag()}", "level": "school", "parent_code": "410802"},
    )
    school = account(stack, admin, "school_admin", code, "报送试点学校管理员")
    person = candidate(admin, code, "刘志远")
    jiaozuo_certificate(trainer, person["id"])

    round_ = open_round(city, "jiaozuo-2022", "4108", f"焦作报送-{tag()}")
    nomination = prepared_nomination(school, round_["id"], code, person["id"], JIAOZUO_FORM, photo=True)
    submit(school, nomination)
    decide(school, task_for(school, nomination.id, "unit"), "approve", "同意推荐", "解放区报送试点学校")
    decide(county, task_for(county, nomination.id, "county_review"), "approve", "经审核，符合条件", "解放区教育局")

    city_task = task_for(city, nomination.id, "city_review")
    assert (city_task["awaits_batch_from"], city_task["awaiting_batch"]) == ("/4108/410802", True)
    body = {"decision": "approve", "opinion": "同意聘任", "document_number": f"焦教文〔2026〕{tag()}号"}
    held = city.call("POST", f"/api/tasks/{city_task['id']}/decision", expect=409, json=body)
    assert held.headers["Content-Type"].startswith("application/problem+json")
    assert [e["field"] for e in held.json()["errors"]] == ["batch"] and "报送" in held.json()["detail"]

    batch = county_sends_its_batch(county, round_["id"], "410802", nomination.id)
    assert (batch["to_role"], batch["to_org_path"]) == ("city_reviewer", "/4108")
    released = city_task_released(city, nomination.id)
    assert released["id"] == city_task["id"]
    final = city.call("POST", f"/api/tasks/{city_task['id']}/decision", json=body).json()
    assert final["outcome"] == "approved" and final["appointment_id"]
    status_becomes(school, nomination.id, "approved")
    made = appointment_of(city, nomination.id, f"/4108/410802/{code}")
    assert made["person_user_id"] == person["id"] and made["status"] == "active"


def test_职能部门负责人_the_head_of_academic_affairs_becomes_cio_and_免聘_takes_the_role_away(stack: Stack) -> None:
    admin = Client(stack, "admin")
    president, meeting = Client(stack, "president"), Client(stack, "office.meeting")
    committee = Client(stack, "party.committee")
    head = candidate(admin, "10417-ACA", "孙教务")  # belongs to 教务处, not to the university org itself

    round_ = open_round(president, "yichun-university", "10417", f"宜春学院职能部门-{tag()}")

    def listed() -> bool:
        items = president.call(
            "GET", "/api/nominations/candidates", params={"org_code": "10417", "round_id": round_["id"]}
        ).json()["items"]
        return any(c["user_id"] == head["id"] and c["org_code"] == "10417-ACA" for c in items)

    poll(listed, "the department head among the university's candidates")
    form = {**YICHUN_FORM, "current_post": "教务处处长", "post_kind": "department_head"}
    nomination = prepared_nomination(president, round_["id"], "10417", head["id"], form, photo=False)
    assert submit(president, nomination)["status"] == "submitted"
    decide(president, task_for(president, nomination.id, "president_nomination"), "approve", "提名推荐", "宜春学院")
    decide(meeting, task_for(meeting, nomination.id, "office_meeting"), "approve", "审议通过", "宜春学院校长办公室")
    final = decide(
        committee,
        task_for(committee, nomination.id, "party_committee"),
        "approve",
        "党委常委会批准",
        "中共宜春学院委员会",
        document_number=f"宜院党字〔2026〕{tag()}号",
    )
    assert final["outcome"] == "approved"
    appointment = appointment_of(committee, nomination.id, "/10417")
    assert appointment["person_user_id"] == head["id"]

    cio = {"role": "cio", "org_path": "/10417"}

    def grants() -> list[dict[str, str]]:
        """Signed in afresh each time: a token carries the grants of the moment it was issued."""
        me = Client(stack, head["username"], PASSWORD).call("GET", "/api/me").json()
        return [{"role": g["role"], "org_path": g["org_path"]} for g in me["grants"]]

    poll(lambda: cio in grants() or None, "identity grants cio")

    # 免聘: reassigned — a normal end, not 取消任命; the school cannot do it, the committee that appointed can
    body = {"reason": "reassigned", "note": "调任学院办公室主任"}
    president.call("POST", f"/api/appointments/{appointment['id']}/end", expect=403, json=body)
    ended = committee.call("POST", f"/api/appointments/{appointment['id']}/end", json=body).json()
    assert (ended["status"], ended["end_reason"], ended["revoked_reason"]) == ("ended", "reassigned", None)

    poll(lambda: cio not in grants() or None, "identity takes cio away")
    me = Client(stack, head["username"], PASSWORD)

    def told() -> dict[str, object] | None:
        items = me.call("GET", "/api/inbox", params={"limit": 50}).json()["items"]
        return next((m for m in items if m["kind"] == "appointment_ended"), None)

    message = poll(told, "the person is told why the appointment ended")
    assert "工作调整" in str(message["body"])


def test_任期中若有变更_the_cio_leaves_the_school_and_the_bureau_records_the_new_one(stack: Stack) -> None:
    admin = Client(stack, "admin")
    code = f"640122{secrets.randbelow(10**4):04d}"
    admin.call(
        "POST",
        "/api/orgs",
        expect=201,
        json={"code": code, "name": f"贺兰县第{tag()}中学", "level": "school", "parent_code": "640122"},
    )
    school, county = helan_accounts(stack, admin, code)
    leaving, successor = candidate(admin, code, "马离任"), candidate(admin, code, "杨接任")

    round_ = open_round(county, "helan-2024", "640122", f"贺兰变更-{tag()}")
    nomination = prepared_nomination(school, round_["id"], code, leaving["id"], HELAN_FORM, photo=True)
    submit(school, nomination)
    decide(school, task_for(school, nomination.id, "unit"), "approve", "同意推荐", "贺兰县学校")
    decide(
        county,
        task_for(county, nomination.id, "county_appointment"),
        "approve",
        "同意聘任",
        "贺兰县教育体育局",
        document_number=f"贺教体发〔2026〕{tag()}号",
    )
    appointment = appointment_of(county, nomination.id, f"/640122/{code}")

    # The digital base's export now has the CIO at the county bureau (identity.user.updated).
    moved = f"username,display_name,org_code\n{leaving['username']},马离任,640122\n"
    report = admin.call("POST", "/api/users/import", data=moved.encode(), headers={"Content-Type": "text/csv"}).json()
    assert report["updated"] == 1, report
    filings = f"/api/appointments/{appointment['id']}/filings"

    def owed() -> dict[str, object] | None:
        return next((f for f in school.call("GET", filings).json()["items"] if f["status"] == "due"), None)

    due = poll(owed, "the school owes a filing")
    assert due["kind"] == "person"

    def told() -> dict[str, object] | None:
        items = school.call("GET", "/api/inbox", params={"limit": 50}).json()["items"]
        return next((m for m in items if m["kind"] == "appointment_filing_due"), None)

    assert "报备" in str(poll(told, "the school is told")["body"])
    filed = school.call(
        "POST",
        filings,
        expect=201,
        json={
            "kind": "person",
            "change": "原首席信息官调任县教育体育局，由杨接任",
            "new_person_user_id": successor["id"],
            "new_person_name": "杨接任",
        },
    ).json()
    assert (filed["id"], filed["status"]) == (due["id"], "filed")
    acknowledged = county.call(
        "POST",
        f"{filings}/{due['id']}/decision",
        json={"decision": "acknowledge", "opinion": "同意备案", "document_number": f"贺教体发〔2026〕{tag()}号"},
    ).json()
    assert acknowledged["status"] == "acknowledged" and acknowledged["successor_appointment_id"]
    new = county.call("GET", f"/api/appointments/{acknowledged['successor_appointment_id']}").json()
    assert (new["person_user_id"], new["status"]) == (successor["id"], "active")
    old = county.call("GET", f"/api/appointments/{appointment['id']}").json()
    assert (old["status"], old["end_reason"]) == ("ended", "changed")

    cio = {"role": "cio", "org_path": f"/640122/{code}"}

    def grants(person: dict[str, object]) -> list[dict[str, str]]:
        me = Client(stack, str(person["username"]), PASSWORD).call("GET", "/api/me").json()
        return [{"role": g["role"], "org_path": g["org_path"]} for g in me["grants"]]

    poll(lambda: cio in grants(successor) or None, "the new CIO holds cio")
    poll(lambda: cio not in grants(leaving) or None, "the one who left no longer does")
