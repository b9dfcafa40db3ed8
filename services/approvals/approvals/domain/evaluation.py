"""Evaluations as the bureaus' score sheets (测评表) and the rectification (限期整改) an unqualified one orders.

A sheet has 一级指标 (parent None) and 二级指标 (parent = a 一级 code) with maximum scores, and veto
items (一票否决) that are not scored but, when triggered, make the result 不合格 whatever the total.
Only leaves are scored (a 一级 with children is the sum of them). The school enters its self-score
(自评得分); the bureau enters the verified score (核查得分), giving the reason (扣分原因) for every
deduction; finalising grades the verified total against the scale. Quantities come from data (the
policy snapshot or the platform's default sheet), never from constants here.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Collection, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from approvals.domain import events
from approvals.domain.model import DomainError, StateConflict
from approvals.domain.policy import SUBJECT_CIO, SUBJECT_SCHOOL, Cadence, EvaluationPolicy, Indicator
from shared.aggregate import EventSource

# evaluation status
SELF_ASSESSMENT, SUBMITTED, FINALISED = "self_assessment", "submitted", "finalised"
# rectification status / outcomes
ORDERED, PASSED, FAILED = "ordered", "passed", "failed"
# 整改报告: platform limits on what a school uploads (not policy rules)
MAX_REPORT_CHARS = 10_000
MAX_REPORT_ATTACHMENTS = 10
MAX_ATTACHMENT_BYTES = 10_000_000
REPORT_CONTENT_TYPES = (
    "application/pdf",
    "image/jpeg",
    "image/png",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)
OUTCOMES = (PASSED, FAILED)


class Invalid(DomainError):
    """Several inputs were refused at once; `errors` names each (`scores.2.deduction_reason`)."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {m}" for f, m in errors), errors[0][0] if errors else None)
        self.errors = errors


class SheetError(ValueError):
    """The score sheet itself is malformed (a policy's indicators, the default data file)."""


@dataclass(frozen=True)
class GradeBand:
    """A grade reached at `min_percent` of the sheet's maximum total or more."""

    grade: str
    min_percent: float


@dataclass(frozen=True)
class GradeScale:
    """优秀 / 合格 / 不合格 from the verified total; a triggered veto item gives `veto_grade`."""

    bands: tuple[GradeBand, ...]
    veto_grade: str
    unqualified_grade: str

    def grade(self, total: float, max_total: float, vetoed: bool) -> str:
        if vetoed:
            return self.veto_grade
        percent = 100.0 * total / max_total if max_total else 0.0
        for band in sorted(self.bands, key=lambda b: -b.min_percent):
            if percent >= band.min_percent - 1e-9:
                return band.grade
        return self.unqualified_grade


