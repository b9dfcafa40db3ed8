"""The happy path of SPEC §6 across all five services, through the gateway, over the real bus:

a certificate is recorded → the candidate becomes eligible → the school submits → approvals opens a case
and the county reviewer is told → decisions move up the chain → the city bureau appoints → identity grants
`cio`, nominations marks the nomination approved, training tracks the CIO's yearly requirement.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import Any

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
CANDIDATE_PASSWORD = "candidate-password-2026"


class Client:
    """One signed-in demo account talking to the gateway."""

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


def test_nomination_to_appointment_across_every_service(stack: Stack) -> None:
    admin = Client(stack, "admin")
    school = Client(stack, "school.admin")
    county = Client(stack, "county.reviewer")
    city = Client(stack, "city.reviewer")
    trainer = Client(stack, "training.admin")

    # The candidate is known once, in identity (避免重复采集); the other services learn of them by events.
    username = f"zhang.{uuid.uuid4().hex[:6]}"
    person = admin.call(
        "POST",
        "/api/users",
        expect=201,
        json={
            "username": username,
            "display_name": "张三",
            "org_code": "4108020001",
            "phone": "13800138000",
            "email": "zhangsan@example.cn",
            "gender": "男",
            "birth_date": "1978-05-04",
            "password": CANDIDATE_PASSWORD,
        },
    ).json()

    # Jiaozuo: a city-level CIO training certificate qualifies.
    def certificate_recorded() -> bool:
        r = trainer.call(
            "POST",
            "/api/certificates",
            expect=None,
            json={
                "number": f"JZ-CIO-{uuid.uuid4().hex[:6]}",
                "person_user_id": person["id"],
                "kind": "cio",
                "level": "city",
                "issuer": "焦作市教育局",
                "issued_on": "2026-06-01",
            },
        )
        return r.status_code == 201  # 404 until training has the person from identity's event

    wait_until(certificate_recorded, timeout=30, interval=0.3, message="training knows the candidate")

    deadline = (dt.datetime.now(dt.UTC) + dt.timedelta(days=20)).isoformat()
    round_ = city.call(
        "POST",
        "/api/rounds",
        expect=201,
        json={
            "title": "2026年首席信息官推荐",
            "policy_id": "jiaozuo-2022",
            "issuing_org_code": "4108",
            "deadline": deadline,
        },
    ).json()

    def created() -> requests.Response | None:
        r = school.call(
            "POST",
            "/api/nominations",
            expect=None,
            json={"round_id": round_["id"], "school_org_code": "4108020001", "candidate_user_id": person["id"]},
            headers={"Idempotency-Key": f"create-{round_['id']}"},
        )
        return r if r.status_code == 201 else None

    nomination = wait_until(created, timeout=30, interval=0.3, message="nominations knows the candidate")
    nid, etag = nomination.json()["id"], nomination.headers["ETag"]
    assert nomination.json()["form"]["name"] == "张三"  # prefilled, not typed again

    form = {
        "education": "本科",
        "ethnicity": "汉族",
        "teaching_years": 25,
        "administrative_post": "校长",
        "professional_title": "高级教师",
        "postal_address": "焦作市解放区民主路1号",
        "work_achievements": "推进智慧校园建设，建成校园数据中台。",
        "post_kind": "principal",
        "years_in_it_management": 3,
    }
    etag = school.call("PATCH", f"/api/nominations/{nid}", json={"form": form}, headers={"If-Match": etag}).headers[
        "ETag"
    ]
    etag = school.call(
        "PUT", f"/api/nominations/{nid}/photo", data=PNG, headers={"If-Match": etag, "Content-Type": "image/png"}
    ).headers["ETag"]
    etag = school.call(
        "POST",
        f"/api/nominations/{nid}/attestation",
        json={"signer_name": "李老师", "confirm": True},
        headers={"If-Match": etag},
    ).headers["ETag"]

    def eligible() -> bool:
        return bool(school.call("GET", f"/api/nominations/{nid}/eligibility").json()["eligible"])

    wait_until(eligible, timeout=30, interval=0.3, message="the certificate reached nominations")
    submitted = school.call("POST", f"/api/nominations/{nid}/submit", headers={"If-Match": etag}).json()
    assert submitted["status"] == "submitted"

    # Approvals: school unit opinion → county bureau → city bureau.
    def my_task(client: Client) -> dict[str, Any] | None:
        items = client.call("GET", "/api/tasks").json()["items"]
        return next((t for t in items if t["nomination_id"] == nid), None)

    today = clock.today().isoformat()
    unit_task = wait_until(lambda: my_task(school), timeout=30, interval=0.3, message="the unit's task")
    school.call(
        "POST",
        f"/api/tasks/{unit_task['id']}/decision",
        json={"decision": "approve", "opinion": "同意推荐", "seal": {"unit_name": "解放区第一实验小学", "date": today}},
    )
    county_task = wait_until(lambda: my_task(county), timeout=30, interval=0.3, message="the county's task")
    assert county_task["org_path"] == "/4108/410802"
    assert county.call("GET", f"/api/nominations/{nid}").status_code == 200
    Client(stack, "county2.reviewer").call("GET", f"/api/nominations/{nid}", expect=404)

    def told(client: Client) -> bool:
        messages = client.call("GET", "/api/inbox").json()["items"]
        return any(m["kind"] == "task_assigned" and "解放区第一实验小学" in m["subject"] for m in messages)

    wait_until(lambda: told(county), timeout=30, interval=0.3, message="the county reviewer's notification")

    county.call(
        "POST",
        f"/api/tasks/{county_task['id']}/decision",
        json={
            "decision": "approve",
            "opinion": "经审核，符合条件",
            "seal": {"unit_name": "解放区教育局", "date": today},
        },
    )
    # 推荐表、汇总表各1份，报送至市教育局: the county sends its batch, then the city decides
    city_task = send_up_to_the_city(county, city, round_["id"], "410802", nid)
    city.call(
        "POST",
        f"/api/tasks/{city_task['id']}/decision",
        json={
            "decision": "approve",
            "opinion": "同意聘任",
            "seal": {"unit_name": "焦作市教育局", "date": today},
            "document_number": "焦教文〔2026〕12号",
        },
    )

    # Everyone follows the appointment.
    def approved() -> bool:
        return school.call("GET", f"/api/nominations/{nid}").json()["status"] == "approved"

    wait_until(approved, timeout=30, interval=0.3, message="nominations marks it approved")
    appointments = city.call("GET", "/api/appointments").json()["items"]
    mine = [a for a in appointments if a["person_user_id"] == person["id"]]
    assert len(mine) == 1 and mine[0]["document_number"] == "焦教文〔2026〕12号"

    def has_cio_grant() -> bool:
        me = Client(stack, username, CANDIDATE_PASSWORD).call("GET", "/api/me").json()
        return any(g["role"] == "cio" and g["org_path"] == "/4108/410802/4108020001" for g in me["grants"])

    wait_until(has_cio_grant, timeout=30, interval=0.5, message="identity grants cio")

    def tracked() -> bool:
        body = trainer.call("GET", f"/api/training-compliance?year={clock.today().year}&org=4108").json()
        return person["id"] in str(body)

    wait_until(tracked, timeout=30, interval=0.3, message="training tracks the new CIO")

    # What the bureau publishes and prints, and what the new CIO is told (the README's journey, to its end).
    published = city.call(
        "GET", "/api/appointments/published-list", params={"round_id": round_["id"], "format": "csv"}
    ).content.decode("utf-8-sig")
    assert "焦教文〔2026〕12号" in published and "4108020001" in published
    summary = city.call("GET", f"/api/rounds/{round_['id']}/summary", params={"format": "csv"})
    assert "解放区第一实验小学,张三" in summary.content.decode("utf-8-sig")  # 汇总表: 单位名称, 姓名
    pdf = school.call("GET", f"/api/nominations/{nid}/form.pdf")
    assert pdf.headers["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    cio = Client(stack, username, CANDIDATE_PASSWORD)

    def told_of_appointment() -> bool:
        return any(m["kind"] == "appointment_made" for m in cio.call("GET", "/api/inbox").json()["items"])

    wait_until(told_of_appointment, timeout=30, interval=0.3, message="the new CIO's inbox message")
