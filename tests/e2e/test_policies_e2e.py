"""Each of the three policies end to end, through the gateway, over the real bus (SPEC §2, §5):

a Jiaozuo nomination from round to submission as issue 3 asks (the submitted event carries the form, other
schools and counties get 404, a stale If-Match is 412, a repeated Idempotency-Key creates one nomination, a
submission after the deadline is refused and the worker's timer closes the round);
submit → every stage of the policy's chain decides → the appointment carries the policy's term → the
nomination turns `approved` by approvals' events; a return re-enters the chain where the policy says
(Jiaozuo: at the returning stage, Helan: at the first); a withdrawal cancels the case and empties the
inbox; Yichun renews (连聘) through its three bodies again, and refuses a third consecutive term with a reason a
person can read.

Every test uses schools and candidates of its own (one live nomination per school and round, one active
appointment per org), so they share the session's stack without interfering with each other or with
tests/e2e/test_cio_workflow_e2e.py (解放区第一实验小学) and test_training_e2e.py (修武县城关小学); the
issue-3 test uses 沁阳市永威学校 (county 沁阳市, which no other test touches).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pika
import pytest
import requests

from shared import clock
from tests.e2e.batches import send_up_to_the_city
from tests.e2e.conftest import Stack, token
from tests.helpers import wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(journey_stack: Stack) -> Stack:
    """These journeys run on the embedded default of `make run` and on a PostgreSQL server."""
    return journey_stack


# A real 2×3 PNG: the service reads an upload's size from its header and refuses what it cannot read.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAADCAIAAAA2iEnWAAAAFElEQVR4nGM8ISfHwMDAxMDAgKAAFEoBCqHkTQMAAAAASUVORK5CYII="
)
PASSWORD = "policy-e2e-password-2026"
WAIT = 60.0
POLL = 0.3
T = TypeVar("T")


def poll(found: Callable[[], T | None], message: str) -> T:
    """wait_until with the generous timeout of a shared machine, typed for helpers that return None until ready."""
    value = wait_until(found, timeout=WAIT, interval=POLL, message=message)
    assert value is not None
    return value


class Client:
    """One signed-in account talking to the gateway."""

    def __init__(self, stack: Stack, username: str, password: str | None = None) -> None:
        self.base = stack.gateway
        access = token(stack, username, password) if password else token(stack, username)
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {access}"

    def call(self, method: str, path: str, expect: int | None = 200, **kwargs: Any) -> requests.Response:
        response = self.session.request(method, f"{self.base}{path}", timeout=15, **kwargs)
        if expect is not None:
            assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response


# -- accounts -------------------------------------------------------------------------------------
def tag() -> str:
    return uuid.uuid4().hex[:6]


def new_user(admin: Client, org_code: str, display_name: str, **extra: Any) -> dict[str, Any]:
    """A user created by the platform admin (identity tells the other services by event)."""
    body = {"username": f"p{tag()}.{org_code.lower()}", "display_name": display_name, "org_code": org_code}
    return dict(admin.call("POST", "/api/users", expect=201, json={**body, "password": PASSWORD, **extra}).json())


def account(stack: Stack, admin: Client, role: str, org_code: str, display_name: str) -> Client:
    """A fresh user holding `role` at `org_code`, signed in (the token carries the grant)."""
    user = new_user(admin, org_code, display_name)
    admin.call("POST", f"/api/users/{user['id']}/grants", expect=201, json={"role": role, "org_code": org_code})
    return Client(stack, user["username"], PASSWORD)


def candidate(admin: Client, org_code: str, display_name: str) -> dict[str, Any]:
    """The person to nominate, with the directory data the forms prefill (phone, e-mail, birth date, gender)."""
    return new_user(
        admin,
        org_code,
        display_name,
        phone="13900139000",
        email=f"{tag()}@example.cn",
        gender="男",
        birth_date="1975-03-08",
    )


def jiaozuo_certificate(trainer: Client, person_id: str) -> None:
    """Jiaozuo's qualification: a city-level CIO training certificate (training learns the person by event)."""

    def recorded() -> bool:
        response = trainer.call(
            "POST",
            "/api/certificates",
            expect=None,
            json={
                "number": f"JZ-CIO-{tag()}",
                "person_user_id": person_id,
                "kind": "cio",
                "level": "city",
                "issuer": "焦作市教育局",
                "issued_on": "2026-01-10",
            },
        )
        assert response.status_code in (201, 404, 422), response.text
        return response.status_code == 201

    poll(recorded, "training knows the candidate")


