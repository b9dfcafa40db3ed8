"""Seed 001 「首席信息官每年组织一次测评，不合格者限期整改；每2年对学校信息化工作考核一次」 as rules: the appointment
tells which evaluations its policy orders, and an overdue rectification names the school and the bureau."""

from __future__ import annotations

import datetime as dt
import uuid
from types import SimpleNamespace
from typing import Any, cast

import pytest
from approvals.adapters.policy_snapshot import parse_policy
from approvals.domain.evaluation import Rectification
from approvals.domain.model import Appointment, DomainError, StateConflict
from approvals.service_layer.evaluations import sniff_attachment

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
        {"kind": "cio_annual", "every_years": 1, "subject": "cio"},
        {"kind": "school_biennial", "every_years": 2, "subject": "school"},
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


def test_整改报告_needs_its_text_and_attachments_of_known_types_until_the_outcome() -> None:
    assert sniff_attachment(b"%PDF-1.7 ...", "a.pdf") == "application/pdf"
    assert sniff_attachment(b"PK\x03\x04...", "方案.docx").endswith("wordprocessingml.document")  # type: ignore[union-attr]
    assert sniff_attachment(b"PK\x03\x04...", "a.zip") is None
    assert sniff_attachment(b"MZ\x90", "a.pdf") is None  # the name does not make it a PDF
    evaluation = SimpleNamespace(
        id=uuid.uuid4(), appointment_id=uuid.uuid4(), org_code="x", org_path="/x", kind="cio_annual", period=2023
    )
    rectification = Rectification(cast(Any, evaluation), dt.date(2024, 3, 1), "不合格", True, AT)
    rectification.events.clear()
    pdf = {"filename": "a.pdf", "content_type": "application/pdf", "size": 10}
    with pytest.raises(DomainError) as empty:
        rectification.report(" ", [pdf], "sa", AT)
    assert empty.value.field == "report"
    with pytest.raises(DomainError) as odd:
        rectification.report("已整改", [pdf, {**pdf, "content_type": "application/octet-stream"}], "sa", AT)
    assert odd.value.field == "attachments.1"
    rectification.report("已整改", [pdf], "sa", AT, "city_reviewer", "/4108")
    (reported,) = rectification.events
    assert reported.payload()["attachments"] == 1 and rectification.reported_by == "sa"
    rectification.record_outcome("passed", None, "ev", AT)
    with pytest.raises(StateConflict):
        rectification.report("再次", [], "sa", AT)
