"""报送 (seed 001 「推荐表、汇总表各1份，报送至市教育局」): the county's batch to the city, as a rule."""

from __future__ import annotations

import datetime as dt

import pytest
from nominations.adapters.policies import PolicyCatalog
from nominations.domain.batches import Batch, approved_at_stage, sending_stage
from nominations.domain.model import DomainError, Nomination, Round, StateConflict, Status

CATALOG = PolicyCatalog.load()
NOW = dt.datetime(2022, 9, 1, 8, tzinfo=dt.UTC)
COUNTY = {"code": "410802", "path": "/4108/410802", "name": "解放区教育局", "level": "county"}


def jiaozuo_round(**kwargs: object) -> Round:
    policy = CATALOG.get("jiaozuo-2022")
    assert policy is not None
    return Round.open(
        title="2022年焦作市首席教育信息官推荐",
        policy=policy,
        issuing_org_code="4108",
        issuing_org_path="/4108",
        deadline=dt.datetime(2022, 10, 1, tzinfo=dt.UTC),
        created_by="city",
        now=NOW,
        **kwargs,  # type: ignore[arg-type]
    )


def nomination(round_: Round, status: Status = Status.UNDER_REVIEW, school: str = "4108020001") -> Nomination:
    n = Nomination.start(
        round_=round_,
        school_org_code=school,
        school_org_path=f"/4108/410802/{school}",
        school_name="解放区第一实验小学",
        actor="school",
        now=NOW,
    )
    n.status = status
    n.candidate = {"display_name": "张三"}
    return n


def decision(stage_key: str, decision: str) -> dict[str, object]:
    return {"action": "review_in_review", "details": {"stage_key": stage_key, "decision": decision}}


def test_报送至市教育局_the_round_carries_its_notice_and_the_counties_deadline() -> None:
    """焦教文〔2022〕60号: the notice (文号, text, contacts, attachments) travels with the round and its opened
    event; the counties' 报送 is due at their own deadline, else at the round's."""
    notice = {
        "document_number": "焦教文〔2022〕60号",
        "text": "请各县（市、区）…于2022年10月10日前将推荐表、汇总表各1份，报送至市教育局",
        "contacts": [{"name": "秦杰", "phone": "2992820"}, {"name": "崔杰", "phone": "2992808"}],
        "attachments": [{"title": "焦作市首席教育信息官推荐表", "url": None}],
    }
    county_due = dt.datetime(2022, 10, 10, tzinfo=dt.UTC)
    round_ = jiaozuo_round(notice=notice, level_deadlines={"county": county_due})
    assert round_.deadline_for("county") == county_due
    assert round_.deadline_for("city") == round_.deadline
    (opened,) = round_.events
    payload = opened.payload()
    assert payload["notice"]["document_number"] == "焦教文〔2022〕60号"
    assert payload["level_deadlines"] == {"county": county_due.isoformat()}


def test_报送至市教育局_a_level_deadline_is_of_the_chain_and_not_before_the_schools() -> None:
    with pytest.raises(DomainError) as early:
        jiaozuo_round(level_deadlines={"county": dt.datetime(2022, 9, 20, tzinfo=dt.UTC)})
    assert early.value.field == "level_deadlines.county"
    with pytest.raises(DomainError) as unknown:
        jiaozuo_round(level_deadlines={"university": dt.datetime(2022, 11, 1, tzinfo=dt.UTC)})
    assert unknown.value.field == "level_deadlines.university"


def test_报送至市教育局_only_the_forms_the_county_approved_go_up() -> None:
    """The county's latest decision counts; a form it returned, or one still waiting for it, stays behind."""
    policy = CATALOG.get("jiaozuo-2022")
    assert policy is not None
    county, city = sending_stage(policy, "county")
    assert (county.key, city.key, city.role) == ("county_review", "city_review", "city_reviewer")
    round_ = jiaozuo_round()
    approved = nomination(round_)
    assert approved_at_stage(
        policy, approved, [decision("unit", "approve"), decision("county_review", "approve")], county
    )
    waiting = nomination(round_, Status.UNDER_REVIEW)
    assert not approved_at_stage(policy, waiting, [decision("unit", "approve")], county)
    returned = nomination(round_, Status.RETURNED)
    assert not approved_at_stage(policy, returned, [decision("county_review", "return")], county)
    # approved, then returned by the city and resubmitted: Jiaozuo re-enters at the returning stage, so the
    # county's approval stands
    again = nomination(round_, Status.RESUBMITTED)
    history = [decision("county_review", "approve"), decision("city_review", "return"), {"action": "resubmitted"}]
    assert approved_at_stage(policy, again, history, county)
    withdrawn = nomination(round_, Status.WITHDRAWN)
    assert not approved_at_stage(policy, withdrawn, [decision("county_review", "approve")], county)


def test_报送至市教育局_one_act_before_the_county_deadline_with_an_opinion() -> None:
    round_ = jiaozuo_round(level_deadlines={"county": dt.datetime(2022, 10, 10, tzinfo=dt.UTC)})
    forms = [nomination(round_, school="4108020002"), nomination(round_)]
    batch = Batch.send(
        round_=round_,
        org=COUNTY,
        to_org_path="/4108",
        approved=forms,
        opinion="同意推荐",
        actor="county",
        now=dt.datetime(2022, 10, 5, tzinfo=dt.UTC),
    )
    assert batch.to_role == "city_reviewer" and batch.to_org_path == "/4108"
    assert [n["school_org_code"] for n in batch.nominations] == ["4108020001", "4108020002"]
    (sent,) = batch.events
    assert sent.event_type == "nominations.batch.submitted"
    assert sent.payload()["count"] == 2 and sent.payload()["opinion"] == "同意推荐"

    # after the county's deadline (though before nothing else): refused, naming the deadline
    with pytest.raises(StateConflict) as late:
        Batch.send(
            round_=round_,
            org=COUNTY,
            to_org_path="/4108",
            approved=forms,
            opinion="同意推荐",
            actor="county",
            now=dt.datetime(2022, 10, 10, tzinfo=dt.UTC),
        )
    assert late.value.field == "deadline"
    with pytest.raises(DomainError) as silent:
        Batch.send(round_=round_, org=COUNTY, to_org_path="/4108", approved=forms, opinion=" ", actor="c", now=NOW)
    assert silent.value.field == "opinion"
    with pytest.raises(DomainError) as empty:
        Batch.send(round_=round_, org=COUNTY, to_org_path="/4108", approved=[], opinion="无", actor="c", now=NOW)
    assert empty.value.field == "nominations"


def test_由教育体育局发文聘任_helans_county_is_the_top_and_sends_nothing_up() -> None:
    helan = CATALOG.get("helan-2024")
    assert helan is not None
    with pytest.raises(DomainError) as top:
        sending_stage(helan, "county")
    assert top.value.field == "org_code"


def test_推荐表_the_school_submits_its_form_and_only_a_reviewing_body_sends_a_batch() -> None:
    """各县（市、区）教育局…报送至市教育局: 报送 is the county's act; the school's own stage (单位意见) has none."""
    jiaozuo = CATALOG.get("jiaozuo-2022")
    assert jiaozuo is not None
    with pytest.raises(DomainError) as first:
        sending_stage(jiaozuo, "school")
    assert first.value.field == "org_code"