# -- nominations ----------------------------------------------------------------------------------
JIAOZUO_FORM = {
    "education": "本科",
    "ethnicity": "汉族",
    "teaching_years": 22,
    "administrative_post": "校长",
    "professional_title": "高级教师",
    "postal_address": "焦作市山阳区人民路8号",
    "work_achievements": "牵头建设智慧校园，推动数字化教学常态化应用。",
    "post_kind": "principal",
    "years_in_it_management": 4,
}
HELAN_FORM = {
    "political_status": "中共党员",
    "highest_education": "大学本科",
    "graduating_school": "宁夏大学",
    "major": "教育技术学",
    "position": "校长",
    "work_history": "2005年起任教，2018年起任校长，分管学校信息化建设。",
    "is_legal_representative": True,
}
YICHUN_FORM = {
    "current_post": "副校长",
    "post_kind": "vice_president",
    "political_status": "中共党员",
    "professional_title_grade": "正高级",
    "admin_rank": "县处级",
    "years_at_university": 8,
    "work_history": "历任现代教育技术与信息中心主任、副校长。",
}


def open_round(issuer: Client, policy_id: str, org_code: str, title: str) -> dict[str, Any]:
    deadline = (dt.datetime.now(dt.UTC) + dt.timedelta(days=20)).isoformat()
    body = {"title": title, "policy_id": policy_id, "issuing_org_code": org_code, "deadline": deadline}
    return dict(issuer.call("POST", "/api/rounds", expect=201, json=body).json())


@dataclass
class Nomination:
    id: str
    etag: str


def prepared_nomination(
    nominator: Client, round_id: str, org_code: str, person_id: str, form: dict[str, Any], *, photo: bool
) -> Nomination:
    """Create the unit's nomination, fill the policy's form, attach the photo and sign it, ready to submit."""

    def created() -> requests.Response | None:
        response = nominator.call(
            "POST",
            "/api/nominations",
            expect=None,
            json={"round_id": round_id, "school_org_code": org_code, "candidate_user_id": person_id},
            headers={"Idempotency-Key": f"create-{round_id}-{org_code}"},
        )
        assert response.status_code in (201, 422), response.text  # 422 until nominations knows the candidate
        return response if response.status_code == 201 else None

    response = poll(created, "nominations knows the candidate")
    nid, etag = response.json()["id"], response.headers["ETag"]
    etag = nominator.call("PATCH", f"/api/nominations/{nid}", json={"form": form}, headers={"If-Match": etag}).headers[
        "ETag"
    ]
    if photo:
        etag = nominator.call(
            "PUT", f"/api/nominations/{nid}/photo", data=PNG, headers={"If-Match": etag, "Content-Type": "image/png"}
        ).headers["ETag"]
    return Nomination(nid, attest(nominator, nid, etag))


def attest(nominator: Client, nid: str, etag: str) -> str:
    signed = nominator.call(
        "POST",
        f"/api/nominations/{nid}/attestation",
        json={"signer_name": "填表人", "confirm": True},
        headers={"If-Match": etag},
    )
    return str(signed.headers["ETag"])


def submit(nominator: Client, nomination: Nomination) -> dict[str, Any]:
    """Submit once the eligibility facts (certificates, term counts) have reached nominations."""

    def eligible() -> bool:
        return bool(nominator.call("GET", f"/api/nominations/{nomination.id}/eligibility").json()["eligible"])

    poll(eligible, "the candidate is eligible")
    response = nominator.call("POST", f"/api/nominations/{nomination.id}/submit", headers={"If-Match": nomination.etag})
    nomination.etag = response.headers["ETag"]
    return dict(response.json())


def resubmit(nominator: Client, nomination: Nomination) -> dict[str, Any]:
    """Answer a return: the signature was cleared by the return, so sign again, then submit."""
    current = nominator.call("GET", f"/api/nominations/{nomination.id}")
    nomination.etag = attest(nominator, nomination.id, current.headers["ETag"])
    return submit(nominator, nomination)


def status_becomes(client: Client, nid: str, status: str) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        body = client.call("GET", f"/api/nominations/{nid}").json()
        return body if body["status"] == status else None

    return poll(reached, f"nomination {nid} becomes {status}")


