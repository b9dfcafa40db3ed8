"""CIOs appointed through the API along Jiaozuo's chain (单位意见 → 县(市、区)教育行政部门审核意见 →
市教育局审核意见) in a county of the test's own under 焦作市, for the pages that work on CIOs in office
(evaluations, bulk enrolment).

A county of its own keeps a test's counts exact while other browser tests share the session's stack."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from tests.browser.school import School, new_school
from tests.browser.test_review_chains import Person, reviewer
from tests.e2e.batches import send_up_to_the_city
from tests.e2e.conftest import Stack
from tests.e2e.test_policies_e2e import (
    JIAOZUO_FORM,
    Client,
    appointment_of,
    candidate,
    decide,
    jiaozuo_certificate,
    open_round,
    prepared_nomination,
    submit,
    task_for,
)

CITY = "4108"  # 焦作市


@dataclass
class County:
    """A new county (level county) under 焦作市 with a county reviewer (县级审核员) of its own."""

    code: str
    name: str
    reviewer: Person


@dataclass
class Appointed:
    school: School
    person: dict[str, Any]  # the user as identity created it (id, username, display_name)
    appointment: dict[str, Any]


def new_county(stack: Stack, admin: Client, name: str) -> County:
    code = f"T{uuid.uuid4().hex[:10].upper()}"
    admin.call(
        "POST", "/api/orgs", expect=201, json={"code": code, "name": name, "level": "county", "parent_code": CITY}
    )
    return County(code, name, reviewer(stack, admin, "county_reviewer", code, f"{name}审核员"))


def appointed_cio(stack: Stack, admin: Client, county: County, school_name: str, person_name: str) -> Appointed:
    """A school in `county` whose candidate (with Jiaozuo's qualifying certificate) the chain appoints CIO."""
    city = Client(stack, "city.reviewer")
    school = new_school(stack, admin, county.code, school_name)
    person = candidate(admin, school.code, person_name)
    jiaozuo_certificate(Client(stack, "training.admin"), person["id"])
    round_ = open_round(city, "jiaozuo-2022", CITY, f"焦作市首席教育信息官推荐（{school_name}）")
    nomination = prepared_nomination(school.admin, round_["id"], school.code, person["id"], JIAOZUO_FORM, photo=True)
    submit(school.admin, nomination)
    decide(school.admin, task_for(school.admin, nomination.id, "unit"), "approve", "同意推荐", school.name)
    county_task = task_for(county.reviewer.api, nomination.id, "county_review")
    decide(county.reviewer.api, county_task, "approve", "同意", county.name)
    # 推荐表、汇总表各1份，报送至市教育局: the county sends its batch before the city decides.
    city_task = send_up_to_the_city(county.reviewer.api, city, round_["id"], county.code, nomination.id)
    decide(
        city,
        city_task,
        "approve",
        "同意聘任",
        "焦作市教育局",
        document_number=f"焦教文〔2026〕{uuid.uuid4().hex[:4].upper()}号",
    )
    appointment = appointment_of(city, nomination.id, f"/{CITY}/{county.code}/{school.code}")
    return Appointed(school, person, appointment)
