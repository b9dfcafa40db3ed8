"""Nominations' side of the contract, built with nominations' own code (tests only; approvals never imports it).

The policy documents come from nominations' loader (YAML checked against policy.schema.yaml) and the
event payloads from nominations' domain, so a change of shape there breaks approvals' tests here.
"""

from __future__ import annotations

import datetime as dt
import uuid
from functools import cache
from typing import Any

from nominations.adapters.policies import PolicyCatalog
from nominations.domain import events as nominations_events
from nominations.domain.model import Round
from nominations.domain.policy import Policy

OPENS_AT = dt.datetime(2022, 9, 20, tzinfo=dt.timezone(dt.timedelta(hours=8)))
DEADLINE = dt.datetime(2022, 10, 10, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@cache
def _catalog() -> PolicyCatalog:
    return PolicyCatalog.load()


def policy_document(policy_id: str) -> dict[str, Any]:
    """The snapshot nominations puts in a round: the validated document of the shipped policy file."""
    policy = _catalog().get(policy_id)
    assert policy is not None, f"nominations ships no policy {policy_id}"
    return policy.document


def round_opened_data(
    document: dict[str, Any], *, issuing_org_code: str = "4108", issuing_org_path: str = "/4108"
) -> dict[str, Any]:
    """`nominations.round.opened` data as nominations' Round.open makes it (for any document, even edited)."""
    round_ = Round.open(
        title=f"{document['title_zh']}",
        policy=Policy.from_document(document),
        issuing_org_code=issuing_org_code,
        issuing_org_path=issuing_org_path,
        deadline=DEADLINE,
        created_by="bureau",
        now=OPENS_AT,
    )
    [opened] = round_.events
    assert isinstance(opened, nominations_events.RoundOpened)
    return opened.payload()


def nomination_submitted(
    round_id: str,
    school_path: str,
    *,
    nomination_id: str | None = None,
    revision: int = 1,
    candidate_user_id: str | None = None,
    resubmitted: bool = False,
    returned_at_stage: int | None = None,
    policy_id: str = "jiaozuo-2022",
) -> dict[str, Any]:
    """The payload of nominations' NominationSubmitted / NominationResubmitted (every field it publishes)."""
    payload: dict[str, Any] = {
        "nomination_id": nomination_id or str(uuid.uuid4()),
        "round_id": round_id,
        "policy_id": policy_id,
        "school_org_code": school_path.rsplit("/", 1)[1],
        "school_org_path": school_path,
        "school_name": "学校",
        "candidate_user_id": candidate_user_id or str(uuid.uuid4()),
        "candidate_name": "张三",
        "submitted_by": "school-admin",
        "submitted_at": "2022-10-01T09:00:00+08:00",
        "revision": revision,
        "form": {"name": "张三"},
        "candidate": {"display_name": "张三"},
        "photo_sha256": None,
        "eligibility": {"eligible": True, "checked_rules": []},
    }
    if resubmitted:
        return nominations_events.NominationResubmitted(**payload, returned_at_stage=returned_at_stage).payload()
    return nominations_events.NominationSubmitted(**payload).payload()


def nomination_withdrawn(round_id: str, nomination_id: str, school_path: str, by: str) -> dict[str, Any]:
    return nominations_events.NominationWithdrawn(
        nomination_id=nomination_id,
        round_id=round_id,
        school_org_path=school_path,
        withdrawn_by=by,
        withdrawn_at="2024-05-01T10:00:00+08:00",
    ).payload()


def batch_submitted(
    round_id: str, county_path: str, nomination_ids: list[str], *, to_org_path: str = "/4108"
) -> dict[str, Any]:
    """The payload of nominations' BatchSubmitted: 报送, the county's batch to the city (seed 001
    「推荐表、汇总表各1份，报送至市教育局」), built with nominations' own event class."""
    return nominations_events.BatchSubmitted(
        batch_id=str(uuid.uuid4()),
        round_id=round_id,
        round_title="焦作市首席教育信息官推荐",
        org_code=county_path.rsplit("/", 1)[1],
        org_path=county_path,
        org_name="县（市、区）教育局",
        to_role="city_reviewer",
        to_org_path=to_org_path,
        nomination_ids=nomination_ids,
        count=len(nomination_ids),
        opinion="同意推荐",
        submitted_by="county-reviewer",
        submitted_at="2022-10-08T09:00:00+08:00",
    ).payload()
