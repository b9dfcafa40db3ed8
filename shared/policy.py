"""The policy (推荐政策) as every service reads it: one JSON Schema, one loader, one reader of the snapshot.

A policy document is YAML that nominations ships (services/nominations/nominations/policies/*.yaml); a round
snapshots it and `nominations.round.opened` carries the snapshot, so a later edit of a policy never changes a running
case. `policy.schema.yaml` beside this module is the one schema: the loader checks each file against it at start-up,
and the contract of the event that carries a snapshot checks it wherever it travels (shared.contracts.nominations).
`read_policy` is the one typed reading of what the services act on besides the form (the chain, the term,
evaluation, 公示, training); it reads only what it needs and defaults what older snapshots lack, so a snapshot
stored before a key existed stays readable; the form and eligibility are nominations' own (its domain.policy).
Quantities live here as data, never as constants in the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import jsonschema
import yaml

from shared.schemas import schema_errors

SCHEMA_FILE = Path(__file__).resolve().parent / "policy.schema.yaml"


class PolicyDocumentError(ValueError):
    """A policy document does not match the schema; the message names the document, the places and the problems."""


def check_policy_document(document: Any, origin: str = "the policy snapshot") -> dict[str, Any]:
    """The document, if it matches the one policy schema; else PolicyDocumentError naming up to ten places."""
    _refuse_unless_valid(schema_errors(SCHEMA_FILE, document), origin)
    assert isinstance(document, dict)
    return document


# The parts of a policy that travel outside the snapshot (in `approvals.appointment.made`), as JSON pointers into
# the schema.
TRAINING_REQUIREMENT = "/properties/training/properties/requirement"
EVALUATION_CADENCES = "/properties/evaluation/properties/cadences"
T = TypeVar("T")


def check_policy_part(pointer: str, value: T, where: str) -> T:
    """A part of a policy (`TRAINING_REQUIREMENT`, `EVALUATION_CADENCES`) checked against its place in the one
    schema; PolicyDocumentError names `where` and the problems."""
    _refuse_unless_valid(schema_errors(SCHEMA_FILE, value, pointer), where)
    return value


def _refuse_unless_valid(errors: list[jsonschema.ValidationError], where: str) -> None:
    if errors:
        lines = [f"  at {'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in errors[:10]]
        raise PolicyDocumentError(f"{where}: does not match the policy schema:\n" + "\n".join(lines))


def load_policy_document(text: str, origin: str = "<policy>") -> dict[str, Any]:
    """Parse a YAML policy file and check it against the schema; PolicyDocumentError names `origin`."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyDocumentError(f"{origin}: not valid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise PolicyDocumentError(f"{origin}: a policy must be a mapping")
    # Dates written bare in YAML become date objects; the snapshot must stay JSON.
    return check_policy_document(_jsonable(document), origin)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


# -- what the services act on ----------------------------------------------------------------------
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


# -- the reader -------------------------------------------------------------------------------------
_MISSING = object()


class PolicySnapshotError(ValueError):
    """The snapshot lacks what a service acts on; retrying will not help."""


class _Reader:
    """Typed access to the document that names the path of whatever is missing or wrong."""

    def __init__(self, policy_id: str) -> None:
        self.policy_id = policy_id

    def fail(self, path: str, problem: str) -> PolicySnapshotError:
        return PolicySnapshotError(f"policy snapshot {self.policy_id}: {path} {problem}")

    def get(self, obj: Any, key: str, path: str, default: Any = _MISSING) -> Any:
        if not isinstance(obj, dict):
            raise self.fail(path.rsplit(".", 1)[0] if "." in path else path, "must be a mapping")
        if key not in obj:
            if default is _MISSING:
                raise self.fail(path, "is missing")
            return default
        return obj[key]

    def mapping(self, obj: Any, key: str, path: str, default: Any = _MISSING) -> dict[str, Any]:
        value = self.get(obj, key, path, default)
        if not isinstance(value, dict):
            raise self.fail(path, "must be a mapping")
        return value

    def items(self, obj: Any, key: str, path: str, default: Any = _MISSING) -> list[Any]:
        value = self.get(obj, key, path, default)
        if not isinstance(value, list):
            raise self.fail(path, "must be a list")
        return value

    def text(self, obj: Any, key: str, path: str, default: Any = _MISSING) -> str:
        value = self.get(obj, key, path, default)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, "must be a non-empty string")
        return value

    def integer(self, obj: Any, key: str, path: str, *, nullable: bool = False, default: Any = _MISSING) -> Any:
        value = self.get(obj, key, path, default)
        if value is None and nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.fail(path, "must be a positive integer" + (" or null" if nullable else ""))
        return value

    def boolean(self, obj: Any, key: str, path: str, default: Any = _MISSING) -> bool:
        value = self.get(obj, key, path, default)
        if not isinstance(value, bool):
            raise self.fail(path, "must be true or false")
        return value

    def choice(self, obj: Any, key: str, path: str, allowed: tuple[Any, ...], default: Any = _MISSING) -> Any:
        value = self.get(obj, key, path, default)
        if value not in allowed:
            raise self.fail(path, f"must be one of {', '.join(str(a) for a in allowed)}, not {value!r}")
        return value


