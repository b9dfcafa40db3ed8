"""Seed 001 「首席信息官每年组织一次测评，不合格者限期整改；每2年对学校信息化工作考核一次」 as rules: the appointment
tells which evaluations its policy orders, and an overdue rectification names the school and the bureau."""

from __future__ import annotations

import datetime as dt
import uuid
from types import SimpleNamespace
from typing import Any, cast

from approvals.adapters.policy_snapshot import parse_policy
from approvals.domain.evaluation import Rectification
from approvals.domain.model import Appointment

from tests.unit.approvals.nominations_events import policy_document

AT = dt.datetime(2024, 8, 20, 9, tzinfo=dt.UTC)


def appointment(policy_id: str) -> Appointment:
    document = policy_document(policy_id)
    policy = parse_policy(document)
    return Appointment(
        person_user_id="u1", person_name="张三", org_code="4108020001", org_path="/4108/410802/4108020001",
        term_number=1, starts_on=dt.date(2024, 9, 1), term=policy.term,
        training_requirement=policy.training_requirement, document_number="焦教文〔2022〕88号", round_id=None,
        nomination_id=None, case_id=None, policy=document, policy_id=policy.id, appointing_role="city_reviewer",
        appointing_org_path="/4108", at=AT,
    )  # fmt: skip


def test_每年组织一次测评_每2年考核一次_the_appointment_carries_the_evaluations_its_policy_orders() -> None:
    (made,) = appointment("jiaozuo-2022").events
    assert made.payload()["evaluation_cadences"] == [
        {"kind": "cio_annual", "every_years": 1},
        {"kind": "school_biennial", "every_years": 2},
    ]
    (yichun,) = appointment("yichun-university").events
    assert yichun.payload()["evaluation_cadences"] == []  # 宜春学院 orders none: no reminders


def test_不合格者限期整改_an_overdue_rectification_is_flagged_once_naming_the_bureau() -> None:
    evaluation = SimpleNamespace(
        id=uuid.uuid4(),
        appointment_id=uuid.uuid4(),
        org_code="4108020001",
        org_path="/4108/410802/4108020001",
        kind="cio_annual",
        period=2023,
    )
    rectification = Rectification(cast(Any, evaluation), dt.date(2024, 3, 1), "不合格", True, AT)
    rectification.events.clear()
    assert not rectification.mark_overdue(dt.date(2024, 3, 1), AT, "city_reviewer", "/4108")  # due that day
    assert rectification.mark_overdue(dt.date(2024, 3, 2), AT, "city_reviewer", "/4108")
    (overdue,) = rectification.events
    assert overdue.event_type == "approvals.rectification.overdue"
    assert (overdue.payload()["bureau_role"], overdue.payload()["bureau_org_path"]) == ("city_reviewer", "/4108")
    assert not rectification.mark_overdue(dt.date(2024, 3, 3), AT, "city_reviewer", "/4108")  # once