# -- approvals ------------------------------------------------------------------------------------
def open_task(client: Client, nid: str) -> dict[str, Any] | None:
    items = client.call("GET", "/api/tasks", params={"limit": 100}).json()["items"]
    return next((t for t in items if t["nomination_id"] == nid), None)


def task_for(client: Client, nid: str, stage_key: str) -> dict[str, Any]:
    """Wait until the reviewer's inbox holds this nomination's task of the given stage."""

    def arrived() -> dict[str, Any] | None:
        task = open_task(client, nid)
        return task if task is not None and task["stage_key"] == stage_key else None

    return poll(arrived, f"the {stage_key} task of {nid}")


def decide(
    client: Client,
    task: dict[str, Any],
    decision: str,
    opinion: str,
    unit: str,
    **extra: Any,
) -> dict[str, Any]:
    body = {"decision": decision, "opinion": opinion, "seal": {"unit_name": unit}, **extra}
    return dict(client.call("POST", f"/api/tasks/{task['id']}/decision", json=body).json())


def appointment_of(client: Client, nid: str, org_path: str) -> dict[str, Any]:
    def made() -> dict[str, Any] | None:
        params = {"org_path": org_path, "limit": 100}
        items = client.call("GET", "/api/appointments", params=params).json()["items"]
        return next((a for a in items if a["nomination_id"] == nid), None)

    return poll(made, f"the appointment of {nid}")


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


# -- Jiaozuo: unit → county bureau → city bureau; no term ----------------------------------------
def test_jiaozuo_every_stage_decides_and_the_appointment_has_no_end(stack: Stack) -> None:
    admin, city, trainer = Client(stack, "admin"), Client(stack, "city.reviewer"), Client(stack, "training.admin")
    school = account(stack, admin, "school_admin", "4108110001", "山阳区实验小学管理员")
    county = account(stack, admin, "county_reviewer", "410811", "山阳区教育局审核员")
    person = candidate(admin, "4108110001", "王建国")
    jiaozuo_certificate(trainer, person["id"])

    round_ = open_round(city, "jiaozuo-2022", "4108", f"焦作推荐-{tag()}")
    nomination = prepared_nomination(school, round_["id"], "4108110001", person["id"], JIAOZUO_FORM, photo=True)
    assert submit(school, nomination)["status"] == "submitted"
    nid = nomination.id

    unit = task_for(school, nid, "unit")
    assert (unit["role"], unit["org_path"]) == ("school_admin", "/4108/410811/4108110001")
    # The school cannot act on the bureau's stage before it is current, nor on the bureau's behalf.
    first = decide(school, unit, "approve", "同意推荐", "山阳区实验小学")
    assert first["outcome"] == "in_review" and first["appointment_id"] is None
    school.call(
        "POST", f"/api/tasks/{unit['id']}/decision", expect=409, json={"decision": "approve", "opinion": "再次"}
    )

    county_task = task_for(county, nid, "county_review")
    assert (county_task["role"], county_task["org_path"]) == ("county_reviewer", "/4108/410811")
    assert county_task["stage_index"] == 1
    Client(stack, "county2.reviewer").call("GET", f"/api/tasks/{county_task['id']}", expect=404)
    school.call(
        "POST",
        f"/api/tasks/{county_task['id']}/decision",
        expect=404,
        json={"decision": "approve", "opinion": "越权"},
    )
    status_becomes(school, nid, "under_review")
    decide(county, county_task, "approve", "经审核，符合条件", "山阳区教育局")

    # 推荐表、汇总表各1份，报送至市教育局: the county sends its batch, then the city decides
    city_task = send_up_to_the_city(county, city, round_["id"], "410811", nid)
    assert (city_task["role"], city_task["org_path"]) == ("city_reviewer", "/4108")
    final = decide(city, city_task, "approve", "同意聘任", "焦作市教育局", document_number="焦教文〔2026〕31号")
    assert final["outcome"] == "approved" and final["appointment_id"]

    approved = status_becomes(school, nid, "approved")
    assert approved["decided_at"]
    appointment = appointment_of(city, nid, "/4108/410811/4108110001")
    assert appointment["id"] == final["appointment_id"]
    assert appointment["person_user_id"] == person["id"] and appointment["org_code"] == "4108110001"
    assert appointment["policy_id"] == "jiaozuo-2022" and appointment["term_number"] == 1
    assert appointment["document_number"] == "焦教文〔2026〕31号"
    assert appointment["starts_on"] in {utc_today().isoformat(), clock.today().isoformat()}
    assert appointment["ends_on"] is None  # 焦教文〔2022〕60号 sets no term: the appointment lasts until revoked
    assert appointment["status"] == "active"

    history = city.call("GET", f"/api/cases/{final['case_id']}/history").json()["items"]
    decided = [h for h in history if h["action"] == "task.decided"]
    assert [h["details"]["stage_index"] for h in decided] == [0, 1, 2]
    assert [h["details"]["seal_unit_name"] for h in decided] == ["山阳区实验小学", "山阳区教育局", "焦作市教育局"]


