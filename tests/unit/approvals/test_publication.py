"""名单公示 as rules: the period (公示期), objections (异议) with contact details, and what the final approval
waits for."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from approvals.adapters.policy_snapshot import parse_policy
from approvals.domain.model import DomainError, StateConflict
from approvals.domain.policy import PublicationPolicy
from approvals.domain.publication import Objection, Publication, required_publication_hold
from nominations.adapters.policies import PolicyCatalog

AT = dt.datetime(2022, 10, 20, 9, tzinfo=dt.UTC)


@dataclass
class Listed:
    """The part of a review case a list shows."""

    candidate_name: str
    school_name: str
    school_org_path: str
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    nomination_id: uuid.UUID = field(default_factory=uuid.uuid4)
    school_org_code: str = "4108020001"


def published(*cases: Listed, days: int = 5, **kwargs: Any) -> Publication:
    values: dict[str, Any] = {
        "round_id": uuid.uuid4(),
        "publisher_org_code": "4108",
        "publisher_org_path": "/4108",
        "publisher_name": "焦作市教育局",
        "publisher_role": "city_reviewer",
        "title": "焦作市首席教育信息官拟聘任人选公示",
        "note": None,
        "starts_on": AT.date(),
        "ends_on": AT.date() + dt.timedelta(days=days - 1),
        "cases": cast(Any, list(cases)),
        "by": "city",
        "at": AT,
    }
    values.update(kwargs)
    return Publication(**values)


def objection(publication: Publication, case_id: uuid.UUID | None, at: dt.datetime = AT, **kwargs: Any) -> Objection:
    values: dict[str, Any] = {
        "case_id": case_id,
        "content": "该同志已调离本校",
        "contact_name": "赵六",
        "contact_phone": "13900001111",
        "contact_email": None,
        "at": at,
    }
    values.update(kwargs)
    return Objection(publication, **values)


ZHANG = Listed("张三", "解放区第一实验小学", "/4108/410802/4108020001")
LI = Listed("李四", "修武县城关小学", "/4108/410821/4108210001")


def test_名单公示_the_period_is_public_from_its_first_to_its_last_day() -> None:
    publication = published(LI, ZHANG)
    assert [e["candidate_name"] for e in publication.entries] == ["张三", "李四"]  # by unit
    assert publication.state(AT.date() - dt.timedelta(days=1)) == "upcoming"
    assert publication.state(AT.date()) == publication.state(publication.ends_on) == "open"
    assert publication.state(publication.ends_on + dt.timedelta(days=1)) == "ended"
    (opened,) = publication.events
    assert opened.payload()["ends_on"] == publication.ends_on.isoformat()


def test_名单公示_a_period_starts_today_or_later_and_ends_after_it_starts() -> None:
    with pytest.raises(DomainError) as past:
        published(ZHANG, starts_on=AT.date() - dt.timedelta(days=1))
    assert past.value.field == "starts_on"
    with pytest.raises(DomainError) as backwards:
        published(ZHANG, ends_on=AT.date() - dt.timedelta(days=1))
    assert backwards.value.field == "ends_on"
    with pytest.raises(DomainError) as empty:
        published()
    assert empty.value.field == "round_id"


def test_异议_is_received_during_the_period_with_a_way_to_reach_the_objector() -> None:
    publication = published(ZHANG)
    received = objection(publication, ZHANG.id)
    assert received.status == "received" and received.org_path == "/4108"
    (event,) = received.events
    assert "13900001111" not in str(event.payload())  # the contact stays with the bureau
    with pytest.raises(StateConflict) as late:
        objection(publication, ZHANG.id, at=AT + dt.timedelta(days=5))
    assert late.value.field == "period"
    with pytest.raises(DomainError) as unreachable:
        objection(publication, ZHANG.id, contact_phone=None)
    assert unreachable.value.field == "contact_phone"
    assert objection(publication, None, contact_phone=None, contact_email="a@b.cn").case_id is None
    with pytest.raises(DomainError) as stranger:
        objection(publication, LI.id)
    assert stranger.value.field == "case_id"


def test_名单公示_the_appointment_waits_for_the_period_and_every_objection() -> None:
    publication = published(ZHANG, LI)
    after = publication.ends_on + dt.timedelta(days=1)
    assert publication.hold_on(ZHANG.id, [], publication.ends_on) is not None  # the last day is in the period
    assert publication.hold_on(ZHANG.id, [], after) is None
    about_zhang = objection(publication, ZHANG.id)
    about_the_list = objection(publication, None)
    assert publication.hold_on(LI.id, [about_zhang], after) is None  # an objection about someone else
    assert publication.hold_on(LI.id, [about_the_list], after) is not None  # one about the whole list
    about_the_list.resolve("dismissed", "经核实，名单无误", "city", AT)
    about_zhang.resolve("upheld", "经核实，异议成立", "city", AT)
    assert publication.hold_on(LI.id, [about_zhang, about_the_list], after) is None
    assert "异议成立" in (publication.hold_on(ZHANG.id, [about_zhang, about_the_list], after) or "")
    with pytest.raises(StateConflict):
        about_zhang.resolve("dismissed", "改判", "city", AT)
    with pytest.raises(DomainError) as silent:
        objection(publication, LI.id).resolve("dismissed", " ", "city", AT)
    assert silent.value.field == "resolution"


def test_正式聘任并公布_no_seed_policy_orders_a_公示_before_the_appointment() -> None:
    """Jiaozuo (报送至市教育局 → 市教育局审核意见), Helan (由教育体育局发文聘任) and Yichun (正式聘任并公布: announced
    after) order no 公示期 before the appointment, and each says so; a snapshot without the key orders none."""
    catalog = PolicyCatalog.load()
    for policy_id in ("jiaozuo-2022", "helan-2024", "yichun-university"):
        policy = catalog.get(policy_id)
        assert policy is not None
        assert policy.document["publication"] == {"before_appointment": False}, policy_id
        assert parse_policy(policy.document).publication == PublicationPolicy(before_appointment=False)
        assert required_publication_hold(parse_policy(policy.document).publication, None, uuid.uuid4()) is None
    jiaozuo = catalog.get("jiaozuo-2022")
    assert jiaozuo is not None
    older = {k: v for k, v in jiaozuo.document.items() if k != "publication"}
    assert parse_policy(older).publication == PublicationPolicy()


def test_名单公示_where_the_policy_orders_it_nobody_is_appointed_without_a_long_enough_period() -> None:
    ordered = PublicationPolicy(before_appointment=True, min_days=7)
    listed = Listed("张三", "第一实验小学", "/4108/410802/4108020001")
    refused = required_publication_hold(ordered, None, listed.id)
    assert refused is not None and "名单公示" in refused
    short = published(listed, days=5)
    too_short = required_publication_hold(ordered, short, listed.id)
    assert too_short is not None and "不少于7天" in too_short
    elsewhere = published(Listed("李四", "第二小学", "/4108/410802/4108020002"), days=7)
    assert required_publication_hold(ordered, elsewhere, listed.id) is not None  # another person's list
    assert required_publication_hold(ordered, published(listed, days=7), listed.id) is None
    # then the period itself and the objections still hold the appointment (Publication.hold_on)
    assert published(listed, days=7).hold_on(listed.id, [], AT.date()) is not None
    assert required_publication_hold(PublicationPolicy(), None, listed.id) is None
