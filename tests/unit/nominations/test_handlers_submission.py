"""Handing the 推荐表 on, against the fake unit of work: the eligibility rules of the round's policy, submission
announced on the bus and audited, withdrawal."""

from __future__ import annotations

import pytest
from nominations.domain.model import Status
from nominations.service_layer import submission

from shared.errors import Unprocessable
from tests.unit.nominations.fakes import SCHOOL, principal, version_is
from tests.unit.nominations.steps import NOW, open_round, ready, start, submitted, with_directory


def test_a_complete_form_of_a_certified_candidate_is_submitted_and_announced() -> None:
    """Seed 001 (焦教文〔2022〕60号) 任职条件: 「参加过国家、省、市、县举办的首席信息官（CIO）培训并取得合格证者」."""
    uow = with_directory()
    nomination = submitted(uow, open_round(uow))
    assert nomination.status == Status.SUBMITTED and nomination.revision == 1
    assert uow.published()[-1] == "nominations.nomination.submitted"
    assert uow.audit_trail[-1]["action"] == "nomination.submitted"


def test_a_candidate_without_a_training_certificate_is_not_eligible() -> None:
    """Seed 001: a CIO certificate, or an IT training certificate and 2 years of school IT management."""
    uow = with_directory()
    nomination = ready(uow, start(uow, open_round(uow)))
    with pytest.raises(Unprocessable) as refused:
        submission.submit(uow, principal(SCHOOL), nomination.id, version_is(nomination.version), NOW)
    assert any(e["field"].startswith("eligibility.") for e in refused.value.errors or [])
    assert nomination.status == Status.DRAFT
    assert "nominations.nomination.submitted" not in uow.published()


def test_the_eligibility_check_names_the_rules_it_checked() -> None:
    uow = with_directory()
    nomination = ready(uow, start(uow, open_round(uow)))
    uow.directory.certificates[nomination.candidate_user_id] = [("cio", "city")]
    result = submission.check_eligibility(uow, principal(SCHOOL), nomination.id, NOW.date())
    assert result.eligible and result.checked_rules


def test_the_school_withdraws_its_submitted_form() -> None:
    uow = with_directory()
    nomination = submitted(uow, open_round(uow))
    withdrawn = submission.withdraw(uow, principal(SCHOOL), nomination.id, version_is(nomination.version), NOW)
    assert withdrawn.status == Status.WITHDRAWN and not withdrawn.is_live
    assert uow.published()[-1] == "nominations.nomination.withdrawn"
