"""Rounds (推荐批次) through their handlers, against the fake unit of work: who may open one, what it snapshots,
and how it closes (by the issuer, or by the deadline timer once)."""

from __future__ import annotations

import datetime as dt

import pytest
from nominations.adapters.policies import PolicyCatalog
from nominations.domain.model import Round, RoundStatus
from nominations.service_layer import rounds

from shared.errors import NotFound, PreconditionFailed, Unprocessable
from tests.unit.nominations.fakes import CITY, COUNTY, SCHOOL, FakeUnitOfWork, principal, version_is

CATALOG = PolicyCatalog.load()
NOW = dt.datetime(2022, 9, 1, 8, tzinfo=dt.UTC)
DEADLINE = dt.datetime(2022, 10, 1, tzinfo=dt.UTC)


def open_jiaozuo(uow: FakeUnitOfWork) -> Round:
    return rounds.open_round(
        uow,
        CATALOG,
        principal(CITY, subject="city"),
        title="2022年焦作市首席教育信息官推荐",
        policy_id="jiaozuo-2022",
        issuing_org_code="4108",
        deadline=DEADLINE,
        now=NOW,
    )


def test_the_city_bureau_opens_a_round_with_the_policy_snapshotted_and_announced() -> None:
    """焦教文〔2022〕60号 is the city bureau's notice to its counties and schools: the round it opens carries the
    policy as it stood that day, is announced on the bus and leaves an audit line."""
    uow = FakeUnitOfWork()
    round_ = open_jiaozuo(uow)
    assert round_.issuing_org_path == "/4108" and round_.policy["id"] == "jiaozuo-2022"
    assert uow.rounds.items[round_.id] is round_ and uow.commits == 1
    assert uow.published() == ["nominations.round.opened"]
    assert [a["action"] for a in uow.audit_trail] == ["round.opened"]


def test_a_school_cannot_open_a_round() -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(Unprocessable) as refused:
        rounds.open_round(
            uow,
            CATALOG,
            principal(SCHOOL),
            title="t",
            policy_id="jiaozuo-2022",
            issuing_org_code="4108020001",
            deadline=DEADLINE,
            now=NOW,
        )
    assert refused.value.errors[0]["field"] == "issuing_org_code"
    assert uow.commits == 0 and not uow.rounds.items


def test_closing_a_round_needs_the_version_the_issuer_read() -> None:
    uow = FakeUnitOfWork()
    round_ = open_jiaozuo(uow)
    with pytest.raises(PreconditionFailed):
        rounds.close_round(uow, principal(CITY), round_.id, version_is(round_.version + 1), NOW)
    assert round_.status == RoundStatus.OPEN

    closed = rounds.close_round(uow, principal(CITY), round_.id, version_is(round_.version), NOW)
    assert closed.status == RoundStatus.CLOSED and closed.close_reason == "manual" and closed.version == 2
    assert uow.published()[-1] == "nominations.round.closed"


def test_a_county_reads_the_city_round_but_cannot_close_it() -> None:
    uow = FakeUnitOfWork()
    round_ = open_jiaozuo(uow)
    assert rounds.get_round(uow, principal(COUNTY), round_.id) is round_
    with pytest.raises(NotFound):
        rounds.close_round(uow, principal(COUNTY), round_.id, version_is(1), NOW)


def test_the_deadline_timer_closes_each_round_past_its_deadline_once() -> None:
    uow = FakeUnitOfWork()
    round_ = open_jiaozuo(uow)
    assert rounds.close_due_rounds(lambda: uow, NOW) == 0
    assert rounds.close_due_rounds(lambda: uow, DEADLINE) == 1
    assert round_.status == RoundStatus.CLOSED and round_.close_reason == "deadline"
    assert rounds.close_due_rounds(lambda: uow, DEADLINE + dt.timedelta(days=1)) == 0
    assert [a["action"] for a in uow.audit_trail].count("round.closed") == 1
