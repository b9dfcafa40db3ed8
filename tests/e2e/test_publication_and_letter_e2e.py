"""Issue 17 items 13 and 14 through the gateway, the real bus and every service:

- 名单公示: the city publishes the person awaiting its final approval; anyone reads the list and objects without
  signing in (the gateway's public routes), the city sees the objection with the objector's contact, and the final
  approval waits for the period (the rest of the flow — period over, objection resolved, appointment — is in
  tests/integration/approvals/test_publication_api.py, where the period can be moved);
- 聘任文件 / 聘书: the appointment's printable letter through the gateway.

Each test makes its own 市直 school (unit → city), so it shares the session's stack with the other journeys.
"""

from __future__ import annotations

import io
import secrets

import pytest
import requests
from pypdf import PdfReader

from tests.e2e.conftest import Stack
from tests.e2e.test_policies_e2e import (
    JIAOZUO_FORM,
    Client,
    account,
    appointment_of,
    candidate,
    decide,
    jiaozuo_certificate,
    open_round,
    prepared_nomination,
    submit,
    tag,
    task_for,
    utc_today,
)

pytestmark = pytest.mark.e2e


def city_school_at_the_city(stack: Stack) -> tuple[Client, str, dict[str, object], str]:
    """A 市直 school's nomination past its unit: (city reviewer, round id, the city's task, school code)."""
    admin, city, trainer = Client(stack, "admin"), Client(stack, "city.reviewer"), Client(stack, "training.admin")
    code = f"4108{secrets.randbelow(10**6):06d}"
    admin.call(
        "POST",
        "/api/orgs",
        expect=201,
        json={"code": code, "name": f"焦作市直属学校{tag()}", "level": "school", "parent_code": "4108"},
    )
    school = account(stack, admin, "school_admin", code, "市直学校管理员")
    person = candidate(admin, code, "郑公示")
    jiaozuo_certificate(trainer, person["id"])
    round_ = open_round(city, "jiaozuo-2022", "4108", f"焦作公示-{tag()}")
    nomination = prepared_nomination(school, round_["id"], code, person["id"], JIAOZUO_FORM, photo=True)
    submit(school, nomination)
    decide(school, task_for(school, nomination.id, "unit"), "approve", "同意推荐", "焦作市直属学校")
    return city, str(round_["id"]), task_for(city, nomination.id, "city_review"), code


def test_名单公示_anyone_reads_the_list_and_objects_without_signing_in(stack: Stack) -> None:
    city, round_id, task, _code = city_school_at_the_city(stack)
    published = city.call(
        "POST",
        "/api/publications",
        expect=201,
        json={
            "round_id": round_id,
            "org_code": "4108",
            "title": f"焦作市首席教育信息官拟聘任人选公示{tag()}",
            "starts_on": utc_today().isoformat(),
            "ends_on": utc_today().isoformat(),
        },
    ).json()
    [entry] = published["entries"]

    # no token, no cookie: the public page through the gateway
    public = requests.get(f"{stack.gateway}/api/public/publications/{published['id']}", timeout=10)
    assert public.status_code == 200, public.text
    assert public.json()["accepts_objections"] is True
    assert [e["candidate_name"] for e in public.json()["entries"]] == ["郑公示"]
    objected = requests.post(
        f"{stack.gateway}/api/public/publications/{published['id']}/objections",
        json={
            "case_id": entry["case_id"],
            "content": "请核实任职经历",
            "contact_name": "群众甲",
            "contact_phone": "13900002222",
        },
        timeout=10,
    )
    assert objected.status_code == 201, objected.text
    # the bureau's side needs a sign-in
    assert requests.get(f"{stack.gateway}/api/publications/{published['id']}", timeout=10).status_code == 401

    seen = city.call("GET", f"/api/publications/{published['id']}").json()
    assert [(o["contact_phone"], o["status"]) for o in seen["objections"]] == [("13900002222", "received")]
    waiting = city.call(
        "POST",
        f"/api/tasks/{task['id']}/decision",
        expect=409,
        json={"decision": "approve", "opinion": "同意聘任", "document_number": f"焦教文〔2026〕{tag()}号"},
    ).json()
    assert waiting["errors"][0]["field"] == "publication"


def test_发文聘任_the_appointment_letter_prints_through_the_gateway(stack: Stack) -> None:
    city, _round_id, task, code = city_school_at_the_city(stack)
    number = f"焦教文〔2026〕{tag()}号"
    final = decide(city, task, "approve", "同意聘任", "焦作市教育局", document_number=number)
    assert final["outcome"] == "approved"
    appointment = appointment_of(city, str(task["nomination_id"]), f"/4108/{code}")
    letter = city.call("GET", f"/api/appointments/{appointment['id']}/letter.pdf")
    assert letter.headers["Content-Type"].startswith("application/pdf")
    text = "".join("".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(letter.content)).pages)
    for expected in ("焦作市教育局文件", number, "郑公示", "至免聘或取消任命止", "聘书"):
        assert expected in text, expected