@dataclass(frozen=True)
class ScoreSheet:
    """The indicators of one kind of evaluation and the scale that grades it."""

    kind: str
    name: str
    source: str  # "policy" or "platform" (the default sheet of this package)
    indicators: tuple[Indicator, ...]
    scale: GradeScale

    @property
    def scored(self) -> tuple[Indicator, ...]:
        parents = {i.parent for i in self.indicators if i.parent}
        return tuple(i for i in self.indicators if not i.veto and i.code not in parents)

    @property
    def vetoes(self) -> tuple[Indicator, ...]:
        return tuple(i for i in self.indicators if i.veto)

    @property
    def max_total(self) -> float:
        return round(sum(i.max_score for i in self.scored), 2)

    def validate(self) -> None:
        """Unique codes, parents that exist, a 一级 worth the sum of its 二级, something to score."""
        codes = [i.code for i in self.indicators]
        if len(set(codes)) != len(codes):
            raise SheetError(f"sheet {self.kind}: indicator codes repeat")
        by_code = {i.code: i for i in self.indicators}
        for item in self.indicators:
            if item.parent is not None and (item.parent not in by_code or by_code[item.parent].veto):
                raise SheetError(f"sheet {self.kind}: {item.code} names an unknown parent {item.parent}")
            children = [c for c in self.indicators if c.parent == item.code]
            if children and not math.isclose(sum(c.max_score for c in children), item.max_score, abs_tol=1e-6):
                raise SheetError(
                    f"sheet {self.kind}: {item.code} is worth {item.max_score:g} but its items add up to "
                    f"{sum(c.max_score for c in children):g}"
                )
        if not self.scored or self.max_total <= 0:
            raise SheetError(f"sheet {self.kind}: nothing to score")

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "source": self.source,
            "max_total": self.max_total,
            "indicators": [asdict(i) for i in self.indicators],
            "scale": {
                "bands": [asdict(b) for b in self.scale.bands],
                "veto_grade": self.scale.veto_grade,
                "unqualified_grade": self.scale.unqualified_grade,
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScoreSheet:
        scale = data["scale"]
        return cls(
            kind=data["kind"],
            name=data["name"],
            source=data["source"],
            indicators=tuple(
                Indicator(
                    code=i["code"],
                    name=i["name"],
                    max_score=float(i["max_score"]),
                    parent=i.get("parent"),
                    veto=bool(i.get("veto")),
                    notes=i.get("notes"),
                )
                for i in data["indicators"]
            ),
            scale=GradeScale(
                bands=tuple(GradeBand(b["grade"], float(b["min_percent"])) for b in scale["bands"]),
                veto_grade=scale["veto_grade"],
                unqualified_grade=scale["unqualified_grade"],
            ),
        )


@dataclass(frozen=True)
class Evaluee:
    """Whom the evaluation is about: the CIO's appointment (and so the CIO and the school), or, for a school
    assessment (`subject` school), the school alone: no appointment, no person, the round whose policy it follows."""

    appointment_id: uuid.UUID | None
    person_user_id: str | None
    person_name: str | None
    org_code: str
    org_path: str
    policy_id: str
    subject: str = SUBJECT_CIO
    round_id: uuid.UUID | None = None

    @classmethod
    def school(cls, org_code: str, org_path: str, policy_id: str, round_id: uuid.UUID) -> Evaluee:
        """每2年对学校信息化工作考核一次: the school is assessed whether or not it has a CIO."""
        return cls(None, None, None, org_code, org_path, policy_id, SUBJECT_SCHOOL, round_id)


@dataclass(frozen=True)
class SchoolsToAssess:
    """A school assessment campaign's plan: the schools to open, and those assessed within the cadence already."""

    to_open: tuple[str, ...]
    already: tuple[str, ...]


def plan_school_assessments(
    cadence: Cadence, school_codes: list[str], evaluated: dict[str, list[int]], period: int
) -> SchoolsToAssess:
    """Every school in scope (with an active CIO or not) whose last assessment of the kind is `every_years` or more
    before `period`; the others are counted as already assessed."""
    if cadence.subject != SUBJECT_SCHOOL:
        raise DomainError(f"{cadence.kind} evaluates the CIO, not the school.", "kind")
    to_open = [c for c in school_codes if cadence.due(evaluated.get(c, []), period)]
    return SchoolsToAssess(tuple(to_open), tuple(c for c in school_codes if c not in to_open))


def _named_once(
    entries: list[dict[str, Any]], known: Collection[str], where: str, what: str, errors: list[tuple[str, str]]
) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """The entries of the list `where` (scores, vetoes) that name one of the `known` codes (`what` the sheet calls
    them), each code once, as (position, code, entry); each other entry adds its error."""
    seen: set[str] = set()
    for n, entry in enumerate(entries):
        code = entry.get("code")
        if not isinstance(code, str) or code not in known:
            errors.append((f"{where}.{n}.code", f"{code!r} is not {what} of this sheet"))
            continue
        if code in seen:
            errors.append((f"{where}.{n}.code", f"{code} is given twice"))
            continue
        seen.add(code)
        yield n, code, entry


def _scored_entries(
    scores: list[dict[str, Any]], scored: dict[str, Indicator], errors: list[tuple[str, str]]
) -> Iterator[tuple[int, str, float, dict[str, Any]]]:
    """The score entries that name a scored indicator once and score it within its maximum, as (position, code,
    score, entry); each other entry adds its error. The self-assessment and the verification read a score list
    by the same rules, so one reader keeps their error messages alike."""
    for n, code, entry in _named_once(scores, scored, "scores", "a scored indicator", errors):
        score = _number(entry.get("score"))
        if score is None or not 0 <= score <= scored[code].max_score:
            errors.append((f"scores.{n}.score", f"must be a number from 0 to {scored[code].max_score:g}"))
            continue
        yield n, code, score, entry


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


class Evaluation(EventSource):
    """测评 / 考核: one evaluation of one kind for one period of an appointment (or, for a school assessment, of a
    school), from self-score to grade."""

    version: int  # kept by the mapper (optimistic concurrency)

    def __init__(self, evaluee: Evaluee, kind: str, period: int, sheet: ScoreSheet, by: str, at: dt.datetime) -> None:
        self.id = uuid.uuid4()
        self.appointment_id = evaluee.appointment_id
        self.person_user_id = evaluee.person_user_id
        self.person_name = evaluee.person_name
        self.org_code = evaluee.org_code
        self.org_path = evaluee.org_path
        self.policy_id = evaluee.policy_id
        self.subject = evaluee.subject
        self.round_id = evaluee.round_id
        self.kind = kind
        self.period = period
        self.sheet = sheet.as_dict()
        self.items: list[dict[str, Any]] = [
            {
                "code": i.code,
                "self_score": None,
                "evidence": [],
                "verified_score": None,
                "deduction_reason": None,
                "triggered": None if i.veto else False,
                "veto_reason": None,
            }
            for i in sheet.indicators
            if i in sheet.scored or i.veto
        ]
        self.summary: str | None = None
        self.evidence: list[dict[str, Any]] = []
        self.status = SELF_ASSESSMENT
        self.self_total: float | None = None
        self.verified_total: float | None = None
        self.vetoed: bool | None = None
        self.grade: str | None = None
        self.created_by = by
        self.created_at = at
        self.submitted_by: str | None = None
        self.submitted_at: dt.datetime | None = None
        self.verified_by: str | None = None
        self.finalised_by: str | None = None
        self.finalised_at: dt.datetime | None = None
        self.updated_at = at
        self.events: list[Any] = []

    # -- reading -------------------------------------------------------------------------------
    def score_sheet(self) -> ScoreSheet:
        return ScoreSheet.from_dict(self.sheet)

    def _item_index(self) -> dict[str, int]:
        return {item["code"]: n for n, item in enumerate(self.items)}

    # -- changing ------------------------------------------------------------------------------
    def enter_self_assessment(
        self,
        scores: list[dict[str, Any]],
        summary: str | None,
        evidence: list[dict[str, Any]] | None,
        submit: bool,
        by: str,
        at: dt.datetime,
    ) -> None:
        """自评: the school's score per indicator with its evidence; `submit` hands it to the bureau."""
        if self.status != SELF_ASSESSMENT:
            raise StateConflict(f"The self-assessment is closed; the evaluation is {self.status}.", "status")
        sheet = self.score_sheet()
        scored = {i.code: i for i in sheet.scored}
        errors: list[tuple[str, str]] = []
        items = [dict(item) for item in self.items]
        index = self._item_index()
        for _, code, score, entry in _scored_entries(scores, scored, errors):
            item = items[index[code]]
            item["self_score"] = score
            item["evidence"] = [str(e) for e in entry.get("evidence") or []]
        if submit:
            missing = [i.code for i in sheet.scored if items[index[i.code]]["self_score"] is None]
            if missing:
                errors.append(("scores", f"every indicator needs a self-score before submitting; missing {missing}"))
            if not (_text(summary) or _text(self.summary)):
                errors.append(("summary", "a summary of the self-assessment (自评总结) is required to submit"))
        if errors:
            raise Invalid(errors)
        self.items = items  # a new list: the JSON column sees the change
        if summary is not None:
            self.summary = _text(summary)
        if evidence is not None:
            self.evidence = [dict(e) for e in evidence]
        self.self_total = round(sum(i["self_score"] or 0.0 for i in items), 2)
        self.updated_at = at
        if submit:
            self.status = SUBMITTED
            self.submitted_by = by
            self.submitted_at = at

    def enter_verification(
        self, scores: list[dict[str, Any]], vetoes: list[dict[str, Any]], by: str, at: dt.datetime
    ) -> None:
        """核查: the bureau's score per indicator, with 扣分原因 wherever it is below the maximum,
        and the veto items it found triggered (with the reason)."""
        if self.status != SUBMITTED:
            raise StateConflict(
                f"Only a submitted self-assessment is verified; the evaluation is {self.status}.", "status"
            )
        sheet = self.score_sheet()
        scored = {i.code: i for i in sheet.scored}
        veto_codes = {i.code for i in sheet.vetoes}
        errors: list[tuple[str, str]] = []
        items = [dict(item) for item in self.items]
        index = self._item_index()
        for n, code, score, entry in _scored_entries(scores, scored, errors):
            top = scored[code].max_score
            reason = _text(entry.get("deduction_reason"))
            if score < top and reason is None:
                errors.append(
                    (f"scores.{n}.deduction_reason", f"give the reason for deducting {top - score:g} (扣分原因)")
                )
                continue
            item = items[index[code]]
            item["verified_score"] = score
            item["deduction_reason"] = reason if score < top else None
        for n, veto, entry in _named_once(vetoes, veto_codes, "vetoes", "a veto item (一票否决)", errors):
            triggered = entry.get("triggered")
            if not isinstance(triggered, bool):
                errors.append((f"vetoes.{n}.triggered", "must be true or false"))
                continue
            reason = _text(entry.get("reason"))
            if triggered and reason is None:
                errors.append((f"vetoes.{n}.reason", "say what happened: a triggered veto item needs its reason"))
                continue
            item = items[index[veto]]
            item["triggered"] = triggered
            item["veto_reason"] = reason if triggered else None
        if errors:
            raise Invalid(errors)
        self.items = items
        self.verified_by = by
        self.verified_total = round(sum(i["verified_score"] or 0.0 for i in items), 2)
        self.updated_at = at

    def finalise(
        self, policy: EvaluationPolicy, default_due_days: int, by: str, at: dt.datetime
    ) -> Rectification | None:
        """Grade the verified sheet, publish the result and, for 不合格 under a rectification policy,
        order the rectification (限期整改) due `rectification_due_days` from now."""
        if self.status != SUBMITTED:
            raise StateConflict(f"Only a submitted evaluation is finalised; this one is {self.status}.", "status")
        sheet = self.score_sheet()
        index = self._item_index()
        missing = [i.code for i in sheet.scored if self.items[index[i.code]]["verified_score"] is None]
        if missing:
            raise Invalid([("scores", f"every indicator needs a verified score (核查得分) first; missing {missing}")])
        vetoed = [self.items[index[i.code]] for i in sheet.vetoes if self.items[index[i.code]]["triggered"]]
        total = round(sum(self.items[index[i.code]]["verified_score"] for i in sheet.scored), 2)
        self.verified_total = total
        self.vetoed = bool(vetoed)
        self.grade = sheet.scale.grade(total, sheet.max_total, bool(vetoed))
        self.status = FINALISED
        self.finalised_by = by
        self.finalised_at = at
        self.updated_at = at
        self.tell(
            events.EvaluationRecorded, year=self.period, score=total, max_score=sheet.max_total, evaluee=self.subject
        )
        if self.grade != sheet.scale.unqualified_grade or policy.on_unqualified != "rectification":
            return None
        names = {i.code: i.name for i in sheet.indicators}
        if vetoed:
            reason = "；".join(f"一票否决：{names[v['code']]}（{v['veto_reason']}）" for v in vetoed)
        else:
            deductions = [
                f"{names[i['code']]}：{i['deduction_reason']}" for i in self.items if i.get("deduction_reason")
            ]
            reason = f"测评不合格（核查得分 {total:g}/{sheet.max_total:g}）" + (
                "；" + "；".join(deductions) if deductions else ""
            )
        days = policy.rectification_due_days or default_due_days
        return Rectification(
            self, (at + dt.timedelta(days=days)).date(), reason, policy.revoke_on_failed_rectification, at
        )


class Rectification(EventSource):
    """限期整改: ordered by an unqualified evaluation, due on a date; the bureau records the outcome.

    Under a policy that revokes on failure (Jiaozuo: 整改不合格的取消首席信息官任命) a failed outcome
    revokes the appointment; the service layer does it in the same transaction.
    """

    version: int  # kept by the mapper (optimistic concurrency)

    def __init__(
        self, evaluation: Evaluation, due_on: dt.date, reason: str, revoke_on_failure: bool, at: dt.datetime
    ) -> None:
        self.id = uuid.uuid4()
        self.evaluation_id = evaluation.id
        self.appointment_id = evaluation.appointment_id
        self.org_code = evaluation.org_code
        self.org_path = evaluation.org_path
        self.kind = evaluation.kind
        self.period = evaluation.period
        self.reason = reason
        self.due_on = due_on
        self.revoke_on_failure = revoke_on_failure
        self.status = ORDERED
        self.ordered_at = at
        self.report_text: str | None = None
        self.reported_by: str | None = None
        self.reported_at: dt.datetime | None = None
        self.overdue_at: dt.datetime | None = None
        self.outcome_notes: str | None = None
        self.decided_by: str | None = None
        self.decided_at: dt.datetime | None = None
        self.events: list[Any] = [events.RectificationOrdered.from_aggregate(self, rectification_id=self.id)]

    def record_outcome(self, outcome: str, notes: str | None, by: str, at: dt.datetime) -> bool:
        """整改验收: passed or failed. Returns True when the appointment must now be revoked."""
        if self.status != ORDERED:
            raise StateConflict(f"The outcome is already recorded ({self.status}).", "status")
        if outcome not in OUTCOMES:
            raise DomainError(f"outcome must be one of {', '.join(OUTCOMES)}.", "outcome")
        if outcome == FAILED and _text(notes) is None:
            raise DomainError("Say why the rectification failed (整改不合格的原因).", "notes")
        self.status = outcome
        self.outcome_notes = _text(notes)
        self.decided_by = by
        self.decided_at = at
        return outcome == FAILED and self.revoke_on_failure

    def report(
        self,
        text: str,
        attachments: list[dict[str, Any]],
        by: str,
        at: dt.datetime,
        bureau_role: str | None = None,
        bureau_org_path: str | None = None,
    ) -> None:
        """整改报告: the school reports what it did, with its attachments ({filename, content_type, size});
        until the bureau records the outcome a new report replaces the last."""
        if self.status != ORDERED:
            raise StateConflict(f"The outcome is already recorded ({self.status}).", "status")
        body = _text(text)
        if body is None:
            raise DomainError("Say what was rectified / 须填写整改报告.", "report")
        if len(body) > MAX_REPORT_CHARS:
            raise DomainError(f"At most {MAX_REPORT_CHARS} characters / 整改报告过长.", "report")
        if len(attachments) > MAX_REPORT_ATTACHMENTS:
            raise DomainError(f"At most {MAX_REPORT_ATTACHMENTS} attachments / 附件过多.", "attachments")
        for index, attachment in enumerate(attachments):
            if attachment["content_type"] not in REPORT_CONTENT_TYPES:
                raise DomainError(
                    "An attachment must be a PDF, JPEG, PNG or an Office (docx/xlsx) file / 附件格式不支持.",
                    f"attachments.{index}",
                )
            if attachment["size"] > MAX_ATTACHMENT_BYTES:
                raise DomainError(
                    f"An attachment is at most {MAX_ATTACHMENT_BYTES // 1_000_000} MB / 附件过大.",
                    f"attachments.{index}",
                )
        self.report_text = body
        self.reported_by = by
        self.reported_at = at
        self.tell(
            events.RectificationReported,
            attachments=len(attachments),
            bureau_role=bureau_role,
            bureau_org_path=bureau_org_path,
        )

    def revocation_reason(self) -> str:
        return f"整改不合格，取消首席信息官任命：{self.outcome_notes}"

    def mark_overdue(
        self, today: dt.date, at: dt.datetime, bureau_role: str | None = None, bureau_org_path: str | None = None
    ) -> bool:
        """Past its due date with no outcome: flagged once, and the school and the bureau (the body that
        appointed, `bureau_role` at `bureau_org_path`) are told."""
        if self.status != ORDERED or self.overdue_at is not None or self.due_on >= today:
            return False
        self.overdue_at = at
        self.tell(events.RectificationOverdue, bureau_role=bureau_role, bureau_org_path=bureau_org_path)
        return True


@dataclass(frozen=True)
class SheetCatalog:
    """The platform's default sheets by kind, the grade scale, and the default rectification deadline."""

    sheets: dict[str, tuple[str, tuple[Indicator, ...]]]  # kind → (name, indicators)
    scale: GradeScale
    default_rectification_due_days: int


def sheet_for(policy: EvaluationPolicy, kind: str, catalog: SheetCatalog) -> ScoreSheet:
    """The policy's own indicators when it has any, else the platform's default sheet of the kind.

    The kind must be one of the policy's cadences (cio_annual, school_biennial…); the grades of the
    scale must be grades the policy knows.
    """
    cadence = next((c for c in policy.cadences if c.kind == kind), None)
    if cadence is None:
        known = ", ".join(c.kind for c in policy.cadences) or "none"
        raise DomainError(f"The policy orders no evaluation of kind {kind!r} (its evaluations: {known}).", "kind")
    grades = {b.grade for b in catalog.scale.bands} | {catalog.scale.veto_grade, catalog.scale.unqualified_grade}
    if policy.grades and not grades <= set(policy.grades):
        raise DomainError(f"The grade scale {sorted(grades)} is not the policy's {list(policy.grades)}.", "kind")
    if policy.indicators:
        sheet = ScoreSheet(kind, cadence.name or kind, "policy", policy.indicators, catalog.scale)
    elif kind in catalog.sheets:
        name, indicators = catalog.sheets[kind]
        sheet = ScoreSheet(kind, name, "platform", indicators, catalog.scale)
    else:
        raise DomainError(f"Neither the policy nor the platform has a score sheet for {kind!r}.", "kind")
    try:
        sheet.validate()
    except SheetError as exc:
        raise DomainError(str(exc), "kind") from exc
    return sheet
