"""Training through the gateway: a bureau's 10,000-row certificate workbook, and certificates deciding
eligibility in the nominations service over the bus."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from typing import Any

import openpyxl
import pytest
import requests

from tests.e2e.conftest import Stack, token
from tests.helpers import wait_until

pytestmark = pytest.mark.e2e


class Client:
    """One signed-in demo account talking to the gateway."""

    def __init__(self, stack: Stack, username: str) -> None:
        self.base = stack.gateway
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token(stack, username)}"

    def call(self, method: str, path: str, expect: int | None = 200, **kwargs: Any) -> requests.Response:
        response = self.session.request(method, f"{self.base}{path}", timeout=60, **kwargs)
        if expect is not None:
            assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text[:500]}"
        return response


def test_a_10000_row_certificate_workbook_imports_through_the_gateway(stack: Stack) -> None:
    admin, trainer = Client(stack, "admin"), Client(stack, "training.admin")
    rows, teachers = 10_000, 1_000
    tag = uuid.uuid4().hex[:6]
    # The teachers come from the digital base's export, into identity; training learns of them by events.
    users_csv = "username,display_name,org_code\n" + "".join(
        f"t{tag}{n:05d},教师{n},4108020002\n" for n in range(teachers)
    )
    imported = admin.call(
        "POST", "/api/users/import", data=users_csv.encode(), headers={"Content-Type": "text/csv"}
    ).json()
    assert imported["created"] == teachers

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["证书编号", "用户名", "培训类别", "培训级别", "发证机构", "发证日期"])
    # The bureau's register: ten certificates per teacher over the years, one row each.
    for n in range(rows):
        issued = dt.date(2016 + n % 10, 6, 1)
        sheet.append(
            [f"E2E-{tag}-{n:05d}", f"t{tag}{n % teachers:05d}", "信息化业务培训", "市级", "焦作市教育局", issued]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    content = buffer.getvalue()

    def imported_whole() -> tuple[requests.Response, dict[str, Any]] | None:
        """Upload and wait for the job; a refusal (teachers not yet known to training) is tried again."""
        job = trainer.call("POST", "/api/certificates/imports", expect=None, files=_file(content, "证书.xlsx"))
        assert job.status_code in (200, 201, 202), job.text
        body = wait_until(
            lambda: (lambda b: b if b["status"] in ("done", "rejected", "failed") else None)(
                trainer.call("GET", _job_path(job)).json()
            ),
            timeout=180,
            interval=1.0,
            message="the import job",
        )
        return (job, body) if body["status"] == "done" else None

    # Training learns of the teachers from identity's events: eventually consistent.
    job, result = wait_until(imported_whole, timeout=240, interval=2.0, message="a complete import")
    assert result["status"] == "done", result
    assert result["rows_total"] == rows
    assert (result["rows_written"], result["rows_failed"]) == (rows, 0)

    again = trainer.call("POST", "/api/certificates/imports", expect=None, files=_file(content, "证书.xlsx"))
    # The same file again is the same job: replayed, nothing imported twice.
    assert again.status_code == 200 and again.json()["id"] == job.json()["id"]
    other = Client(stack, "admin").call("GET", f"/api/users?q=t{tag}00000").json()["items"][0]["id"]
    summary = trainer.call("GET", f"/api/trainings/people/{other}/summary").json()
    assert len(summary["certificates"]) == rows // teachers


def _file(content: bytes, name: str) -> dict[str, tuple[str, bytes, str]]:
    return {"file": (name, content, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")}


def _job_path(response: requests.Response) -> str:
    location = response.headers.get("Location")
    return location if location and location.startswith("/") else f"/api/trainings/imports/{response.json()['id']}"


def test_certificate_issued_then_revoked_decides_eligibility(stack: Stack) -> None:
    admin, trainer = Client(stack, "admin"), Client(stack, "training.admin")
    city, school = Client(stack, "city.reviewer"), Client(stack, "school2.admin")
    person = admin.call(
        "POST",
        "/api/users",
        expect=201,
        json={
            "username": f"li.{uuid.uuid4().hex[:6]}",
            "display_name": "李四",
            "org_code": "4108210001",
            "phone": "13900139000",
            "gender": "男",
            "birth_date": "1980-01-02",
        },
    ).json()
    deadline = (dt.datetime.now(dt.UTC) + dt.timedelta(days=20)).isoformat()

    def opened() -> requests.Response | None:
        r = city.call(
            "POST",
            "/api/rounds",
            expect=None,
            json={"title": "资格核验", "policy_id": "jiaozuo-2022", "issuing_org_code": "4108", "deadline": deadline},
        )
        return r if r.status_code == 201 else None

    # Nominations learns the org tree from identity's events: eventually consistent.
    round_ = wait_until(opened, timeout=60, interval=0.5, message="nominations knows the city").json()

    def created() -> requests.Response | None:
        r = school.call(
            "POST",
            "/api/nominations",
            expect=None,
            json={"round_id": round_["id"], "school_org_code": "4108210001", "candidate_user_id": person["id"]},
        )
        return r if r.status_code == 201 else None

    nomination = wait_until(created, timeout=60, interval=0.5, message="nominations knows the candidate")
    nid = nomination.json()["id"]
    form = {
        "education": "本科",
        "ethnicity": "汉族",
        "teaching_years": 20,
        "administrative_post": "校长",
        "postal_address": "修武县城关镇1号",
        "work_achievements": "推进数字校园建设。",
        "post_kind": "principal",
        "years_in_it_management": 1,
    }
    school.call(
        "PATCH", f"/api/nominations/{nid}", json={"form": form}, headers={"If-Match": nomination.headers["ETag"]}
    )

    def eligibility() -> dict[str, Any]:
        return dict(school.call("GET", f"/api/nominations/{nid}/eligibility").json())

    before = eligibility()
    # Only the qualification is missing: no CIO certificate, and the informatization path needs 2 years.
    assert before["eligible"] is False and len(before["reasons"]) == 1, before

    def recorded() -> requests.Response | None:
        r = trainer.call(
            "POST",
            "/api/certificates",
            expect=None,
            json={
                "number": f"E2E-CIO-{uuid.uuid4().hex[:6]}",
                "person_user_id": person["id"],
                "kind": "cio",
                "level": "county",
                "issuer": "修武县教育局",
                "issued_on": "2026-03-01",
            },
        )
        return r if r.status_code == 201 else None

    certificate = wait_until(recorded, timeout=60, interval=0.5, message="training knows the candidate").json()
    wait_until(lambda: eligibility()["eligible"], timeout=60, interval=0.5, message="eligible after the certificate")

    trainer.call("POST", f"/api/certificates/{certificate['id']}/revoke", json={"reason": "证书信息有误"})
    wait_until(lambda: not eligibility()["eligible"], timeout=60, interval=0.5, message="ineligible after revocation")
    assert public_verify(stack, certificate["number"])["status"] == "revoked"


def public_verify(stack: Stack, number: str) -> dict[str, Any]:
    response = requests.get(f"{stack.gateway}/api/certificates/{number}/verify", timeout=10)
    assert response.status_code == 200, response.text
    return dict(response.json())