def test_jiaozuo_return_reenters_at_the_returning_stage(stack: Stack) -> None:
    admin, city, trainer = Client(stack, "admin"), Client(stack, "city.reviewer"), Client(stack, "training.admin")
    county = Client(stack, "county.reviewer")  # 解放区教育局
    school = account(stack, admin, "school_admin", "4108020002", "解放区育才中学管理员")
    person = candidate(admin, "4108020002", "李红梅")
    jiaozuo_certificate(trainer, person["id"])

    round_ = open_round(city, "jiaozuo-2022", "4108", f"焦作退回-{tag()}")
    nomination = prepared_nomination(school, round_["id"], "4108020002", person["id"], JIAOZUO_FORM, photo=True)
    submit(school, nomination)
    nid = nomination.id
    decide(school, task_for(school, nid, "unit"), "approve", "同意推荐", "解放区育才中学")

    county_task = task_for(county, nid, "county_review")
    county.call(
        "POST",
        f"/api/tasks/{county_task['id']}/decision",
        expect=422,
        json={"decision": "return", "seal": {"unit_name": "解放区教育局"}},
    )  # a return needs its 审核意见
    returned = decide(county, county_task, "return", "工作事迹过于简略，请补充。", "解放区教育局")
    assert returned["outcome"] == "returned" and returned["next_task_id"] is None

    back = status_becomes(school, nid, "returned")
    assert back["returned_at_stage"] == 1
    assert open_task(county, nid) is None

    current = school.call("GET", f"/api/nominations/{nid}")
    nomination.etag = school.call(
        "PATCH",
        f"/api/nominations/{nid}",
        json={"form": {"work_achievements": "牵头建设智慧校园；建成录播教室3间；组织全校教师信息技术培训。"}},
        headers={"If-Match": current.headers["ETag"]},
    ).headers["ETag"]
    nomination.etag = attest(school, nid, nomination.etag)
    assert submit(school, nomination)["status"] == "resubmitted"

    # 焦作: the resubmission goes straight back to the county bureau that returned it, not to the unit.
    again = task_for(county, nid, "county_review")
    assert again["id"] != county_task["id"]
    assert again["stage_index"] == 1 and again["revision"] == 2
    assert open_task(school, nid) is None
    decide(county, again, "approve", "补充完整，同意", "解放区教育局")
    city_task = send_up_to_the_city(county, city, round_["id"], "410802", nid)
    decide(city, city_task, "approve", "同意聘任", "焦作市教育局", document_number="焦教文〔2026〕32号")

    status_becomes(school, nid, "approved")
    appointment = appointment_of(city, nid, "/4108/410802/4108020002")
    assert appointment["ends_on"] is None and appointment["document_number"] == "焦教文〔2026〕32号"
    case = city.call("GET", f"/api/cases/{returned['case_id']}").json()
    assert case["status"] == "approved" and case["revision"] == 2
    assert [t["stage_index"] for t in sorted(case["tasks"], key=lambda t: t["assigned_at"])] == [0, 1, 1, 2]


