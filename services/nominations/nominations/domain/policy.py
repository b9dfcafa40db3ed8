"""Policies (推荐政策) as data: the form's fields, the eligibility rules and the approval chain of one region.

A policy is a plain document (loaded from YAML by the adapters, snapshotted into each round). What every service
acts on (the chain, the term, the nominated units) is read by the one reader, shared.policy, as approvals and
training read it; this module reads the form and the eligibility rules, which are nominations' own, validates a
form against them and evaluates the rules over a candidate's facts.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from shared.policy import RESUBMIT_FIRST, StagePolicy, read_policy
from shared.policy import Policy as SharedPolicy
from shared.validators import is_email

PHONE_RE = re.compile(r"^\+?[0-9][0-9\- ]{5,19}$")
LEVEL_ZH = {"national": "国家", "provincial": "省", "city": "市", "county": "县", "school": "校"}
KIND_ZH = {"cio": "首席信息官培训", "informatization": "教育信息化业务培训", "other": "其他培训"}


# eligibility[].severity: `block` (the default: 须) or `warning` (原则上 / 一般: the school may depart from it,
# stating its reason in the rule's exception_field; reviewers see it flagged and the bureau decides)
SEVERITY_WARNING = "warning"


class PolicyError(ValueError):
    """A policy document is inconsistent; the message names the place."""


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label_zh: str
    label_en: str
    type: str
    required: bool
    max_length: int | None = None
    min: float | None = None
    max: float | None = None
    max_items: int | None = None
    personal: bool = False
    prefill: str | None = None
    choices: tuple[str, ...] = ()
    items: tuple[FieldSpec, ...] = ()
    required_when: dict[str, Any] | None = None

    @classmethod
    def of(cls, raw: dict[str, Any]) -> FieldSpec:
        return cls(
            name=raw["name"],
            label_zh=raw["label_zh"],
            label_en=raw["label_en"],
            type=raw["type"],
            required=bool(raw["required"]),
            max_length=raw.get("max_length"),
            min=raw.get("min"),
            max=raw.get("max"),
            max_items=raw.get("max_items"),
            personal=bool(raw.get("personal", False)),
            prefill=raw.get("prefill"),
            choices=tuple(c["value"] for c in raw.get("choices", [])),
            items=tuple(cls.of(i) for i in raw.get("items", [])),
            required_when=raw.get("required_when"),
        )


@dataclass(frozen=True)
class Facts:
    """What eligibility is judged on: the form, the candidate's valid certificates and past terms."""

    form: dict[str, Any]
    certificates: tuple[tuple[str, str], ...] = ()  # (kind, level) of certificates valid today
    consecutive_terms: int = 0


@dataclass(frozen=True)
class Reason:
    rule: str
    message_zh: str
    message_en: str
    details_zh: tuple[str, ...] = ()
    details_en: tuple[str, ...] = ()
    exception_reason: str | None = None  # a warning rule: the school's stated reason for the exception


@dataclass(frozen=True)
class Eligibility:
    """`reasons` block submission; `warnings` are 原则上/一般 rules the form departs from with a stated
    reason: they do not block, they are flagged to the reviewers and the bureau decides."""

    eligible: bool
    reasons: tuple[Reason, ...] = ()
    checked_rules: tuple[str, ...] = ()
    warnings: tuple[Reason, ...] = ()