def _stages(r: _Reader, approval: dict[str, Any]) -> tuple[StagePolicy, ...]:
    raw = r.items(approval, "stages", "approval.stages")
    if not raw:
        raise r.fail("approval.stages", "is empty")
    stages: list[StagePolicy] = []
    for i, s in enumerate(raw):
        at = f"approval.stages[{i}]"
        stages.append(
            StagePolicy(
                key=r.text(s, "name", f"{at}.name"),
                name=r.text(s, "name_zh", f"{at}.name_zh"),
                role=r.text(s, "role", f"{at}.role"),
                org_level=r.text(s, "org_level", f"{at}.org_level"),
                due_days=r.integer(s, "due_days", f"{at}.due_days"),
                when_missing=r.choice(s, "when_missing", f"{at}.when_missing", WHEN_MISSING_MODES, WHEN_MISSING_WAIT),
                escalate_to=_escalation(r, s, f"{at}.escalate_to"),
                awaits_batch=r.boolean(s, "awaits_batch", f"{at}.awaits_batch", False),
            )
        )
    keys = [s.key for s in stages]
    if len(set(keys)) != len(keys):
        raise r.fail("approval.stages", f"repeats a stage name: {keys}")
    if stages[0].awaits_batch:
        raise r.fail("approval.stages[0].awaits_batch", "must be false: the first body receives no batch")
    return tuple(stages)


def _escalation(r: _Reader, stage: dict[str, Any], at: str) -> Escalation | None:
    raw = r.get(stage, "escalate_to", at, None)
    if raw is None:
        return None
    if raw == ESCALATE_NEXT_STAGE:
        return Escalation(next_stage=True)
    return Escalation(role=r.text(raw, "role", f"{at}.role"), org_level=r.text(raw, "org_level", f"{at}.org_level"))


def _term(r: _Reader, data: dict[str, Any]) -> TermPolicy:
    term = r.mapping(data, "term", "term")
    return TermPolicy(
        length_years=r.integer(term, "length_years", "term.length_years", nullable=True),
        max_consecutive_terms=r.integer(term, "max_consecutive_terms", "term.max_consecutive_terms", nullable=True),
        renewable=r.boolean(term, "renewable", "term.renewable"),
        change_requires_refiling=r.boolean(term, "change_requires_refiling", "term.change_requires_refiling"),
        renewal_by_nomination=r.choice(
            term, "renewal", "term.renewal", ("by_appointing_body", "by_nomination"), "by_appointing_body"
        )
        == "by_nomination",
        length_chosen_at_appointment=r.boolean(
            term, "length_chosen_at_appointment", "term.length_chosen_at_appointment", False
        ),
    )


