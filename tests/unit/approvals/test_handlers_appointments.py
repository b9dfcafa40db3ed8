"""Appointments (聘任) during their term, handled against a fake unit of work (nothing starts): 免聘, 取消任命,
连任 and the end of a term."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from approvals.adapters.policy_snapshot import parse_policy
from approvals.domain.model import Appointment
from approvals.service_layer.appointments import Dismiss, dismiss, end_due_terms, renew, revoke

from shared.errors import Forbidden, NotFound, Unprocessable
from shared.principal import Grant, Principal
from tests.unit.approvals.fakes import FakeApprovalsUnitOfWork
from tests.unit.approvals.nominations_events import policy_document

HELAN = policy_document("helan-2024")
YICHUN = policy_document("yichun-university")
AT = dt.datetime(2024, 9, 1, tzinfo=dt.UTC)
SCHOOL_PATH = "/640122/6401220001"

COUNTY = Principal("county", (Grant("county_reviewer", "/640122"),))
SCHOOL_ADMIN = Principal("school", (Grant("school_admin", SCHOOL_PATH),))
OTHER_COUNTY = Principal("elsewhere", (Grant("county_reviewer", "/640121"),))


def appointed(snapshot: dict[str, Any] = HELAN, starts_on: dt.date = dt.date(2024, 9, 1)) -> Appointment:
    policy = parse_policy(snapshot)
    cio = Appointment(
        person_user_id="u1", person_name="马兰", org_code="6401220001", org_path=SCHOOL_PATH, term_number=1,
        starts_on=starts_on, term=policy.term, training_requirement=policy.training_requirement,
        document_number="贺教体发〔2024〕1号", round_id=None, nomination_id=None, case_id=None, policy=snapshot,
        policy_id=policy.id, appointing_role="county_reviewer", appointing_org_path="/640122", at=AT,
        term_years=3 if policy.term.length_chosen_at_appointment else None,
    )  # fmt: skip
    cio.events.clear()
    return cio


def test_免聘_ends_the_appointment_for_its_reason_in_one_commit() -> None:
    cio = appointed()
    uow = FakeApprovalsUnitOfWork(cio)

    dismiss(uow, COUNTY, Dismiss(cio.id, "retired", "到龄退休", dt.date(2025, 6, 30)))

    assert uow.committed
    assert (cio.status, cio.end_reason, cio.ended_on) == ("ended", "retired", dt.date(2025, 6, 30))
    assert uow.event_types() == ["approvals.appointment.ended"]
    assert uow.audited_actions() == ["appointment.ended"]


def test_only_the_appointing_body_ends_an_appointment() -> None:
    cio = appointed()
    uow = FakeApprovalsUnitOfWork(cio)

    with pytest.raises(Forbidden):
        dismiss(uow, SCHOOL_ADMIN, Dismiss(cio.id, "retired"))
    assert not uow.committed
    assert cio.status == "active"


def test_an_appointment_outside_the_callers_subtree_does_not_exist_for_them() -> None:
    cio = appointed()
    uow = FakeApprovalsUnitOfWork(cio)

    with pytest.raises(NotFound):
        revoke(uow, OTHER_COUNTY, cio.id, "考核不合格")
    assert not uow.committed


def test_取消任命_is_announced_with_its_reason() -> None:
    cio = appointed()
    uow = FakeApprovalsUnitOfWork(cio)

    revoke(uow, COUNTY, cio.id, "考核不合格")

    assert cio.status == "revoked"
    assert uow.event_types() == ["approvals.appointment.revoked"]
    assert uow.audited[0][1]["details"] == {"reason": "考核不合格"}


def test_可连任_a_renewal_ends_this_term_and_makes_the_next() -> None:
    """贺兰: 中小学校首席信息官实行任期制，每届任期一般不少于3年，可连任."""
    cio = appointed()
    uow = FakeApprovalsUnitOfWork(cio)

    following = renew(uow, COUNTY, cio.id, "贺教体发〔2027〕9号")

    assert uow.committed
    assert following.term_number == 2
    assert following.previous_appointment_id == cio.id
    assert uow.appointments.items[following.id] is following
    assert uow.audited_actions() == ["appointment.renewed", "appointment.made"]
    assert "approvals.appointment.renewed" in uow.event_types()


def test_连聘_at_a_university_is_a_new_nomination_not_a_renewal() -> None:
    """宜春学院: 经校长办公会审议通过，报学校党委常委会批准后，正式聘任 — 连聘 goes through the whole chain again."""
    cio = appointed(YICHUN)
    uow = FakeApprovalsUnitOfWork(cio)

    with pytest.raises(Unprocessable) as refused:
        renew(uow, COUNTY, cio.id, "宜院发〔2027〕1号")
    assert [e["field"] for e in refused.value.errors] == ["policy"]
    assert not uow.committed
    assert len(uow.appointments.items) == 1


def test_a_term_past_its_last_day_ends_by_itself_once() -> None:
    cio = appointed()
    uow = FakeApprovalsUnitOfWork(cio)
    after_the_term = cio.ends_on + dt.timedelta(days=1) if cio.ends_on else None
    assert after_the_term is not None

    assert end_due_terms(lambda: uow, today=after_the_term) == 1
    assert cio.status == "ended"
    assert uow.event_types() == ["approvals.appointment.ended"]

    assert end_due_terms(lambda: uow, today=after_the_term) == 0
    assert uow.event_types() == ["approvals.appointment.ended"]