@dataclass(frozen=True)
class Policy:
    """A policy document, read; `document` is what a round snapshots and the events carry, `common` what the
    shared reader makes of it (the chain, the term, the units), so nominations follows the chain as approvals does."""

    document: dict[str, Any]
    common: SharedPolicy
    fields: tuple[FieldSpec, ...] = field(default=())

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> Policy:
        """PolicySnapshotError (shared.policy) when the chain or term cannot be read, PolicyError when the form
        and the rules disagree."""
        policy = cls(
            document=document,
            common=read_policy(document),
            fields=tuple(FieldSpec.of(f) for f in document["form"]["fields"]),
        )
        policy._check_consistency()
        return policy

    # -- reading ---------------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self.common.id

    @property
    def version(self) -> int:
        return self.common.version

    @property
    def nominator_roles(self) -> tuple[str, ...]:
        return tuple(self.document["nomination"]["nominator_roles"])

    @property
    def issuer_roles(self) -> tuple[str, ...]:
        return tuple(self.document["nomination"]["issuer_roles"])

    @property
    def nominee_org_levels(self) -> tuple[str, ...]:
        return self.common.unit_levels

    @property
    def candidates_from_subtree(self) -> bool:
        """`nomination.candidates_from: subtree`: the candidate may belong to an org under the nominated unit
        (宜春学院: 「职能部门负责人（如教务处、研究生院、信息化管理部门等）」 belong to department orgs)."""
        return self.document["nomination"].get("candidates_from", "unit") == "subtree"

    def admits_candidate_of(self, candidate_org_path: str, unit_org_path: str) -> bool:
        """Whether a person of `candidate_org_path` may be the candidate of the unit at `unit_org_path`."""
        if candidate_org_path == unit_org_path:
            return True
        return self.candidates_from_subtree and candidate_org_path.startswith(unit_org_path.rstrip("/") + "/")

    @property
    def photo(self) -> dict[str, Any]:
        return dict(self.document["form"]["photo"])

    @property
    def evidence(self) -> list[dict[str, Any]]:
        """证明材料 the form takes: [{kind, label_zh, label_en, required_when?}]."""
        return list(self.document["form"].get("evidence", []))

    def missing_evidence(self, form: dict[str, Any], present: set[str]) -> list[FieldProblem]:
        """The evidence the form needs (its `required_when` holds) and does not have."""
        return [
            FieldProblem(f"evidence.{e['kind']}", f"upload {e['label_en']} / 须上传{e['label_zh']}")
            for e in self.evidence
            if e.get("required_when") and _condition_holds(e["required_when"], form) and e["kind"] not in present
        ]

    @property
    def stages(self) -> tuple[StagePolicy, ...]:
        """The chain; a stage's place in it is its index here (a case of a school that skips a stage numbers its
        stages differently, so decisions name their stage by `key`)."""
        return self.common.stages

    @property
    def reenters_first_stage(self) -> bool:
        """approval.resubmission_reenters: a resubmitted form goes through the whole chain again, so earlier
        decisions no longer stand (else it re-enters at the stage that returned it, and those before stand)."""
        return self.common.resubmit_reenters == RESUBMIT_FIRST

    @property
    def max_consecutive_terms(self) -> int | None:
        return self.common.term.max_consecutive_terms

    @property
    def summary_columns(self) -> list[dict[str, str]]:
        return list(self.document["summary_columns"])

    def field_named(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)

    def _check_consistency(self) -> None:
        """What JSON Schema cannot say: rules and columns must name fields the form has."""
        names = {f.name for f in self.fields}
        if len(names) != len(self.fields):
            raise PolicyError(f"{self.id}: form field names must be unique")
        for f in self.fields:
            if f.required_when and f.required_when["field"] not in names:
                raise PolicyError(f"{self.id}: field {f.name}: required_when names unknown field {f.required_when}")
        for rule in self.document["eligibility"]:
            if rule.get("when") and rule["when"]["field"] not in names:
                raise PolicyError(f"{self.id}: rule {rule['id']}: 'when' names unknown field {rule['when']['field']}")
            for name in _fields_of(rule["check"]):
                if name not in names:
                    raise PolicyError(f"{self.id}: rule {rule['id']} names unknown form field {name!r}")
            if rule.get("exception_field") and rule["exception_field"] not in names:
                raise PolicyError(f"{self.id}: rule {rule['id']}: exception_field names unknown form field")
            if rule.get("severity") == SEVERITY_WARNING and not rule.get("exception_field"):
                raise PolicyError(f"{self.id}: rule {rule['id']}: a warning needs the exception_field for the reason")
        for column in self.summary_columns:
            key = column["key"]
            if key.startswith("form.") and key[5:] not in names:
                raise PolicyError(f"{self.id}: summary column {key!r} names unknown form field")

    # -- the form --------------------------------------------------------------------------------
    def validate_form(self, form: dict[str, Any], *, complete: bool) -> list[FieldProblem]:
        """Types and limits always; required fields only when `complete` (a draft may be partial)."""
        problems: list[FieldProblem] = []
        known = {f.name for f in self.fields}
        for name in form:
            if name not in known:
                problems.append(FieldProblem(f"form.{name}", "unknown field / 表单无此字段"))
        for spec in self.fields:
            required = spec.required or _condition_holds(spec.required_when, form)
            problems += _validate_value(spec, form.get(spec.name), f"form.{spec.name}", required and complete)
        return problems

    # -- eligibility -----------------------------------------------------------------------------
    def evaluate(self, facts: Facts) -> Eligibility:
        """Every rule on the facts. A failed `severity: warning` rule (原则上 / 一般) with the school's reason in
        its exception_field is a warning; without the reason it blocks, asking for one."""
        reasons: list[Reason] = []
        warnings: list[Reason] = []
        checked: list[str] = []
        for rule in self.document["eligibility"]:
            if rule.get("when") and not _condition_holds(rule["when"], facts.form):
                continue
            checked.append(rule["id"])
            ok, details = self._check(rule["check"], facts)
            if ok:
                continue
            reason = Reason(
                rule=rule["id"],
                message_zh=rule["reason_zh"],
                message_en=rule["reason_en"],
                details_zh=tuple(d[0] for d in details),
                details_en=tuple(d[1] for d in details),
            )
            if rule.get("severity") != SEVERITY_WARNING:
                reasons.append(reason)
                continue
            stated = str(facts.form.get(rule["exception_field"]) or "").strip()
            if stated:
                warnings.append(replace(reason, exception_reason=stated))
                continue
            spec = self.field_named(rule["exception_field"])
            label_zh, label_en = (spec.label_zh, spec.label_en) if spec else (rule["exception_field"],) * 2
            reasons.append(
                replace(
                    reason,
                    details_zh=(*reason.details_zh, f"须在「{label_zh}」中说明理由，由主管教育行政部门决定"),
                    details_en=(*reason.details_en, f"state the reason in '{label_en}'; the bureau decides"),
                )
            )
        return Eligibility(
            eligible=not reasons, reasons=tuple(reasons), checked_rules=tuple(checked), warnings=tuple(warnings)
        )

    def checks(self, kind: str) -> bool:
        """Whether any eligibility rule uses a check of this kind (`certificate`, `within_term_limit`): a fact no
        rule looks at need not be gathered for `evaluate`."""
        return kind in self._check_kinds

    @cached_property
    def _check_kinds(self) -> frozenset[str]:
        return frozenset(kind for rule in self.document["eligibility"] for kind in _kinds_of(rule["check"]))

    def _check(self, check: dict[str, Any], facts: Facts) -> tuple[bool, list[tuple[str, str]]]:
        """(passed, [(zh, en) of each failed leaf]) for one check of the rule language."""
        ((kind, arg),) = check.items()
        form = facts.form
        if kind in ("any_of", "all_of"):
            results = [self._check(c, facts) for c in arg]
            passed = any(r[0] for r in results) if kind == "any_of" else all(r[0] for r in results)
            return passed, [] if passed else [d for r in results if not r[0] for d in r[1]]
        if kind == "field_in":
            value = form.get(arg["field"])
            ok = value in arg["values"]
            return ok, [] if ok else [
                self._leaf(
                    arg["field"],
                    f"为“{value}”，须为{'、'.join(map(str, arg['values']))}之一",
                    f"is {value!r}, must be one of {', '.join(map(str, arg['values']))}",
                )
            ]
        if kind == "field_true":
            ok = form.get(arg) is True
            return ok, [] if ok else [self._leaf(arg, "未确认", "is not confirmed")]
        if kind == "field_present":
            ok = _present(form.get(arg))
            return ok, [] if ok else [self._leaf(arg, "未填写", "is missing")]
        if kind == "field_min":
            value = form.get(arg["field"])
            ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= arg["min"]
            return ok, [] if ok else [
                self._leaf(
                    arg["field"], f"为{value}，须不少于{arg['min']}", f"is {value}, at least {arg['min']} required"
                )
            ]
        if kind == "certificate":
            ok = any(k in arg["kinds"] and lv in arg["levels"] for k, lv in facts.certificates)
            levels_zh = "、".join(LEVEL_ZH[lv] for lv in arg["levels"])
            kinds_zh = "或".join(KIND_ZH[k] for k in arg["kinds"])
            return ok, [] if ok else [
                (
                    f"无{levels_zh}级{kinds_zh}合格证",
                    f"no {'/'.join(arg['kinds'])} certificate at {'/'.join(arg['levels'])} level",
                )
            ]
        if kind == "within_term_limit":
            limit = self.max_consecutive_terms
            ok = limit is None or facts.consecutive_terms < limit
            return ok, [] if ok else [
                (
                    f"已连续任职{facts.consecutive_terms}届，上限{limit}届",
                    f"already served {facts.consecutive_terms} consecutive terms, the limit is {limit}",
                )
            ]
        raise PolicyError(f"{self.id}: unknown check {kind!r}")

    def _leaf(self, name: str, zh: str, en: str) -> tuple[str, str]:
        spec = self.field_named(name)
        return (f"{spec.label_zh if spec else name}{zh}", f"{spec.label_en if spec else name} {en}")