def test_jiaozuo_withdrawal_cancels_the_case_and_empties_the_inbox(stack: Stack) -> None:
    admin, city, trainer = Client(stack, "admin"), Client(stack, "city.reviewer"), Client(stack, "training.admin")
    county = Client(stack, "county2.reviewer")  # 修武县教育局
    school = account(stack, admin, "school_admin", "4108210002", "修武县第一中学管理员")
    person = candidate(admin, "4108210002", "赵明")
    jiaozuo_certificate(trainer, person["id"])

    round_ = open_round(city, "jiaozuo-2022", "4108", f"焦作撤回-{tag()}")
    nomination = prepared_nomination(school, round_["id"], "4108210002", person["id"], JIAOZUO_FORM, photo=True)
    submit(school, nomination)
    nid = nomination.id
    first = decide(school, task_for(school, nid, "unit"), "approve", "同意推荐", "修武县第一中学")
    county_task = task_for(county, nid, "county_review")

    status_becomes(school, nid, "under_review")
    current = school.call("GET", f"/api/nominations/{nid}")
    withdrawn = school.call("POST", f"/api/nominations/{nid}/withdraw", headers={"If-Match": current.headers["ETag"]})
    assert withdrawn.json()["status"] == "withdrawn"

    wait_until(lambda: open_task(county, nid) is None, timeout=WAIT, interval=POLL, message="the task leaves the inbox")

    def cancelled() -> dict[str, Any] | None:
        case = county.call("GET", f"/api/cases/{first['case_id']}").json()
        return case if case["status"] == "cancelled" else None

    case = poll(cancelled, "the case is cancelled")
    assert case["closed_at"]
    assert {t["id"]: t["status"] for t in case["tasks"]}[county_task["id"]] == "cancelled"
    # The cancelled task cannot be decided any more, and nothing was appointed.
    county.call(
        "POST",
        f"/api/tasks/{county_task['id']}/decision",
        expect=409,
        json={"decision": "approve", "opinion": "同意", "seal": {"unit_name": "修武县教育局"}},
    )
    items = city.call("GET", "/api/appointments", params={"limit": 100}).json()["items"]
    assert not [a for a in items if a["nomination_id"] == nid]
    history = county.call("GET", f"/api/cases/{first['case_id']}/history").json()["items"]
    assert "case.cancelled" in [h["action"] for h in history]


# -- Helan: school → county bureau; a 3-year term -------------------------------------------------
def helan_accounts(stack: Stack, admin: Client, school_code: str) -> tuple[Client, Client]:
    school = account(stack, admin, "school_admin", school_code, "贺兰县学校管理员")
    county = account(stack, admin, "county_reviewer", "640122", "贺兰县教育体育局审核员")
    return school, county


def test_helan_every_stage_decides_and_the_term_is_three_years(stack: Stack) -> None:
    admin = Client(stack, "admin")
    school, county = helan_accounts(stack, admin, "6401220001")
    person = candidate(admin, "6401220001", "马志强")

    round_ = open_round(county, "helan-2024", "640122", f"贺兰推荐-{tag()}")
    nomination = prepared_nomination(school, round_["id"], "6401220001", person["id"], HELAN_FORM, photo=True)
    assert submit(school, nomination)["status"] == "submitted"
    nid = nomination.id

    unit = task_for(school, nid, "unit")
    assert (unit["role"], unit["org_path"]) == ("school_admin", "/640122/6401220001")
    decide(school, unit, "approve", "同意推荐", "贺兰县第一小学")
    county_task = task_for(county, nid, "county_appointment")
    assert (county_task["role"], county_task["org_path"]) == ("county_reviewer", "/640122")
    final = decide(
        county,
        county_task,
        "approve",
        "同意聘任",
        "贺兰县教育体育局",
        document_number="贺教体发〔2026〕7号",
        starts_on="2026-09-01",
    )
    assert final["outcome"] == "approved"

    status_becomes(school, nid, "approved")
    appointment = appointment_of(county, nid, "/640122/6401220001")
    assert appointment["policy_id"] == "helan-2024" and appointment["org_path"] == "/640122/6401220001"
    # 每届任期一般不少于3年: 2026-09-01 … 2029-08-31.
    assert (appointment["starts_on"], appointment["ends_on"]) == ("2026-09-01", "2029-08-31")
    assert appointment["term_number"] == 1 and appointment["document_number"] == "贺教体发〔2026〕7号"
    assert appointment["appointing_role"] == "county_reviewer" and appointment["appointing_org_path"] == "/640122"


