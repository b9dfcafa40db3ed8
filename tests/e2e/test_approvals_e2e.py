"""Approvals through the gateway over the real bus, beyond the three policies' happy paths
(tests/e2e/test_policies_e2e.py): bulk decisions, a change filed during the term reaching the bureau's
inbox, the published list, the audit trail read by the auditor; Yichun's return (re-entering at the
president) and withdrawal.

Each test works on an org of its own (a Helan school created here, the university with a fresh
candidate and no appointment made), so it shares the session's stack with the other e2e files.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.e2e.conftest import Stack
from tests.e2e.test_policies_e2e import (
    HELAN_FORM,
    YICHUN_FORM,
    Client,
    account,
    candidate,
    decide,
    open_round,
    open_task,
    poll,
    prepared_nomination,
    resubmit,
    status_becomes,
    submit,
    tag,
    task_for,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(journey_stack: Stack) -> Stack:
    """These journeys run on the embedded default of `make run` and on a PostgreSQL server."""
    return journey_stack


def new_helan_school(admin: Client) -> dict[str, Any]:
    """A school of 贺兰县 of this test's own (identity tells approvals, nominations and notifications)."""
    code = f"64012209{tag()[:2]}".upper()[:10]
    body = {"code": code, "name": f"贺兰县测试学校{code[-2:]}", "level": "school", "parent_code": "640122"}
    return dict(admin.call("POST", "/api/orgs", expect=201, json=body).json())


def test_helan_bulk_unit_decision_then_a_filed_change_reaches_the_county_bureau(stack: Stack) -> None:
    admin = Client(stack, "admin")
    school_org = new_helan_school(admin)
    code, path = school_org["code"], school_org["path"]
    school = account(stack, admin, "school_admin", code, "贺兰县测试学校管理员")
    county = account(stack, admin, "county_reviewer", "640122", "贺兰县教育体育局审核员")
    person = candidate(admin, code, "周文博")

    round_ = open_round(county, "helan-2024", "640122", f"贺兰聘任-{tag()}")
    nomination = prepared_nomination(school, round_["id"], code, person["id"], HELAN_FORM, photo=True)
    submit(school, nomination)
    nid = nomination.id
    unit = task_for(school, nid, "unit")

    # the school decides its stage through the bulk endpoint; a bad item refuses the whole call
    bad = school.call(
        "POST",
        "/api/tasks/decisions",
        expect=422,
        json={"items": [{"task_id": unit["id"], "decision": "reject"}]},
    )
    assert bad.json()["errors"][0]["field"] == "items.0.opinion"
    done = school.call(
        "POST",
        "/api/tasks/decisions",
        json={"items": [{"task_id": unit["id"], "decision": "approve", "seal": {"unit_name": school_org["name"]}}]},
    ).json()
    assert [i["outcome"] for i in done["items"]] == ["in_review"]

    county_task = task_for(county, nid, "county_appointment")
    final = decide(
        county,
        county_task,
        "approve",
        "同意聘任",
        "贺兰县教育体育局",
        document_number="贺教体发〔2026〕21号",
        starts_on="2026-09-01",
    )
    status_becomes(school, nid, "approved")
    appointment_id = final["appointment_id"]
    shown = county.call("GET", f"/api/appointments/{appointment_id}").json()
    assert (shown["starts_on"], shown["ends_on"], shown["org_path"]) == ("2026-09-01", "2029-08-31", path)

    # 变更报备: the school files a change during the term; the bureau that appointed is told
    change = f"首席信息官职务变更：任副校长（{tag()}）"
    school.call(
        "POST",
        f"/api/appointments/{appointment_id}/filings",
        expect=201,
        json={"kind": "post", "change": change, "details": {"position": "副校长"}},
    )
    filings = county.call("GET", f"/api/appointments/{appointment_id}/filings").json()["items"]
    assert [f["change"] for f in filings] == [change]

    def told() -> dict[str, Any] | None:
        items = county.call("GET", "/api/inbox", params={"limit": 100}).json()["items"]
        return next((m for m in items if m["kind"] == "appointment_filed" and change in m["body"]), None)

    message = poll(told, "the county bureau's notification of the filing")
    assert message["event_type"] == "approvals.appointment.filed" and "变更报备" in message["subject"]
    # the school that filed is not the one told
    assert not [m for m in school.call("GET", "/api/inbox").json()["items"] if m["kind"] == "appointment_filed"]

    # 名单公示 of the round, and the appointment's trail as the auditor reads it
    listed = county.call(
        "GET", "/api/appointments/published-list", params={"round_id": round_["id"], "format": "csv"}
    ).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(listed)))
    assert rows[0][:4] == ["序号", "单位", "单位代码", "姓名"]
    assert [r[2:4] + r[5:8] for r in rows[1:]] == [[code, "周文博", "2026-09-01", "2029-08-31", "贺教体发〔2026〕21号"]]
    trail = Client(stack, "auditor").call("GET", f"/api/appointments/{appointment_id}/history").json()["items"]
    assert [h["action"] for h in trail] == ["appointment.made", "appointment.filed"]
    assert trail[1]["details"]["change"] == change


def test_yichun_return_reenters_at_the_president_and_withdrawal_cancels(stack: Stack) -> None:
    admin = Client(stack, "admin")
    president, meeting = Client(stack, "president"), Client(stack, "office.meeting")
    person = candidate(admin, "10417", "陈立新")

    round_ = open_round(president, "yichun-university", "10417", f"宜春学院退回-{tag()}")
    nomination = prepared_nomination(president, round_["id"], "10417", person["id"], YICHUN_FORM, photo=False)
    submit(president, nomination)
    nid = nomination.id
    decide(president, task_for(president, nid, "president_nomination"), "approve", "提名推荐", "宜春学院")
    meeting_task = task_for(meeting, nid, "office_meeting")
    returned = decide(meeting, meeting_task, "return", "请补充分管信息化工作的经历。", "宜春学院校长办公室")
    assert returned["outcome"] == "returned"
    status_becomes(president, nid, "returned")
    assert open_task(meeting, nid) is None

    resubmit(president, nomination)
    # yichun-university: resubmission_reenters first_stage — the president nominates again
    again = task_for(president, nid, "president_nomination")
    assert (again["stage_index"], again["revision"]) == (0, 2)
    assert open_task(meeting, nid) is None

    current = president.call("GET", f"/api/nominations/{nid}")
    president.call("POST", f"/api/nominations/{nid}/withdraw", headers={"If-Match": current.headers["ETag"]})

    def cancelled() -> dict[str, Any] | None:
        case = president.call("GET", f"/api/cases/{returned['case_id']}").json()
        return case if case["status"] == "cancelled" else None

    case = poll(cancelled, "the case is cancelled")
    assert {t["id"]: t["status"] for t in case["tasks"]}[again["id"]] == "cancelled"
    assert open_task(president, nid) is None
    president.call(
        "POST",
        f"/api/tasks/{again['id']}/decision",
        expect=409,
        json={"decision": "approve", "opinion": "提名", "seal": {"unit_name": "宜春学院"}},
    )
    history = Client(stack, "auditor").call("GET", f"/api/cases/{returned['case_id']}/history").json()["items"]
    assert [h["action"] for h in history] == [
        "case.opened",
        "task.decided",
        "task.decided",
        "case.resubmitted",
        "case.cancelled",
    ]
