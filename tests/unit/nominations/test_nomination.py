"""The nomination's life: filling, photo, attestation, submit before the deadline, following decisions."""

from __future__ import annotations

import base64
import datetime as dt
import uuid

import pytest
from nominations.adapters.policies import PolicyCatalog
from nominations.domain.masking import mask_email, mask_phone
from nominations.domain.model import DomainError, Ineligible, Nomination, Round, StateConflict, Status, sniff_image
from nominations.domain.policy import Eligibility, Policy

NOW = dt.datetime(2022, 9, 1, 9, tzinfo=dt.UTC)
# A real 2×3 PNG: the service reads an upload's size from its header and refuses what it cannot read.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAADCAIAAAA2iEnWAAAAFElEQVR4nGM8ISfHwMDAxMDAgKAAFEoBCqHkTQMAAAAASUVORK5CYII="
)


@pytest.fixture
def helan() -> Policy:
    policy = PolicyCatalog.load().get("helan-2024")
    assert policy is not None
    return policy


@pytest.fixture
def round_(helan: Policy) -> Round:
    return Round.open(
        title="2024 CIO",
        policy=helan,
        issuing_org_code="640122",
        issuing_org_path="/640122",
        deadline=NOW + dt.timedelta(days=30),
        created_by="county",
        now=NOW,
    )


def _ready(helan: Policy, round_: Round) -> Nomination:
    n = Nomination.start(
        round_=round_,
        school_org_code="6401220001",
        school_org_path="/640122/6401220001",
        school_name="贺兰县第一小学",
        actor="admin",
        now=NOW,
    )
    user = uuid.uuid4()
    directory = {"display_name": "张三", "birth_date": "1980-05-01", "phone": "13800008000", "email": "z@example.cn"}
    n.choose_candidate(helan, user, directory, actor="admin", now=NOW)
    n.fill(
        helan,
        {
            "political_status": "中共党员",
            "highest_education": "本科",
            "graduating_school": "宁夏大学",
            "major": "计算机",
            "position": "校长",
            "work_history": "2000年至今 贺兰县第一小学",
            "is_legal_representative": True,
        },
        actor="admin",
        now=NOW,
    )
    n.attach_photo(helan, PNG, pixels=6, actor="admin", now=NOW)
    n.attest(actor="admin", signer_name="李四", now=NOW)
    return n


def test_opening_a_round_snapshots_the_policy(helan: Policy, round_: Round) -> None:
    (event,) = round_.events
    assert event.payload()["policy"]["approval"] == helan.document["approval"]
    assert event.payload()["deadline"] == (NOW + dt.timedelta(days=30)).isoformat()


def test_prefilled_fields_come_from_the_directory_and_are_not_typed_again(helan: Policy, round_: Round) -> None:
    n = _ready(helan, round_)
    assert n.form["name"] == "张三" and n.form["work_unit"] == "贺兰县第一小学" and n.form["phone"] == "13800008000"
    with pytest.raises(DomainError) as refused:
        n.fill(helan, {"phone": "13900000000"}, actor="admin", now=NOW)
    assert [p.field for p in refused.value.problems] == ["form.phone"]


def test_submit_publishes_the_form_snapshot(helan: Policy, round_: Round) -> None:
    n = _ready(helan, round_)
    n.submit(helan, round_, Eligibility(True), actor="admin", now=NOW)
    assert n.status == Status.SUBMITTED and n.revision == 1
    payload = n.events[-1].payload()
    assert n.events[-1].event_type == "nominations.nomination.submitted"
    assert payload["form"]["major"] == "计算机" and payload["candidate_name"] == "张三"
    assert [c.action for c in n.changes][-1] == "submitted"


def test_submit_after_the_deadline_is_refused(helan: Policy, round_: Round) -> None:
    n = _ready(helan, round_)
    with pytest.raises(StateConflict, match="deadline"):
        n.submit(helan, round_, Eligibility(True), actor="admin", now=round_.deadline)


def test_incomplete_form_names_each_missing_part(helan: Policy, round_: Round) -> None:
    n = Nomination.start(
        round_=round_, school_org_code="s", school_org_path="/640122/s", school_name="s", actor="a", now=NOW
    )
    with pytest.raises(DomainError) as refused:
        n.submit(helan, round_, Eligibility(True), actor="a", now=NOW)
    fields = {p.field for p in refused.value.problems}
    assert {"candidate_user_id", "photo", "attestation", "form.political_status"} <= fields


def test_ineligible_is_refused(helan: Policy, round_: Round) -> None:
    n = _ready(helan, round_)
    with pytest.raises(Ineligible):
        n.submit(helan, round_, Eligibility(False), actor="admin", now=NOW)
    assert n.status == Status.DRAFT


def test_editing_after_attestation_needs_a_new_signature(helan: Policy, round_: Round) -> None:
    n = _ready(helan, round_)
    n.fill(helan, {"major": "教育技术"}, actor="admin", now=NOW)
    assert n.attested_at is None


def test_return_then_resubmit_counts_revisions(helan: Policy, round_: Round) -> None:
    n = _ready(helan, round_)
    n.submit(helan, round_, Eligibility(True), actor="admin", now=NOW)
    assert n.apply_review(outcome="in_review", stage_index=0, actor="r", details={}, now=NOW)
    assert n.apply_review(outcome="returned", stage_index=1, actor="r", details={}, now=NOW)
    assert n.status == Status.RETURNED and n.returned_at_stage == 1
    n.attest(actor="admin", signer_name="李四", now=NOW)
    late = round_.deadline + dt.timedelta(days=1)  # a return may be answered after the deadline
    n.submit(helan, round_, Eligibility(True), actor="admin", now=late)
    assert n.status == Status.RESUBMITTED and n.revision == 2
    event = n.events[-1]
    assert event.event_type == "nominations.nomination.resubmitted"
    assert event.payload()["returned_at_stage"] == 1
    assert n.apply_review(outcome="approved", stage_index=1, actor="r", details={}, now=NOW)
    assert not n.apply_review(outcome="returned", stage_index=1, actor="r", details={}, now=NOW)
    assert n.status == Status.APPROVED


def test_photo_is_checked_by_content_and_size(helan: Policy, round_: Round) -> None:
    n = _ready(helan, round_)
    with pytest.raises(DomainError, match="JPEG or PNG"):
        n.attach_photo(helan, b"GIF89a" + b"\0" * 10, pixels=1, actor="a", now=NOW)
    with pytest.raises(DomainError, match="larger"):
        n.attach_photo(helan, b"\xff\xd8\xff" + b"\0" * helan.photo["max_bytes"], pixels=1, actor="a", now=NOW)
    assert sniff_image(b"\xff\xd8\xff\xe0rest") == "image/jpeg"


def test_masks() -> None:
    assert mask_phone("13800008000") == "138****8000"
    assert mask_email("zhang@example.cn") == "z***@example.cn"


def test_a_rounds_policy_snapshot_is_parsed_once_and_only_reused_while_unchanged(round_: Round) -> None:
    first = round_.read_policy
    assert round_.read_policy is first  # the next request reads the parsed snapshot
    import copy
    import dataclasses

    edited = copy.deepcopy(round_.policy)
    edited["title_zh"] = "另一份快照"
    other = dataclasses.replace(round_, policy=edited)  # same round id and version, a different stored snapshot
    assert other.read_policy is not first
    assert other.read_policy.document["title_zh"] == "另一份快照"