def test_helan_return_reenters_at_the_first_stage(stack: Stack) -> None:
    admin = Client(stack, "admin")
    school, county = helan_accounts(stack, admin, "6401220002")
    person = candidate(admin, "6401220002", "杨丽")

    round_ = open_round(county, "helan-2024", "640122", f"贺兰退回-{tag()}")
    nomination = prepared_nomination(school, round_["id"], "6401220002", person["id"], HELAN_FORM, photo=True)
    submit(school, nomination)
    nid = nomination.id
    decide(school, task_for(school, nid, "unit"), "approve", "同意推荐", "贺兰县第二中学")
    county_task = task_for(county, nid, "county_appointment")
    returned = decide(county, county_task, "return", "请补充工作经历。", "贺兰县教育体育局")
    assert returned["outcome"] == "returned"

    status_becomes(school, nid, "returned")
    assert resubmit(school, nomination)["status"] == "resubmitted"

    # 贺兰: the resubmission starts the chain again with the school's own opinion.
    unit_again = task_for(school, nid, "unit")
    assert unit_again["stage_index"] == 0 and unit_again["revision"] == 2
    assert open_task(county, nid) is None
    decide(school, unit_again, "approve", "已补充，同意推荐", "贺兰县第二中学")
    county_again = task_for(county, nid, "county_appointment")
    decide(
        county,
        county_again,
        "approve",
        "同意聘任",
        "贺兰县教育体育局",
        document_number="贺教体发〔2026〕8号",
        starts_on="2026-09-01",
    )

    status_becomes(school, nid, "approved")
    appointment = appointment_of(county, nid, "/640122/6401220002")
    assert (appointment["starts_on"], appointment["ends_on"]) == ("2026-09-01", "2029-08-31")
    case = county.call("GET", f"/api/cases/{returned['case_id']}").json()
    assert [t["stage_index"] for t in sorted(case["tasks"], key=lambda t: t["assigned_at"])] == [0, 1, 0, 1]


# -- Yichun: president → office meeting → party committee; 3 years, at most 2 consecutive terms ----
def test_yichun_chain_term_and_third_consecutive_term_refused(stack: Stack) -> None:
    admin = Client(stack, "admin")
    president, meeting = Client(stack, "president"), Client(stack, "office.meeting")
    committee = Client(stack, "party.committee")
    person = candidate(admin, "10417", "刘振华")

    round_ = open_round(president, "yichun-university", "10417", f"宜春学院CIO聘任-{tag()}")
    nomination = prepared_nomination(president, round_["id"], "10417", person["id"], YICHUN_FORM, photo=False)
    assert submit(president, nomination)["status"] == "submitted"
    nid = nomination.id

    nominated = task_for(president, nid, "president_nomination")
    assert (nominated["role"], nominated["org_path"]) == ("university_president", "/10417")
    decide(president, nominated, "approve", "提名推荐", "宜春学院")
    meeting_task = task_for(meeting, nid, "office_meeting")
    assert meeting_task["role"] == "university_office_meeting"
    committee.call("GET", f"/api/tasks/{meeting_task['id']}", expect=404)  # not the committee's stage
    decide(meeting, meeting_task, "approve", "校长办公会审议通过", "宜春学院校长办公室")
    committee_task = task_for(committee, nid, "party_committee")
    final = decide(
        committee,
        committee_task,
        "approve",
        "党委常委会批准",
        "中共宜春学院委员会",
        document_number="宜院党字〔2026〕15号",
        starts_on="2026-09-01",
    )
    assert final["outcome"] == "approved"

    status_becomes(president, nid, "approved")
    first = appointment_of(committee, nid, "/10417")
    # 任期3年: 2026-09-01 … 2029-08-31.
    assert (first["starts_on"], first["ends_on"], first["term_number"]) == ("2026-09-01", "2029-08-31", 1)
    assert first["appointing_role"] == "party_committee"

    # 可连聘连任: not a single call of the committee, but 校长提名 → 校长办公会审议 → 党委常委会批准 again.
    single = committee.call(
        "POST", f"/api/appointments/{first['id']}/renew", expect=422, json={"document_number": "宜院党字〔2029〕3号"}
    )
    assert [e["field"] for e in single.json()["errors"]] == ["policy"] and "连聘" in single.json()["detail"]
    renewal_round = open_round(president, "yichun-university", "10417", f"宜春学院连聘-{tag()}")
    renewal = prepared_nomination(president, renewal_round["id"], "10417", person["id"], YICHUN_FORM, photo=False)
    assert submit(president, renewal)["status"] == "submitted"
    decide(president, task_for(president, renewal.id, "president_nomination"), "approve", "提名连聘", "宜春学院")
    decide(meeting, task_for(meeting, renewal.id, "office_meeting"), "approve", "审议通过", "宜春学院校长办公室")
    renewed = decide(
        committee,
        task_for(committee, renewal.id, "party_committee"),
        "approve",
        "党委常委会批准连聘",
        "中共宜春学院委员会",
        document_number="宜院党字〔2029〕3号",
    )
    assert renewed["outcome"] == "approved"
    # 连任: the second term starts the day after the first ends.
    second = appointment_of(committee, renewal.id, "/10417")
    assert (second["starts_on"], second["ends_on"], second["term_number"]) == ("2029-09-01", "2032-08-31", 2)
    assert second["previous_appointment_id"] == first["id"]
    assert committee.call("GET", f"/api/appointments/{first['id']}").json()["status"] == "renewed"

    # 连任不超过2届: nominations learns the terms by event, so the same person is no longer eligible in a new
    # round, and the committee could not approve a third consecutive term either (tests/integration/approvals).
    later = open_round(president, "yichun-university", "10417", f"宜春学院换届-{tag()}")
    again = prepared_nomination(president, later["id"], "10417", person["id"], YICHUN_FORM, photo=False)

    def term_limit_reached() -> bool:
        result = president.call("GET", f"/api/nominations/{again.id}/eligibility").json()
        return not result["eligible"] and [r["rule"] for r in result["reasons"]] == ["term_limit"]

    poll(term_limit_reached, "nominations counts two terms")


