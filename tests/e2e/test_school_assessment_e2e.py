"""Seed 001 「每2年对学校信息化工作考核一次」 through the gateway, the real bus and every service: the city opens the
school assessment for a 市直 school that has no CIO, naming the round whose policy the school follows; the school
self-assesses, the city verifies and finalises, and the per-school overview shows it done. Bad input is problem+json
naming the field.

The test makes its own school (and asks for it alone by its org code), so it shares the session's stack with the
other journeys.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests

from tests.e2e.conftest import Stack
from tests.e2e.test_policies_e2e import Client, open_round, poll, tag
from tests.e2e.test_rules_gaps_e2e import city_school

pytestmark = pytest.mark.e2e

CAMPAIGNS = "/api/evaluations/campaigns"


def test_每2年对学校信息化工作考核一次_a_school_without_a_cio_is_assessed_under_the_rounds_policy(stack: Stack) -> None:
    admin, city = Client(stack, "admin"), Client(stack, "city.reviewer")
    code, school = city_school(stack, admin, "焦作市直属考核学校")
    round_ = open_round(city, "jiaozuo-2022", "4108", f"焦作学校考核-{tag()}")
    year = dt.datetime.now(dt.UTC).year
    campaign = {"org_code": code, "kind": "school_biennial", "period": year, "round_id": round_["id"]}

    # bad input names its field: a round id that is no id, and the school's assessment without its round
    bad = city.call("POST", CAMPAIGNS, expect=422, json={**campaign, "round_id": "第一批"})
    assert bad.headers["Content-Type"].startswith("application/problem+json")
    assert [e["field"] for e in bad.json()["errors"]] == ["round_id"]

    def opened() -> requests.Response | None:
        # the new school and the round reach approvals over the bus: until then the campaign is refused by name
        answer = city.call("POST", CAMPAIGNS, expect=None, json=campaign)
        if answer.status_code == 422:
            assert answer.json()["errors"][0]["field"] in ("org_code", "round_id"), answer.text
            return None
        return answer

    first = poll(opened, "approvals knows the school and the round")
    assert first.status_code == 201, first.text
    assert (first.json()["subject"], first.json()["opened"]) == ("school", 1)
    no_round = city.call("POST", CAMPAIGNS, expect=422, json={k: v for k, v in campaign.items() if k != "round_id"})
    assert no_round.json()["errors"][0]["field"] == "round_id"
    # once in two years: the same period again opens nothing
    assert city.call("POST", CAMPAIGNS, expect=201, json=campaign).json()["already_open"] == 1

    overview = city.call("GET", CAMPAIGNS, params=campaign).json()
    [row] = overview["items"]
    assert (row["org_code"], row["person_name"], row["appointment_id"], row["status"]) == (
        code,
        None,
        None,
        "self_assessment",
    )

    # the school (no CIO) self-assesses its own assessment; the city verifies and finalises
    url = f"/api/evaluations/{row['evaluation_id']}"
    sheet = school.call("GET", url)
    shown: dict[str, Any] = sheet.json()
    assert (shown["subject"], shown["sheet_name"], shown["round_id"]) == (
        "school",
        "学校信息化工作考核表",
        round_["id"],
    )
    scored = [r for r in shown["indicators"] if r["scored"]]
    assessed = school.call(
        "PUT",
        f"{url}/self-assessment",
        headers={"If-Match": sheet.headers["ETag"]},
        json={
            "scores": [{"code": r["code"], "score": r["max_score"]} for r in scored],
            "summary": "学校信息化工作两年总结",
            "submit": True,
        },
    )
    verified = city.call(
        "PUT",
        f"{url}/verification",
        headers={"If-Match": assessed.headers["ETag"]},
        json={"scores": [{"code": r["code"], "score": r["max_score"]} for r in scored], "vetoes": []},
    )
    final = city.call("POST", f"{url}/finalise", headers={"If-Match": verified.headers["ETag"]}).json()
    assert (final["grade"], final["appointment_id"], final["rectification"]) == ("优秀", None, None)

    done = city.call("GET", CAMPAIGNS, params=campaign).json()
    assert (done["total"], done["completed"], done["completion_rate"], done["grades"]) == (1, 1, 1.0, {"优秀": 1})
    # the school reads its own assessment; the school administrator does not run campaigns
    refused = school.call("POST", CAMPAIGNS, expect=422, json=campaign)
    assert refused.json()["errors"][0]["field"] == "org_code"
