"""The one place that reads nominations' policy snapshot (`nominations.round.opened` data.policy).

The snapshot is the policy document as nominations loads it (services/nominations/.../policies/*.yaml,
checked there against policy.schema.yaml). Approvals reads only what it acts on and ignores the rest
(the form, eligibility, summary columns…), so nominations may add keys freely; a key approvals needs
that is missing or malformed is refused with its path, e.g. ``approval.stages[1].role``.
"""

from __future__ import annotations

from typing import Any

from approvals.domain.policy import (
    ESCALATE_NEXT_STAGE,
    RESUBMIT_MODES,
    SUBJECT_CIO,
    SUBJECTS,
    WHEN_MISSING_MODES,
    WHEN_MISSING_WAIT,
    Cadence,
    Escalation,
    EvaluationPolicy,
    Indicator,
    Policy,
    PublicationPolicy,
    StagePolicy,
    TermPolicy,
)

_MISSING = object()


class PolicySnapshotError(ValueError):
    """The snapshot lacks what approvals needs; retrying will not help."""


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


def parse_policy(data: Any) -> Policy:
    """Policy snapshot dict → the Policy approvals acts on; PolicySnapshotError names what is missing."""
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


def parse_case_policy(data: Any) -> Policy:
    """A case policy of approvals' own (case_policies/*.yaml: a review chain and nothing else, e.g. the project-plan
    review) → the Policy its cases follow: no term, evaluation, training or publication."""
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
