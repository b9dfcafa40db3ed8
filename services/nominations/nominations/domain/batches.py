"""报送: a county bureau sends its batch to the city in one act (seed 001 「推荐表、汇总表各1份，报送至市教育局」).

The batch holds the county's approved 推荐表 of a round, its 汇总表 (rendered from those forms) and the county's
opinion. Pure Python: the service layer reads the nominations and their review history and hands them in.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from nominations.domain import events
from nominations.domain.model import IN_FLIGHT, DomainError, Nomination, Round, StateConflict, Status
from nominations.domain.policy import Policy
from shared.events import DomainEvent
from shared.policy import StagePolicy

MAX_OPINION = 2000


def sending_stage(policy: Policy, level: str) -> tuple[StagePolicy, StagePolicy]:
    """The chain's stage at `level` and the stage above it that receives the batch; a level at the top of its
    chain (贺兰: the county appoints) has nobody to send to, and the chain's first body (the school) submits."""
    stages = list(policy.stages)
    for position, stage in enumerate(stages):
        if stage.org_level == level:
            if position == 0:
                # The chain's first body (a school's 单位意见) hands its form on by submitting it; 报送 is what a
                # reviewing body does with the forms it approved.
                raise DomainError(
                    "The unit hands its form on by submitting it; a batch is sent by a reviewing body"
                    " / 学校通过提交推荐表报送，批次由审核单位报送",
                    field="org_code",
                )
            if position + 1 < len(stages):
                return stage, stages[position + 1]
            break
    raise DomainError(
        "This policy's chain has no body above this level to send a batch to / 本批次无需向上级报送",
        field="org_code",
    )


def approved_at_stage(
    policy: Policy, nomination: Nomination, history: Sequence[dict[str, Any]], stage: StagePolicy
) -> bool:
    """The stage's latest decision on the nomination is an approval that still counts.

    When a resubmission re-enters the chain at its first stage, decisions before the last submission no longer
    count; when it re-enters at the returning stage (Jiaozuo), the county's earlier approval stands.
    """
    if nomination.status not in IN_FLIGHT | {Status.APPROVED}:
        return False
    reenters_first = policy.reenters_first_stage
    latest: str | None = None
    for line in history:
        action = line.get("action") or ""
        details = line.get("details") or {}
        if reenters_first and action in ("submitted", "resubmitted"):
            latest = None
        if action.startswith("review_") and details.get("stage_key") == stage.key:
            latest = details.get("decision")
    return latest == "approve"


@dataclass
class Batch:
    """报送批次: one county's batch of a round, sent once to the body above it."""

    id: uuid.UUID
    round_id: uuid.UUID
    org_code: str
    org_path: str
    org_name: str
    to_role: str
    to_org_path: str
    nominations: list[dict[str, Any]]  # {nomination_id, school_org_code, school_name, candidate_name, status}
    opinion: str
    submitted_by: str
    submitted_at: dt.datetime
    events: list[DomainEvent] = field(default_factory=list, repr=False)

    @property
    def nomination_ids(self) -> list[str]:
        return [n["nomination_id"] for n in self.nominations]

    @classmethod
    def send(
        cls,
        *,
        round_: Round,
        org: dict[str, Any],
        to_org_path: str,
        approved: Sequence[Nomination],
        opinion: str,
        actor: str,
        now: dt.datetime,
    ) -> Batch:
        """`org` is the sending bureau ({code, path, name, level}); `approved` the forms its stage approved."""
        policy = round_.read_policy
        _stage, receiving = sending_stage(policy, org["level"])
        due = round_.deadline_for(org["level"])
        if now >= due:
            raise StateConflict(
                f"The deadline for sending the batch ({due.isoformat()}) has passed / 已过报送截止时间",
                field="deadline",
            )
        opinion = (opinion or "").strip()
        if not opinion:
            raise DomainError("The bureau's opinion is required / 须填写审核意见", field="opinion")
        if len(opinion) > MAX_OPINION:
            raise DomainError(f"The opinion is longer than {MAX_OPINION} characters / 审核意见过长", field="opinion")
        if not approved:
            raise DomainError(
                "No 推荐表 of this unit has been approved at its level yet / 尚无审核通过的推荐表可报送",
                field="nominations",
            )
        batch = cls(
            id=uuid.uuid4(),
            round_id=round_.id,
            org_code=org["code"],
            org_path=org["path"],
            org_name=org["name"],
            to_role=receiving.role,
            to_org_path=to_org_path,
            nominations=[
                {
                    "nomination_id": str(n.id),
                    "school_org_code": n.school_org_code,
                    "school_name": n.school_name,
                    "candidate_name": n.candidate.get("display_name") or n.form.get("name") or "",
                    "status": n.status.value,
                }
                for n in sorted(approved, key=lambda n: n.school_org_path)
            ],
            opinion=opinion,
            submitted_by=actor,
            submitted_at=now,
        )
        batch.events.append(
            events.BatchSubmitted.from_aggregate(
                batch, batch_id=batch.id, round_title=round_.title, count=len(batch.nominations)
            )
        )
        return batch