def _evaluation(r: _Reader, data: dict[str, Any]) -> EvaluationPolicy:
    ev = r.mapping(data, "evaluation", "evaluation")
    grades = r.items(ev, "grades", "evaluation.grades")
    cadences = []
    for i, c in enumerate(r.items(ev, "cadences", "evaluation.cadences")):
        at = f"evaluation.cadences[{i}]"
        name = r.get(c, "name_zh", f"{at}.name_zh", None)
        cadences.append(
            Cadence(
                kind=r.text(c, "kind", f"{at}.kind"),
                every_years=r.integer(c, "every_years", f"{at}.every_years"),
                name=str(name) if name else None,
                # a snapshot taken before the key existed: every evaluation was the CIO's
                subject=r.choice(c, "subject", f"{at}.subject", SUBJECTS, SUBJECT_CIO),
            )
        )
    indicators = []
    for i, item in enumerate(r.items(ev, "indicators", "evaluation.indicators", [])):
        at = f"evaluation.indicators[{i}]"
        score = r.get(item, "max_score", f"{at}.max_score")
        if isinstance(score, bool) or not isinstance(score, int | float) or score < 0:
            raise r.fail(f"{at}.max_score", "must be a number ≥ 0")
        parent = r.get(item, "parent", f"{at}.parent", None)
        notes = r.get(item, "notes_zh", f"{at}.notes_zh", None)
        indicators.append(
            Indicator(
                code=r.text(item, "code", f"{at}.code"),
                name=r.text(item, "name_zh", f"{at}.name_zh"),
                max_score=float(score),
                parent=str(parent) if parent else None,
                veto=r.boolean(item, "veto", f"{at}.veto", False),
                notes=str(notes) if notes else None,
            )
        )
    rectification_days = r.integer(
        ev, "rectification_due_days", "evaluation.rectification_due_days", nullable=True, default=None
    )
    return EvaluationPolicy(
        grades=tuple(str(g) for g in grades),
        cadences=tuple(cadences),
        on_unqualified=r.choice(ev, "on_unqualified", "evaluation.on_unqualified", ("rectification", None), None),
        on_failed_rectification=r.choice(
            ev, "on_failed_rectification", "evaluation.on_failed_rectification", ("revoke", None), None
        ),
        rectification_due_days=rectification_days,
        indicators=tuple(indicators),
    )


def _publication(r: _Reader, data: dict[str, Any]) -> PublicationPolicy:
    """Optional: a snapshot taken before the key existed orders no 公示 (as every seed policy)."""
    publication = r.mapping(data, "publication", "publication", {})
    before = r.boolean(publication, "before_appointment", "publication.before_appointment", False)
    min_days = r.integer(publication, "min_days", "publication.min_days", nullable=True, default=None)
    return PublicationPolicy(before_appointment=before, min_days=min_days)


def _unit_levels(r: _Reader, data: dict[str, Any]) -> tuple[str, ...]:
    """nomination.nominee_org_levels (the units the policy is about); a snapshot without it is about schools."""
    nomination = r.mapping(data, "nomination", "nomination", {})
    levels = r.items(nomination, "nominee_org_levels", "nomination.nominee_org_levels", ["school"])
    return tuple(str(level) for level in levels) or ("school",)


def read_policy(data: Any) -> Policy:
    """Policy snapshot dict → the Policy the chain, terms and evaluations follow; PolicySnapshotError names what
    is missing or malformed, with its path (``approval.stages[1].role``)."""
    if not isinstance(data, dict):
        raise PolicySnapshotError("the policy snapshot must be a mapping")
    if not isinstance(data.get("id"), str) or not data["id"]:
        raise PolicySnapshotError("the policy snapshot has no id")
    r = _Reader(data["id"])
    approval = r.mapping(data, "approval", "approval")
    training = r.mapping(data, "training", "training")
    requirement = r.mapping(training, "requirement", "training.requirement")
    title = data.get("title_zh") or data.get("title_en") or data["id"]
    return Policy(
        id=data["id"],
        version=r.integer(data, "version", "version"),
        name=str(title),
        stages=_stages(r, approval),
        resubmit_reenters=r.choice(approval, "resubmission_reenters", "approval.resubmission_reenters", RESUBMIT_MODES),
        term=_term(r, data),
        evaluation=_evaluation(r, data),
        training_requirement=dict(requirement),
        publication=_publication(r, data),
        unit_levels=_unit_levels(r, data),
    )


def read_case_policy(data: Any) -> Policy:
    """A review chain of approvals' own (approvals' case_policies/*.yaml, e.g. governance's project-plan review)
    → the Policy its cases follow: read by the same stage reader as a snapshot, with no term, evaluation, training
    or publication (a plan is not an appointment)."""
    if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not data["id"]:
        raise PolicySnapshotError("a case policy needs an id")
    r = _Reader(data["id"])
    approval = r.mapping(data, "approval", "approval")
    return Policy(
        id=data["id"],
        version=r.integer(data, "version", "version"),
        name=str(data.get("title_zh") or data["id"]),
        stages=_stages(r, approval),
        resubmit_reenters=r.choice(approval, "resubmission_reenters", "approval.resubmission_reenters", RESUBMIT_MODES),
        term=TermPolicy(length_years=None),
    )
