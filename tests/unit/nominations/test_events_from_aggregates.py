"""Nominations' events are read off their aggregates (`EventContract.from_aggregate`): the data on the wire is what the
hand-written keyword lists built before, key for key and type for type (uuids and moments as strings)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from nominations.adapters.policies import PolicyCatalog
from nominations.domain import events
from nominations.domain.batches import Batch
from nominations.domain.model import Nomination, Round
from nominations.domain.policy import Eligibility

from shared.contracts.base import EventContract
from tests.unit.nominations.test_batches import COUNTY, jiaozuo_round, nomination
from tests.unit.nominations.test_batches import NOW as OPENED
from tests.unit.nominations.test_nomination import NOW, _ready


def same_data(built: EventContract, by_keyword: EventContract) -> None:
    assert type(built) is type(by_keyword)
    assert built.payload() == by_keyword.payload()
    assert built.data_as_sent() == by_keyword.data_as_sent()
    assert {k: type(v) for k, v in built.payload().items()} == {k: type(v) for k, v in by_keyword.payload().items()}


def helan_round() -> Round:
    policy = PolicyCatalog.load().get("helan-2024")
    assert policy is not None
    return Round.open(
        title="2024 CIO",
        policy=policy,
        issuing_org_code="640122",
        issuing_org_path="/640122",
        deadline=NOW + dt.timedelta(days=30),
        created_by="county",
        now=NOW,
    )


def test_a_round_opening_tells_what_it_told() -> None:
    county_due = dt.datetime(2022, 10, 10, tzinfo=dt.UTC)
    round_ = jiaozuo_round(level_deadlines={"county": county_due}, notice={"document_number": "焦教文〔2022〕60号"})
    (opened,) = round_.events
    same_data(
        opened,  # type: ignore[arg-type]
        events.RoundOpened(
            round_id=str(round_.id),
            title=round_.title,
            policy_id=round_.policy_id,
            policy_version=round_.policy_version,
            issuing_org_code="4108",
            issuing_org_path="/4108",
            opens_at=OPENED.isoformat(),
            deadline=round_.deadline.isoformat(),
            policy=round_.policy,
            notice={"document_number": "焦教文〔2022〕60号"},
            level_deadlines={"county": county_due.isoformat()},
        ),
    )


def submitted(n: Nomination, at: dt.datetime) -> dict[str, Any]:
    return {
        "nomination_id": str(n.id),
        "round_id": str(n.round_id),
        "policy_id": n.policy_id,
        "school_org_code": n.school_org_code,
        "school_org_path": n.school_org_path,
        "school_name": n.school_name,
        "candidate_user_id": str(n.candidate_user_id),
        "candidate_name": n.candidate.get("display_name") or n.form.get("name") or "",
        "submitted_by": "admin",
        "submitted_at": at.isoformat(),
        "revision": n.revision,
        "form": dict(n.form),
        "candidate": dict(n.candidate),
        "photo_sha256": n.photo_sha256,
        "eligibility": {"eligible": True, "checked_rules": [], "warnings": []},
    }


def test_a_submission_a_resubmission_and_a_withdrawal_tell_what_they_told() -> None:
    round_ = helan_round()
    policy = round_.read_policy
    n = _ready(policy, round_)
    n.submit(policy, round_, Eligibility(True), actor="admin", now=NOW)
    same_data(n.events[-1], events.NominationSubmitted(**submitted(n, NOW)))
    n.apply_review(outcome="in_review", stage_index=0, actor="r", details={}, now=NOW)
    n.apply_review(outcome="returned", stage_index=1, actor="r", details={}, now=NOW)
    n.attest(actor="admin", signer_name="李四", now=NOW)
    later = NOW + dt.timedelta(days=2)
    n.submit(policy, round_, Eligibility(True), actor="admin", now=later)
    same_data(n.events[-1], events.NominationResubmitted(**submitted(n, later), returned_at_stage=1))
    n.withdraw(actor="admin", now=later)
    same_data(
        n.events[-1],
        events.NominationWithdrawn(
            nomination_id=str(n.id),
            round_id=str(n.round_id),
            school_org_path=n.school_org_path,
            withdrawn_by="admin",
            withdrawn_at=later.isoformat(),
        ),
    )


def test_a_batch_sent_up_tells_what_it_told() -> None:
    round_ = jiaozuo_round()
    at = dt.datetime(2022, 9, 5, tzinfo=dt.UTC)
    forms = [nomination(round_, school="4108020002"), nomination(round_)]
    batch = Batch.send(
        round_=round_, org=COUNTY, to_org_path="/4108", approved=forms, opinion="同意推荐", actor="county", now=at
    )
    same_data(
        batch.events[-1],  # type: ignore[arg-type]
        events.BatchSubmitted(
            batch_id=str(batch.id),
            round_id=str(round_.id),
            round_title=round_.title,
            org_code="410802",
            org_path="/4108/410802",
            org_name="解放区教育局",
            to_role=batch.to_role,
            to_org_path="/4108",
            nomination_ids=[str(f.id) for f in sorted(forms, key=lambda f: f.school_org_path)],
            count=2,
            opinion="同意推荐",
            submitted_by="county",
            submitted_at=at.isoformat(),
        ),
    )
