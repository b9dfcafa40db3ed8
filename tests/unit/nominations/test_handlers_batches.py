"""报送 through its handler, against the fake unit of work. Seed 001 (焦教文〔2022〕60号): 「请各县（市、区）…将推荐表、
汇总表各1份，报送至市教育局」 — the county sends the forms it approved, once, with its opinion."""

from __future__ import annotations

import pytest
from nominations.domain.model import Nomination
from nominations.service_layer import batches

from shared.errors import Conflict, Unprocessable
from tests.unit.nominations.fakes import CITY, COUNTY, principal
from tests.unit.nominations.steps import NOW, open_round, start, submitted, with_directory


def county_approves(nomination: Nomination) -> None:
    """What approvals' decision event does to the nomination (projections.on_review_decided)."""
    nomination.apply_review(
        outcome="in_review",
        stage_index=1,
        actor="county",
        details={"stage_key": "county_review", "decision": "approve"},
        now=NOW,
    )


def test_the_county_sends_the_forms_it_approved_to_the_city_in_one_batch() -> None:
    uow = with_directory()
    round_ = open_round(uow)
    approved = submitted(uow, round_)
    county_approves(approved)
    draft = start(uow, round_, school="4108020002", candidate_user_id=None)

    sent = batches.send_batch(
        uow, principal(COUNTY, subject="county"), round_.id, org_code="410802", opinion="同意推荐", now=NOW
    )
    assert sent.batch.nomination_ids == [str(approved.id)]
    assert sent.batch.to_org_path == "/4108" and sent.batch.to_role == "city_reviewer"
    assert [n["nomination_id"] for n in sent.left_out] == [str(draft.id)]
    assert uow.published()[-1] == "nominations.batch.submitted"
    assert uow.audit_trail[-1]["action"] == "batch.submitted"

    overview = batches.round_batches(uow, principal(CITY), round_.id)
    assert [b.id for b in overview.batches] == [sent.batch.id]
    assert {u["org_code"]: u["batch_id"] for u in overview.units} == {"410802": sent.batch.id, "410821": None}


def test_a_county_sends_its_batch_of_a_round_once() -> None:
    uow = with_directory()
    round_ = open_round(uow)
    county_approves(submitted(uow, round_))
    county = principal(COUNTY, subject="county")
    batches.send_batch(uow, county, round_.id, org_code="410802", opinion="同意推荐", now=NOW)
    with pytest.raises(Conflict):
        batches.send_batch(uow, county, round_.id, org_code="410802", opinion="再次报送", now=NOW)
    assert len(uow.batches.items) == 1


def test_nothing_approved_yet_means_nothing_to_send() -> None:
    uow = with_directory()
    round_ = open_round(uow)
    submitted(uow, round_)
    with pytest.raises(Unprocessable) as refused:
        batches.send_batch(uow, principal(COUNTY), round_.id, org_code="410802", opinion="同意推荐", now=NOW)
    assert refused.value.errors[0]["field"] == "nominations"
    assert not uow.batches.items
