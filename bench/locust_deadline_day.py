"""Locust users of bench/deadline_day.py (run by it: `locust -f bench/locust_deadline_day.py --headless ...`).

The plan (which schools, the round, the reviewers) comes from the JSON file named by `DEADLINE_DAY_PLAN`, the
password of every account from `DEADLINE_DAY_PASSWORD`; nothing secret is written to a file.

- `School` (one school after another, never the same school twice): signs its administrator in with the password
  grant, creates the 推荐表 draft (Idempotency-Key), uploads the photo, signs the attestation, submits; then waits
  for its 所在单位意见 task to appear (the approvals service opens it from the bus) and approves it.
- `CountyReviewer` (a fixed few, the demo 解放区教育局审核员 account): lists its open 县（市、区）教育行政部门审核意见
  tasks and approves each; the reviewers split the tasks between them by id, so no two decide the same task.

Every request is checked for the status it must answer; anything else counts as a failure in Locust's statistics.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import gevent
from locust import FastHttpUser, constant, events, task
from locust.exception import StopUser

PLAN: dict[str, Any] = json.loads(open(os.environ["DEADLINE_DAY_PLAN"], encoding="utf-8").read())  # noqa: SIM115
PASSWORD = os.environ["DEADLINE_DAY_PASSWORD"]
SCHOOLS: Iterator[dict[str, str]] = iter(PLAN["schools"])
REVIEWERS = int(PLAN["reviewers"])
_reviewer_index = iter(range(1_000_000))
JSON = {"Content-Type": "application/json"}


def _wait_event(name: str, started: float, exception: Exception | None = None) -> None:
    events.request.fire(
        request_type="WAIT",
        name=name,
        response_time=(time.perf_counter() - started) * 1000,
        response_length=0,
        exception=exception,
        context={},
    )


class Refused(Exception):
    """A step answered a status other than the one it expects: counted as a Locust failure."""


class _Api(FastHttpUser):
    abstract = True

    def call(self, method: str, path: str, name: str, expect: int, **kwargs: Any) -> Any:
        with self.client.request(method, path, name=name, catch_response=True, **kwargs) as response:
            if response.status_code != expect:
                response.failure(f"{response.status_code}: {(response.text or '')[:200]}")
                raise Refused(f"{name}: {response.status_code}")
            response.success()
            return response

    def sign_in(self, username: str) -> dict[str, str]:
        answer = self.call(
            "POST",
            "/api/auth/token",
            "sign_in",
            200,
            data=f"grant_type=password&username={username}&password={PASSWORD}",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}


class School(_Api):
    weight = 1
    wait_time = constant(0)

    @task
    def nominate(self) -> None:
        school = next(SCHOOLS, None)
        if school is None:
            raise StopUser()
        # A refused step is counted as a failure already; the next school goes on.
        with contextlib.suppress(Refused):
            self._nominate(school)

    def _nominate(self, school: dict[str, str]) -> None:
        auth = {"Authorization": f"Bearer {school['token']}"} if "token" in school else self.sign_in(school["admin"])
        create = {
            "round_id": PLAN["round_id"],
            "school_org_code": school["code"],
            "candidate_user_id": school["candidate_user_id"],
            "form": PLAN["form"],
        }
        created = self.call(
            "POST",
            "/api/nominations",
            "create",
            201,
            data=json.dumps(create, ensure_ascii=False).encode(),
            headers={**auth, **JSON, "Idempotency-Key": f"deadline-{uuid.uuid4()}"},
        )
        nid, etag = created.json()["id"], created.headers["ETag"]
        photo = bytes.fromhex(PLAN["photo_hex"])
        etag = self.call(
            "PUT",
            f"/api/nominations/{nid}/photo",
            "photo",
            200,
            data=photo,
            headers={**auth, "Content-Type": "image/png", "If-Match": etag},
        ).headers["ETag"]
        signed = json.dumps({"signer_name": "填表人", "confirm": True}, ensure_ascii=False).encode()
        etag = self.call(
            "POST",
            f"/api/nominations/{nid}/attestation",
            "attest",
            200,
            data=signed,
            headers={**auth, **JSON, "If-Match": etag},
        ).headers["ETag"]
        self.call("POST", f"/api/nominations/{nid}/submit", "submit", 200, headers={**auth, "If-Match": etag})
        # 所在单位意见: the school's own opinion, on the task approvals opens when the submission reaches it.
        started = time.perf_counter()
        task_id = None
        while task_id is None and time.perf_counter() - started < 30:
            page = self.call(
                "GET", "/api/tasks?status=open&role=school_admin&limit=20", "unit_tasks", 200, headers=auth
            ).json()
            task_id = next((t["id"] for t in page["items"] if t["nomination_id"] == nid), None)
            if task_id is None:
                gevent.sleep(0.1)
        if task_id is None:
            _wait_event("unit_task_visible", started, Refused("no unit task within 30 s"))
            return
        _wait_event("unit_task_visible", started)
        decision = {"decision": "approve", "opinion": "同意推荐", "seal": {"unit_name": school["name"]}}
        self.call(
            "POST",
            f"/api/tasks/{task_id}/decision",
            "unit_decision",
            200,
            data=json.dumps(decision, ensure_ascii=False).encode(),
            headers={**auth, **JSON},
        )


class CountyReviewer(_Api):
    fixed_count = REVIEWERS
    wait_time = constant(0)

    def on_start(self) -> None:
        self.index = next(_reviewer_index) % REVIEWERS
        self.auth = self.sign_in(PLAN["county_reviewer"])

    @task
    def review(self) -> None:
        page = self.call(
            "GET", "/api/tasks?status=open&role=county_reviewer&limit=50", "county_tasks", 200, headers=self.auth
        ).json()
        mine = [t for t in page["items"] if uuid.UUID(t["id"]).int % REVIEWERS == self.index]
        decision = json.dumps(
            {"decision": "approve", "opinion": "同意", "seal": {"unit_name": PLAN["county_name"]}}, ensure_ascii=False
        ).encode()
        for item in mine:
            with contextlib.suppress(Refused):
                self.call(
                    "POST",
                    f"/api/tasks/{item['id']}/decision",
                    "county_decision",
                    200,
                    data=decision,
                    headers={**self.auth, **JSON},
                )
        if not mine:
            gevent.sleep(0.5)
