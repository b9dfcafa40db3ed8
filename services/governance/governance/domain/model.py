"""The governance domain: 信息化项目建设方案审核 (project-plan review) with the duplication check against the city
platform's catalogue, and 应用系统对接台账 (the application registry).

Pure Python: the adapters map these classes to tables; nothing here knows about them.

Wuhai (乌教发〔2023〕97号): 「各区教育局及市直属各学校在实施重大信息化建设项目前，应提前向市教育局提交项目建设方案，由市
教育局组织相关人员对建设方案进行审核评估并提出合理化建议。各区、各校不得规划建设数据中心以及与市级平台系统功能相同的应用
系统」 and 「对新建和在用的应用系统必须与市级教育数字基座平台进行对接，实现用户统一身份认证和单点登录」.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import re
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import shared.domain
from governance.domain import events
from shared.domain import OrgNode
from shared.events import to_jsonable


class DomainError(shared.domain.DomainError):
    """A rule refused the change; `status` 409 for a state conflict (the API answers 409 rather than 422)."""

    status = 422


class StateConflict(DomainError):
    status = 409


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# -- the city platform's catalogue -----------------------------------------------------------------
class CapabilityKind(enum.StrEnum):
    """What the city platform already provides: an application function, the data center itself, or a body of
    data it already collects (「避免重复采集」)."""

    FUNCTION = "function"
    DATA_CENTER = "data_center"
    DATA = "data"


_IGNORED = re.compile(r"[\s\W_]+", re.UNICODE)


def normalized(text: str) -> str:
    """Compare names as people write them: full-width folded, case and punctuation ignored (「统一身份认证」 ==
    「统一 身份认证。」)."""
    return _IGNORED.sub("", unicodedata.normalize("NFKC", text)).casefold()


class CatalogueEntry:
    """市级平台已有功能: one capability of the city platform, kept as data by the city bureau, with the other names
    a plan may use for it (`keywords`)."""

    def __init__(
        self,
        *,
        code: str,
        kind: CapabilityKind,
        name: str,
        keywords: Sequence[str],
        description: str | None,
        org_path: str,
        by: str,
        at: dt.datetime,
        active: bool = True,
    ) -> None:
        self.id = uuid.uuid4()
        self.code = code
        self.org_path = org_path
        self.created_by = by
        self.created_at = at
        self.version = 1
        self.events: list[Any] = []
        self.change(name=name, kind=kind, keywords=keywords, description=description, active=active, at=at)

    def change(
        self,
        *,
        name: str,
        kind: CapabilityKind,
        keywords: Sequence[str],
        description: str | None,
        active: bool,
        at: dt.datetime | None = None,
    ) -> None:
        """The city bureau's edit, now (or `at`: when the entry was made)."""
        self.name = name
        self.kind = kind
        self.keywords = _clean_list(keywords)
        self.description = description
        self.active = active
        self.updated_at = at or now()

    def terms(self) -> list[str]:
        return [t for t in (normalized(self.name), *(normalized(k) for k in self.keywords)) if t]

    def matches(self, declared: str) -> bool:
        """A declared item duplicates this entry when it names it or one of its keywords (contained either way:
        「学生综合素质评价系统」 declares 「综合素质评价」)."""
        text = normalized(declared)
        return bool(text) and any(term in text or text in term for term in self.terms())


@dataclass(frozen=True)
class Declaration:
    """What a plan says it builds: its functions, the data it collects, whether it builds a data center."""

    functions: Sequence[str]
    data_collected: Sequence[str]
    builds_data_center: bool


def duplication_flags(declaration: Declaration, catalogue: Iterable[CatalogueEntry]) -> list[dict[str, Any]]:
    """The catalogue entries a plan duplicates, each with what in the plan matched it (「不得规划建设数据中心以及与
    市级平台系统功能相同的应用系统，避免重复建设」; 「避免重复采集」 for data)."""
    flags: list[dict[str, Any]] = []
    for entry in sorted(catalogue, key=lambda e: e.code):
        if not entry.active:
            continue
        matched: list[str] = []
        if entry.kind == CapabilityKind.DATA_CENTER:
            if declaration.builds_data_center:
                matched.append("builds_data_center")
            matched += [f for f in declaration.functions if entry.matches(f)]
        elif entry.kind == CapabilityKind.FUNCTION:
            matched += [f for f in declaration.functions if entry.matches(f)]
        else:
            matched += [d for d in declaration.data_collected if entry.matches(d)]
        if matched:
            flags.append({"code": entry.code, "kind": entry.kind.value, "name": entry.name, "matched": matched})
    return flags


