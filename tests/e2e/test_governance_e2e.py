"""Governance through the gateway: a district's IT project plan checked against the city platform and reviewed in
approvals' chain to its completion acceptance (乌教发〔2023〕97号, 宜春学院 「阶段性验收和竣工验收」), and the
application registry's connected share per district (「对新建和在用的应用系统必须与市级教育数字基座平台进行对接」)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
import requests

from shared import clock
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


def _plan(tag: str, functions: list[str]) -> dict[str, Any]:
    today = clock.today()
    return {
        "unit_org_code": "410802",
        "title": f"解放区智慧校园建设项目 {tag}",
        "budget": "1500000.00",
        "funding_source": "区级财政预算",
        "functions": functions,
        "data_collected": ["学生作业数据"],
        "connects_to": ["市级教育数字基座"],
        "builds_data_center": False,
        "starts_on": today.isoformat(),
        "ends_on": (today + dt.timedelta(days=300)).isoformat(),
        "milestones": [{"name": "完成招标", "due_on": (today + dt.timedelta(days=60)).isoformat()}],
        "attachments": [{"name": "建设方案.pdf", "url": "https://files.example.cn/plan.pdf"}],
    }


def test_a_district_plan_declaring_a_city_platform_function_is_flagged_revised_and_reviewed_to_completion(
    stack: Stack,
) -> None:
    city, district = Client(stack, "city.reviewer"), Client(stack, "county.reviewer")
    tag = uuid.uuid4().hex[:6]
    function = f"统一身份认证{tag}"
    city.call(
        "POST",
        "/api/platform-catalogue",
        201,
        json={"org_code": "4108", "code": f"uia-{tag}", "kind": "function", "name": function, "keywords": []},
    )
    # the district declares what the city platform has: flagged before it is sent
    created = district.call("POST", "/api/project-plans", 201, json=_plan(tag, ["智慧课堂", f"区级{function}平台"]))
    plan = created.json()
    assert [f["code"] for f in plan["flags"]] == [f"uia-{tag}"]
    url = f"/api/project-plans/{plan['id']}"
    refused = district.call("POST", f"{url}/submit", 422, json={}, headers={"If-Match": created.headers["ETag"]})
    assert refused.json()["errors"][0]["field"] == "justification"
    # revised without it, it goes
    body = {k: v for k, v in _plan(tag, ["智慧课堂"]).items() if k != "unit_org_code"}
    revised = district.call("PUT", url, json=body, headers={"If-Match": created.headers["ETag"]})
    assert revised.json()["flags"] == []
    district.call("POST", f"{url}/submit", json={}, headers={"If-Match": revised.headers["ETag"]})

    # the city bureau's chain in approvals: 审核评估 → 资金审核 → 审核决定 with 合理化建议
    def plan_task() -> dict[str, Any] | None:
        tasks = city.call("GET", "/api/tasks").json()["items"]
        return next((t for t in tasks if t["nomination_id"] == plan["id"]), None)

    stages = []
    for opinion in ("审核通过", "资金来源合理", "建议接入市级统一身份认证，不另建认证模块"):
        task = wait_until(plan_task, timeout=60, interval=0.5, message="the plan's next review task")
        stages.append(task["stage_name"])
        city.call("POST", f"/api/tasks/{task['id']}/decision", json={"decision": "approve", "opinion": opinion})
        wait_until(
            lambda t=task: (lambda n: n is None or n["id"] != t["id"])(plan_task()),
            timeout=30,
            interval=0.5,
            message="the task decided",
        )
    assert stages == ["市教育局审核评估", "项目资金审核", "审核决定（合理化建议）"]
    approved = wait_until(
        lambda: (lambda p: p if p["status"] == "approved" else None)(district.call("GET", url).json()),
        timeout=60,
        interval=0.5,
        message="the plan approved in governance",
    )
    assert approved["suggestions"] == "建议接入市级统一身份认证，不另建认证模块"

    evidence = [{"name": "验收报告.pdf", "url": "https://files.example.cn/acceptance.pdf"}]
    today = clock.today()
    for kind, day in (("stage", today + dt.timedelta(days=100)), ("completion", today + dt.timedelta(days=290))):
        city.call(
            "POST",
            f"{url}/acceptances",
            201,
            json={"kind": kind, "accepted_on": day.isoformat(), "evidence": evidence},
        )
    done = district.call("GET", url).json()
    assert done["status"] == "completed"
    assert [a["kind"] for a in done["acceptances"]] == ["stage", "completion"]


def test_the_registrys_connected_share_per_district_matches_its_records(stack: Stack) -> None:
    school, school2, city = (
        Client(stack, "school.admin"),
        Client(stack, "school2.admin"),
        Client(stack, "city.reviewer"),
    )
    tag = uuid.uuid4().hex[:6]
    past = (clock.today() - dt.timedelta(days=10)).isoformat()
    lines = [
        (school, "4108020001", f"智慧课堂{tag}", True, True, None),
        (school, "4108020001", f"校园安防{tag}", True, False, past),
        (school2, "4108210001", f"城关小学家校通{tag}", True, True, None),
    ]
    for client, org, name, identity, sso, target in lines:
        client.call(
            "POST",
            "/api/application-systems",
            201,
            json={
                "org_code": org,
                "name": name,
                "owner": "信息中心",
                "purpose": "教学管理",
                "unified_identity": identity,
                "single_sign_on": sso,
                "target_date": target,
            },
        )
    records = city.call("GET", "/api/application-systems").json()["items"]
    assert {f"智慧课堂{tag}", f"校园安防{tag}", f"城关小学家校通{tag}"} <= {r["name"] for r in records}
    expected: dict[str, list[int]] = {}
    for r in records:
        line = expected.setdefault(r["district_code"], [0, 0, 0])
        line[0] += 1
        line[1] += int(r["unified_identity"] and r["single_sign_on"])
        line[2] += int(r["overdue"])
    overview = city.call("GET", "/api/application-systems/coverage").json()["districts"]
    assert {d["district_code"]: [d["systems"], d["connected"], d["overdue"]] for d in overview} == expected
    for d in overview:
        assert d["connected_share"] == round(d["connected"] / d["systems"], 4)
    assert {"410802", "410821"} <= {d["district_code"] for d in overview}
    flagged = city.call("GET", "/api/application-systems", params={"overdue": "true"}).json()["items"]
    assert f"校园安防{tag}" in {r["name"] for r in flagged}
    # a school sees its own lines only
    own = school2.call("GET", "/api/application-systems").json()["items"]
    assert {r["org_code"] for r in own} == {"4108210001"}