def _kinds_of(check: dict[str, Any]) -> list[str]:
    ((kind, arg),) = check.items()
    if kind in ("any_of", "all_of"):
        return [k for c in arg for k in _kinds_of(c)]
    return [kind]


def _fields_of(check: dict[str, Any]) -> list[str]:
    ((kind, arg),) = check.items()
    if kind in ("any_of", "all_of"):
        return [n for c in arg for n in _fields_of(c)]
    if kind in ("field_true", "field_present"):
        return [arg]
    if kind in ("field_in", "field_min"):
        return [arg["field"]]
    return []


def _condition_holds(condition: dict[str, Any] | None, form: dict[str, Any]) -> bool:
    return bool(condition) and form.get(condition["field"]) in condition["in"]  # type: ignore[index]


def _is_date(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != []


def _validate_value(spec: FieldSpec, value: Any, path: str, required: bool) -> list[FieldProblem]:
    if not _present(value):
        return [FieldProblem(path, "required / 必填")] if required else []
    kind = spec.type
    if kind in ("string", "text", "phone", "email"):
        if not isinstance(value, str):
            return [FieldProblem(path, "must be text / 须为文本")]
        if spec.max_length is not None and len(value) > spec.max_length:
            return [FieldProblem(path, f"at most {spec.max_length} characters / 不超过{spec.max_length}字")]
        if kind == "string" and "\n" in value:
            return [FieldProblem(path, "one line only / 须为单行")]
        if kind == "phone" and not PHONE_RE.match(value):
            return [FieldProblem(path, "not a phone number / 电话号码格式不正确")]
        if kind == "email" and not is_email(value):
            return [FieldProblem(path, "not an e-mail address / 电子邮箱格式不正确")]
        return []
    if kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            return [FieldProblem(path, "must be a whole number / 须为整数")]
        if spec.min is not None and value < spec.min:
            return [FieldProblem(path, f"at least {spec.min:g} / 不小于{spec.min:g}")]
        if spec.max is not None and value > spec.max:
            return [FieldProblem(path, f"at most {spec.max:g} / 不大于{spec.max:g}")]
        return []
    if kind == "date":
        if not isinstance(value, str) or not _is_date(value):
            return [FieldProblem(path, "must be a date YYYY-MM-DD / 须为日期")]
        return []
    if kind == "boolean":
        return [] if isinstance(value, bool) else [FieldProblem(path, "must be true or false / 须为是或否")]
    if kind == "choice":
        if value not in spec.choices:
            return [FieldProblem(path, f"must be one of {', '.join(spec.choices)} / 不在可选范围内")]
        return []
    if kind == "list":
        if not isinstance(value, list):
            return [FieldProblem(path, "must be a list / 须为列表")]
        if spec.max_items is not None and len(value) > spec.max_items:
            return [FieldProblem(path, f"at most {spec.max_items} entries / 不超过{spec.max_items}项")]
        problems: list[FieldProblem] = []
        known = {i.name for i in spec.items}
        for index, entry in enumerate(value):
            if not isinstance(entry, dict):
                problems.append(FieldProblem(f"{path}.{index}", "must be an object / 须为对象"))
                continue
            for name in entry:
                if name not in known:
                    problems.append(FieldProblem(f"{path}.{index}.{name}", "unknown field / 无此字段"))
            for item in spec.items:
                # an entry, once present, must be whole: its required parts are required even in a draft
                problems += _validate_value(item, entry.get(item.name), f"{path}.{index}.{item.name}", item.required)
        return problems
    return [FieldProblem(path, f"unknown field type {kind}")]