# -- project plans ---------------------------------------------------------------------------------
# what the budget column holds (14 digits, 2 after the point)
MAX_BUDGET = decimal.Decimal("1000000000000")


class PlanStatus(enum.StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    RETURNED = "returned"
    APPROVED = "approved"
    REJECTED = "rejected"
    COMPLETED = "completed"  # 竣工验收 recorded


class AcceptanceKind(enum.StrEnum):
    STAGE = "stage"  # 阶段性验收
    COMPLETION = "completion"  # 竣工验收


@dataclass(frozen=True)
class PlanContent:
    """What the unit writes in its 项目建设方案."""

    title: str
    budget: decimal.Decimal
    funding_source: str
    functions: Sequence[str]
    data_collected: Sequence[str]
    connects_to: Sequence[str]
    builds_data_center: bool
    starts_on: dt.date
    ends_on: dt.date
    milestones: Sequence[dict[str, Any]]
    attachments: Sequence[dict[str, Any]]
    summary: str | None = None

    def check(self) -> None:
        if self.ends_on < self.starts_on:
            raise DomainError("The schedule ends before it starts.", "ends_on")
        if not 0 <= self.budget < MAX_BUDGET:
            raise DomainError(f"The budget is between 0 and {MAX_BUDGET} yuan.", "budget")

    @property
    def declaration(self) -> Declaration:
        return Declaration(self.functions, self.data_collected, self.builds_data_center)


class ProjectPlan:
    """信息化项目建设方案: a district bureau's or school's plan, checked against the city platform, reviewed by the
    city bureau (through approvals' `project_plan` chain), then accepted in stages and on completion."""

    def __init__(
        self,
        *,
        unit_org_code: str,
        unit_org_path: str,
        unit_name: str,
        content: PlanContent,
        flags: list[dict[str, Any]],
        by: str,
        at: dt.datetime,
    ) -> None:
        content.check()
        self.id = uuid.uuid4()
        self.unit_org_code = unit_org_code
        self.unit_org_path = unit_org_path
        self.unit_name = unit_name
        self.status = PlanStatus.DRAFT
        self.revision = 0
        self.justification: str | None = None
        self.case_id: str | None = None
        self.suggestions: str | None = None
        self.reviews: list[dict[str, Any]] = []
        self.submitted_by: str | None = None
        self.submitted_at: dt.datetime | None = None
        self.decided_at: dt.datetime | None = None
        self.completed_at: dt.datetime | None = None
        self.created_by = by
        self.created_at = at
        self.version = 1
        self.events: list[Any] = []
        self._write(content, flags, at)

    def _write(self, content: PlanContent, flags: list[dict[str, Any]], at: dt.datetime) -> None:
        self.title = content.title
        self.summary = content.summary
        self.budget = content.budget
        self.funding_source = content.funding_source
        self.functions = _clean_list(content.functions)
        self.data_collected = _clean_list(content.data_collected)
        self.connects_to = _clean_list(content.connects_to)
        self.builds_data_center = content.builds_data_center
        self.starts_on = content.starts_on
        self.ends_on = content.ends_on
        # stored as JSON: dates as ISO strings
        self.milestones = [to_jsonable(dict(m)) for m in content.milestones]
        self.attachments = [to_jsonable(dict(a)) for a in content.attachments]
        self.flags = flags
        self.updated_at = at

    @property
    def declaration(self) -> Declaration:
        """What the plan as it stands says it builds, for the duplication check."""
        return Declaration(self.functions, self.data_collected, self.builds_data_center)

    @property
    def editable(self) -> bool:
        return self.status in (PlanStatus.DRAFT, PlanStatus.RETURNED)

    def revise(self, content: PlanContent, flags: list[dict[str, Any]], at: dt.datetime) -> None:
        """The unit changes its plan before sending it, or after the city returned it; the flags are checked anew."""
        if not self.editable:
            raise StateConflict(f"A plan {self.status.value} cannot be changed.", "status")
        content.check()
        self._write(content, flags, at)

    def submit(self, justification: str | None, by: str, at: dt.datetime) -> None:
        """Send the plan to the city bureau. A plan the duplication check flagged goes only with the unit's reason
        for building it anyway, which the reviewers read beside the flags."""
        if not self.editable:
            raise StateConflict(f"A plan {self.status.value} cannot be submitted.", "status")
        reason = (justification or "").strip() or None
        if self.flags and reason is None:
            raise DomainError(
                "The plan declares what the city platform already provides: revise it, or say why it must be "
                "built anyway (不得建设与市级平台系统功能相同的应用系统).",
                "justification",
            )
        again = self.status == PlanStatus.RETURNED
        self.justification = reason
        self.revision += 1
        self.status = PlanStatus.IN_REVIEW
        self.submitted_by = by
        self.submitted_at = at
        self.updated_at = at
        kind = events.PlanResubmitted if again else events.PlanSubmitted
        self.events.append(kind.from_aggregate(self, plan_id=self.id, budget=str(self.budget)))

    def apply_review(
        self,
        *,
        case_id: str,
        task_id: str,
        stage_name: str,
        stage_key: str | None,
        decision: str,
        opinion: str | None,
        outcome: str,
        decided_by: str | None,
        at: dt.datetime,
    ) -> bool:
        """One stage's decision from approvals; the case's outcome moves the plan. False if already applied."""
        if any(r["task_id"] == task_id for r in self.reviews):
            return False
        self.case_id = case_id
        self.reviews = [
            *self.reviews,
            {
                "task_id": task_id,
                "stage_key": stage_key,
                "stage_name": stage_name,
                "decision": decision,
                "opinion": opinion,
                "outcome": outcome,
                "decided_by": decided_by,
                "decided_at": at.isoformat(),
            },
        ]
        self.updated_at = at
        if self.status != PlanStatus.IN_REVIEW:
            return True  # a late stage of an earlier revision: kept in the history, the plan stays as it is
        if outcome == "returned":
            self.status = PlanStatus.RETURNED
        elif outcome in ("approved", "rejected"):
            self.status = PlanStatus.APPROVED if outcome == "approved" else PlanStatus.REJECTED
            # 合理化建议: the deciding stage's opinion is the city bureau's advice to the unit
            self.suggestions = opinion
            self.decided_at = at
            self.events.append(events.PlanDecided.from_aggregate(self, plan_id=self.id, outcome=outcome))
        return True

    def accept(
        self,
        kind: AcceptanceKind,
        *,
        accepted_on: dt.date,
        evidence: Sequence[dict[str, Any]],
        opinion: str | None,
        by: str,
        at: dt.datetime,
    ) -> Acceptance:
        """阶段性验收和竣工验收 (宜春学院): recorded on an approved plan, each with its evidence; the completion
        acceptance closes the plan."""
        if self.status != PlanStatus.APPROVED:
            raise StateConflict(f"Only an approved plan is accepted; this one is {self.status.value}.", "status")
        if not evidence:
            raise DomainError("An acceptance is recorded with its evidence (验收材料).", "evidence")
        if accepted_on < self.submitted_at_date:
            raise DomainError("The acceptance cannot predate the plan's submission.", "accepted_on")
        acceptance = Acceptance(self.id, kind, accepted_on, [to_jsonable(dict(e)) for e in evidence], opinion, by, at)
        if kind == AcceptanceKind.COMPLETION:
            self.status = PlanStatus.COMPLETED
            self.completed_at = at
        self.updated_at = at
        self.events.append(
            events.PlanAccepted.from_aggregate(
                acceptance, acceptance_id=acceptance.id, unit_org_path=self.unit_org_path
            )
        )
        return acceptance

    @property
    def submitted_at_date(self) -> dt.date:
        return (self.submitted_at or self.created_at).date()


@dataclass(eq=False)
class Acceptance:
    """One 验收 of a plan: stage or completion, the day, the evidence (as stored: JSON) and the opinion, who recorded
    it and when. Only its plan makes one (`ProjectPlan.accept`); `eq=False`: two are told apart by identity, as the
    ORM's session needs."""

    plan_id: uuid.UUID
    kind: AcceptanceKind
    accepted_on: dt.date
    evidence: list[dict[str, Any]]
    opinion: str | None
    recorded_by: str
    recorded_at: dt.datetime
    id: uuid.UUID = field(default_factory=uuid.uuid4)


# -- the application registry ------------------------------------------------------------------------
@dataclass(frozen=True)
class District:
    """The district (区/县) a unit belongs to, or the city itself for 市直 units and the city bureau."""

    code: str
    path: str
    name: str


@dataclass(frozen=True)
class Integration:
    """How far an application system is integrated with the city's 教育数字基座."""

    unified_identity: bool
    single_sign_on: bool
    data_exchange: bool

    @property
    def connected(self) -> bool:
        """「实现用户统一身份认证和单点登录」: both, data exchange is tracked beside it."""
        return self.unified_identity and self.single_sign_on


# -- whose record it is ------------------------------------------------------------------------------------
class HeldByOrg:
    """A record of one org of the tree (the bureau that met, the university's committee): the org's code and path as
    they were when it was recorded; the path scopes who reads the record."""

    org_code: str
    org_path: str

    def _held_by(self, org: OrgNode) -> None:
        self.org_code = org.code
        self.org_path = org.path


class HeldByUnit(HeldByOrg):
    """A unit's record that shows the unit's name beside its code and path, as it was when it was recorded."""

    org_name: str

    def _held_by(self, org: OrgNode) -> None:
        super()._held_by(org)
        self.org_name = org.name


class InDistrict:
    """A record the city's overviews count under a district (区/县, or the city itself for 市直 units): the
    district's code, path and name as they were when it was recorded."""

    district_code: str
    district_path: str
    district_name: str

    def _count_in(self, district: District | OrgNode) -> None:
        self.district_code = district.code
        self.district_path = district.path
        self.district_name = district.name


class ApplicationSystem(InDistrict):
    """应用系统: one school's or district's application, its owner and purpose, and its integration status."""

    def __init__(
        self,
        *,
        org_code: str,
        org_path: str,
        org_name: str,
        district: District,
        name: str,
        owner: str,
        purpose: str,
        integration: Integration,
        target_date: dt.date | None,
        by: str,
        at: dt.datetime,
    ) -> None:
        self.id = uuid.uuid4()
        self.org_code = org_code
        self.org_path = org_path
        self.org_name = org_name
        self._count_in(district)
        self.name = name
        self.owner = owner
        self.purpose = purpose
        self.target_date = target_date
        self.connected_at: dt.datetime | None = None
        self._integrate(integration, at)
        self.created_by = by
        self.created_at = at
        self.updated_at = at
        self.version = 1
        self.events: list[Any] = [events.ApplicationRegistered.from_aggregate(self, application_id=self.id)]

    def _integrate(self, integration: Integration, at: dt.datetime) -> None:
        self.unified_identity = integration.unified_identity
        self.single_sign_on = integration.single_sign_on
        self.data_exchange = integration.data_exchange
        # the day it was first connected, kept while it stays connected
        self.connected_at = (self.connected_at or at) if integration.connected else None

    @property
    def integration(self) -> Integration:
        return Integration(self.unified_identity, self.single_sign_on, self.data_exchange)

    @property
    def connected(self) -> bool:
        return self.integration.connected

    def overdue(self, today: dt.date) -> bool:
        """Flagged: not connected and past the day it was due to be (对接目标日期)."""
        return not self.connected and self.target_date is not None and self.target_date < today

    def update(
        self,
        *,
        name: str,
        owner: str,
        purpose: str,
        integration: Integration,
        target_date: dt.date | None,
        at: dt.datetime,
    ) -> None:
        before = self.integration
        self.name = name
        self.owner = owner
        self.purpose = purpose
        self.target_date = target_date
        self._integrate(integration, at)
        self.updated_at = at
        if integration != before:
            self.events.append(events.ApplicationIntegrationChanged.from_aggregate(self, application_id=self.id))


@dataclass(frozen=True)
class DistrictCoverage:
    """One district's line of the registry overview: systems, connected ones, their share, the overdue ones."""

    district_code: str
    district_path: str
    district_name: str
    systems: int
    connected: int
    overdue: int

    @property
    def connected_share(self) -> float:
        return round(self.connected / self.systems, 4) if self.systems else 0.0


def coverage(systems: Iterable[ApplicationSystem], today: dt.date) -> list[DistrictCoverage]:
    """The connected share per district, as the city reads it (「对新建和在用的应用系统必须与市级教育数字基座平台进行
    对接」)."""
    lines: dict[str, list[ApplicationSystem]] = {}
    for system in systems:
        lines.setdefault(system.district_path, []).append(system)
    return [
        DistrictCoverage(
            district_code=group[0].district_code,
            district_path=path,
            district_name=group[0].district_name,
            systems=len(group),
            connected=sum(1 for s in group if s.connected),
            overdue=sum(1 for s in group if s.overdue(today)),
        )
        for path, group in sorted(lines.items())
    ]


def district_of(unit: OrgNode, on_path: Sequence[OrgNode]) -> District:
    """The county-level org above (or at) the unit; a unit with none (市直 schools, the city bureau) counts under
    the city, or under itself when nothing above it is known."""
    for level in ("county", "city"):
        found = next(
            (o for o in on_path if o.level == level and (unit.path == o.path or unit.path.startswith(o.path + "/"))),
            None,
        )
        if found is not None:
            return District(found.code, found.path, found.name)
    return District(unit.code, unit.path, unit.name)


def _clean_list(values: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for value in values:
        text = value.strip()
        if text and text not in seen:
            seen.append(text)
    return seen
