"""报送 through the gateway, for every journey that takes a Jiaozuo county school to the city (seed 001
「将焦作市首席教育信息官推荐表、汇总表各1份，报送至市教育局」): the county sends its batch, then the city decides."""

from __future__ import annotations

from typing import Any, Protocol

import requests

from tests.helpers import wait_until

WAIT = 60.0
POLL = 0.3


class Caller(Protocol):
    """Any signed-in e2e client: `call` checks the status when `expect` is given."""

    def call(self, method: str, path: str, expect: int | None = 200, **kwargs: Any) -> requests.Response: ...


def county_sends_its_batch(
    county: Caller, round_id: str, county_code: str, nomination_id: str, opinion: str = "经审核，同意推荐"
) -> dict[str, Any]:
    """The county sends its batch once nominations has heard of its stage's approval (until then: 422
    `nominations`, nothing approved to send); the batch must hold `nomination_id`."""

    def sent() -> dict[str, Any] | None:
        response = county.call(
            "POST",
            f"/api/rounds/{round_id}/batches",
            expect=None,
            json={"org_code": county_code, "opinion": opinion},
        )
        if response.status_code == 422 and [e["field"] for e in response.json()["errors"]] == ["nominations"]:
            return None
        assert response.status_code == 201, response.text
        return dict(response.json())

    batch = wait_until(sent, timeout=WAIT, interval=POLL, message=f"the county {county_code} can send its batch")
    assert nomination_id in [n["nomination_id"] for n in batch["nominations"]], batch
    return batch


def city_task_released(city: Caller, nomination_id: str) -> dict[str, Any]:
    """The city's task of the nomination once approvals has the county's batch (`awaiting_batch` false)."""

    def released() -> dict[str, Any] | None:
        items = city.call("GET", "/api/tasks", params={"limit": 100}).json()["items"]
        task = next((t for t in items if t["nomination_id"] == nomination_id and t["stage_key"] == "city_review"), None)
        return task if task is not None and task["awaiting_batch"] is False else None

    return wait_until(released, timeout=WAIT, interval=POLL, message=f"the city's task of {nomination_id} released")


def send_up_to_the_city(
    county: Caller, city: Caller, round_id: str, county_code: str, nomination_id: str
) -> dict[str, Any]:
    """报送至市教育局, then the city's task, ready to decide."""
    county_sends_its_batch(county, round_id, county_code, nomination_id)
    return city_task_released(city, nomination_id)
