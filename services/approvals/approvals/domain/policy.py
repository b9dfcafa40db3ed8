"""The parts of a round's policy snapshot that approvals acts on: the chain, the term, evaluation, training.

The snapshot is taken when the round opens (nominations owns the policy documents), so a later edit of a
policy never changes a running case. Quantities live here as data, never as constants in the rules.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

# approval.resubmission_reenters: where a returned nomination re-enters the chain when resubmitted
RESUBMIT_FIRST = "first_stage"
RESUBMIT_RETURNING = "returning_stage"
RESUBMIT_MODES = (RESUBMIT_FIRST, RESUBMIT_RETURNING)

# approval.stages[].when_missing: what a stage does when the school has no org of its level above it.
# `wait`: the org tree is not known yet, retry (the default); `skip`: the chain goes on to the next body
# (a school directly under the city, 市直各学校, has no county bureau).
WHEN_MISSING_WAIT = "wait"
WHEN_MISSING_SKIP = "skip"
WHEN_MISSING_MODES = (WHEN_MISSING_WAIT, WHEN_MISSING_SKIP)


@dataclass(frozen=True)
class StagePolicy:
    """One stage of the chain: a role acting at the org of `org_level` above (or at) the school.

    `key` is the policy's stable stage name (`county_review`); `name` is the display name (`name_zh`).
    """

    key: str
    name: str
    role: str
    org_level: str
    due_days: int
    when_missing: str = WHEN_MISSING_WAIT
    escalate_to: Escalation | None = None  # who is told when this stage's task is overdue; None: nobody above
    # 报送 (焦作 「推荐表、汇总表各1份，报送至市教育局」): the stage decides a form only once the body of the stage
    # before it has sent it up in its batch; a school without that body (市直各学校) is not held
    awaits_batch: bool = False


# approval.stages[].escalate_to: `next_stage` (the body of the next stage of the case's chain: 县 → 市) or a
# role at an org level ({role: party_committee, org_level: university}); absent or null: the top, nobody.
ESCALATE_NEXT_STAGE = "next_stage"


@dataclass(frozen=True)
class Escalation:
    """An overdue task's escalation target: the next stage's body, or `role` at the school's `org_level` org."""

    next_stage: bool = False
    role: str | None = None
    org_level: str | None = None


@dataclass(frozen=True)
class TermPolicy:
    """任期: `length_years` None means no term is set and the appointment lasts until revoked (Jiaozuo)."""

    length_years: int | None
    max_consecutive_terms: int | None = None
    renewable: bool = True
    change_requires_refiling: bool = False
    # term.renewal: by_nomination — 连聘 is a new nomination through the whole chain (宜春学院: 校长提名 →
    # 校长办公会审议 → 党委常委会批准), never a single call of the appointing body
    renewal_by_nomination: bool = False
    # 贺兰 「每届任期一般不少于3年」: the appointing body chooses the term at appointment, `length_years` at least
    length_chosen_at_appointment: bool = False

    @property
    def open_ended(self) -> bool:
        return self.length_years is None


@dataclass(frozen=True)
class Indicator:
    """一级/二级指标: one scored line of an evaluation sheet; `veto` marks 一票否决 items."""

    code: str
    name: str
    max_score: float
    parent: str | None = None
    veto: bool = False
    notes: str | None = None  # 评分说明: how the bureau scores it


# evaluation.cadences[].subject: whom an evaluation is about. `cio`: the CIO's appointment (首席信息官每年组织一次测评);
# `school`: the school itself, with or without an active CIO (每2年对学校信息化工作考核一次).
SUBJECT_CIO = "cio"
SUBJECT_SCHOOL = "school"
SUBJECTS = (SUBJECT_CIO, SUBJECT_SCHOOL)


@dataclass(frozen=True)
class Cadence:
    """An evaluation the policy orders every `every_years` (cio_annual, school_biennial) about `subject`."""

    kind: str
    every_years: int
    name: str | None = None
    subject: str = SUBJECT_CIO

    def due(self, evaluated_periods: list[int] | tuple[int, ...], period: int) -> bool:
        """Whether `period` may be evaluated: no evaluation of the kind within `every_years` of it (every 2 years:
        2023 done, 2024 is not due, 2025 is)."""
        return not any(abs(p - period) < self.every_years for p in evaluated_periods)


@dataclass(frozen=True)
class EvaluationPolicy:
    grades: tuple[str, ...] = ()
    cadences: tuple[Cadence, ...] = ()
    on_unqualified: str | None = None  # "rectification": 不合格者限期整改
    on_failed_rectification: str | None = None  # "revoke": 整改不合格的取消任命
    rectification_due_days: int | None = None
    indicators: tuple[Indicator, ...] = ()

    @property
    def revoke_on_failed_rectification(self) -> bool:
        return self.on_failed_rectification == "revoke"


@dataclass(frozen=True)
class PublicationPolicy:
    """名单公示 as the policy orders it: `before_appointment` means no listed person is appointed before a 公示期
    of at least `min_days` has ended with every objection resolved. None of the seeds orders one (宜春学院
    「正式聘任并公布」 announces the appointment after it is made); a region that does says so here."""

    before_appointment: bool = False
    min_days: int | None = None


@dataclass(frozen=True)
class Policy:
    id: str
    version: int
    name: str
    stages: tuple[StagePolicy, ...]
    resubmit_reenters: str
    term: TermPolicy
    evaluation: EvaluationPolicy = field(default_factory=EvaluationPolicy)
    training_requirement: dict[str, Any] = field(default_factory=dict)
    publication: PublicationPolicy = field(default_factory=PublicationPolicy)
    # nomination.nominee_org_levels: the levels of the units the policy is about (school; 宜春学院: university) —
    # the orgs a school assessment is opened for
    unit_levels: tuple[str, ...] = ("school",)

    def cadence(self, kind: str) -> Cadence | None:
        return next((c for c in self.evaluation.cadences if c.kind == kind), None)


def add_years(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def term_dates(starts_on: dt.date, years: int | None) -> tuple[dt.date, dt.date | None]:
    """A term of N years ends the day before the same date N years on (2024-09-01 → 2027-08-31);
    without a term length there is no end date (the appointment lasts until revoked)."""
    if years is None:
        return starts_on, None
    return starts_on, add_years(starts_on, years) - dt.timedelta(days=1)