# -- issue 3 through the gateway: one Jiaozuo nomination from round to submission ------------------
@dataclass
class Tap:
    """An exclusive queue bound to the nominations service's events, read as they arrive."""

    channel: Any
    queue: str
    seen: list[dict[str, Any]] = field(default_factory=list)

    def event(self, event_type: str, subject: str) -> dict[str, Any]:
        def arrived() -> dict[str, Any] | None:
            while True:
                method, _properties, body = self.channel.basic_get(self.queue, auto_ack=True)
                if method is None:
                    break
                self.seen.append(json.loads(body))
            return next((e for e in self.seen if e["type"] == event_type and e["subject"] == subject), None)

        return poll(arrived, f"{event_type} for {subject} on the bus")


def test_jiaozuo_submission_through_the_gateway(stack: Stack) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(stack.amqp_url))
    channel = connection.channel()
    tap = Tap(channel, f"e2e.nominations.{tag()}")
    channel.exchange_declare("cio.events", "topic", durable=True)
    channel.queue_declare(tap.queue, exclusive=True)
    channel.queue_bind(tap.queue, "cio.events", "nominations.#")
    try:
        _jiaozuo_submission(stack, tap)
    finally:
        connection.close()


def _jiaozuo_submission(stack: Stack, tap: Tap) -> None:
    admin, city, trainer = Client(stack, "admin"), Client(stack, "city.reviewer"), Client(stack, "training.admin")
    school = account(stack, admin, "school_admin", "4108820001", "沁阳市永威学校管理员")
    own_county = account(stack, admin, "county_reviewer", "410882", "沁阳市教育局审核员")
    person = candidate(admin, "4108820001", "孙立新")
    jiaozuo_certificate(trainer, person["id"])

    # A bureau opens a Jiaozuo round: the event carries the policy snapshot approvals builds its chain from.
    round_ = open_round(city, "jiaozuo-2022", "4108", f"焦作推荐-沁阳-{tag()}")
    opened = tap.event("nominations.round.opened", round_["id"])
    assert opened["data"]["policy"]["id"] == "jiaozuo-2022"
    assert [s["role"] for s in opened["data"]["policy"]["approval"]["stages"]] == [
        "school_admin",
        "county_reviewer",
        "city_reviewer",
    ]

    # The same Idempotency-Key twice creates one nomination; without it, a second one is a conflict.
    body = {"round_id": round_["id"], "school_org_code": "4108820001", "candidate_user_id": person["id"]}
    key = {"Idempotency-Key": f"issue3-{round_['id']}"}

    def created() -> requests.Response | None:
        response = school.call("POST", "/api/nominations", expect=None, json=body, headers=key)
        assert response.status_code in (201, 422), response.text  # 422 until nominations knows the candidate
        return response if response.status_code == 201 else None

    first = poll(created, "nominations knows the candidate")
    nid = first.json()["id"]
    again = school.call("POST", "/api/nominations", expect=201, json=body, headers=key)
    assert again.json()["id"] == nid and again.headers["Idempotent-Replayed"] == "true"
    school.call("POST", "/api/nominations", expect=409, json=body)
    listed = school.call("GET", "/api/nominations", params={"round_id": round_["id"]}).json()["items"]
    assert [n["id"] for n in listed] == [nid]

    # Prefilled from the directory, not typed again; a write on a stale ETag is 412 and changes nothing.
    form = first.json()["form"]
    assert (form["name"], form["unit_name"], form["mobile"]) == ("孙立新", "沁阳市永威学校", "13900139000")
    stale = first.headers["ETag"]
    etag = school.call("PATCH", f"/api/nominations/{nid}", json={"form": JIAOZUO_FORM}, headers={"If-Match": stale})
    refused = school.call(
        "PATCH",
        f"/api/nominations/{nid}",
        expect=412,
        json={"form": {"education": "硕士"}},
        headers={"If-Match": stale},
    )
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert school.call("GET", f"/api/nominations/{nid}").json()["form"]["education"] == JIAOZUO_FORM["education"]
    etag_value = school.call(
        "PUT",
        f"/api/nominations/{nid}/photo",
        data=PNG,
        headers={"If-Match": etag.headers["ETag"], "Content-Type": "image/png"},
    ).headers["ETag"]
    nomination = Nomination(nid, attest(school, nid, etag_value))
    assert submit(school, nomination)["status"] == "submitted"

    # The submitted event carries the form as submitted (the snapshot approvals and the printable form use).
    submitted = tap.event("nominations.nomination.submitted", nid)["data"]
    assert submitted["revision"] == 1 and submitted["candidate_user_id"] == person["id"]
    assert submitted["school_org_path"] == "/4108/410882/4108820001"
    assert submitted["form"] == {
        **JIAOZUO_FORM,
        "unit_name": "沁阳市永威学校",
        "name": "孙立新",
        "gender": "男",
        "birth_date": "1975-03-08",
        "mobile": "13900139000",
    }

    # Another school's admin and another county's reviewers see nothing of it: 404, not 403.
    outsiders = [Client(stack, "school2.admin"), Client(stack, "county.reviewer"), Client(stack, "county2.reviewer")]
    for outsider in outsiders:
        for path in (
            f"/api/nominations/{nid}",
            f"/api/nominations/{nid}/eligibility",
            f"/api/nominations/{nid}/history",
        ):
            outsider.call("GET", path, expect=404)
        outsider.call("POST", f"/api/nominations/{nid}/withdraw", expect=404, headers={"If-Match": "*"})
        items = outsider.call("GET", "/api/nominations", params={"round_id": round_["id"]}).json()["items"]
        assert nid not in [n["id"] for n in items]
    assert own_county.call("GET", f"/api/nominations/{nid}").json()["status"] in {"submitted", "under_review"}

    # A round whose deadline passes: the school's submission is refused, and the worker's timer closes it.
    deadline = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=15)
    short = city.call(
        "POST",
        "/api/rounds",
        expect=201,
        json={
            "title": f"焦作补报-{tag()}",
            "policy_id": "jiaozuo-2022",
            "issuing_org_code": "4108",
            "deadline": deadline.isoformat(),
        },
    ).json()
    late = school.call(
        "POST",
        "/api/nominations",
        expect=201,
        json={**body, "round_id": short["id"], "form": JIAOZUO_FORM},
        headers={"Idempotency-Key": f"issue3-{short['id']}"},
    )
    late_etag = school.call(
        "PUT",
        f"/api/nominations/{late.json()['id']}/photo",
        data=PNG,
        headers={"If-Match": late.headers["ETag"], "Content-Type": "image/png"},
    ).headers["ETag"]
    late_etag = attest(school, late.json()["id"], late_etag)
    assert school.call("GET", f"/api/nominations/{late.json()['id']}/eligibility").json()["eligible"] is True
    wait_until(
        lambda: dt.datetime.now(dt.UTC) > deadline + dt.timedelta(seconds=1),
        timeout=30,
        interval=0.5,
        message="the deadline to pass",
    )
    refused = school.call(
        "POST", f"/api/nominations/{late.json()['id']}/submit", expect=409, headers={"If-Match": late_etag}
    )
    assert "deadline" in refused.json()["detail"]
    assert school.call("GET", f"/api/nominations/{late.json()['id']}").json()["status"] == "draft"
    closed = tap.event("nominations.round.closed", short["id"])
    assert closed["data"]["reason"] == "deadline"
    round_after = city.call("GET", f"/api/rounds/{short['id']}").json()
    assert (round_after["status"], round_after["close_reason"]) == ("closed", "deadline")
    assert late.json()["id"] not in [e["subject"] for e in tap.seen if e["type"].startswith("nominations.nomination.")]
