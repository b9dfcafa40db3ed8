"""Events the governance service publishes (docs/EVENTS.md): approvals opens a `project_plan` review case from
`plan.submitted` and moves it on from `plan.resubmitted`; notifications and dashboards read the rest."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from shared.events import DomainEvent


@dataclass
class _PlanEvent(DomainEvent):
    plan_id: str

    @property
    def subject(self) -> str:
        return self.plan_id


@dataclass
class PlanSubmitted(_PlanEvent):
    """信息化项目建设方案 sent to the city bureau for review (first time or after a return: `revision`)."""

    event_type: ClassVar[str] = "governance.plan.submitted"
    unit_org_code: str
    unit_org_path: str
    unit_name: str
    title: str
    budget: str
    funding_source: str
    revision: int
    submitted_by: str
    submitted_at: str
    # the duplication check's findings, so reviewers see them in the case (code, kind, name, matched)
    flags: list[dict[str, Any]] = field(default_factory=list)
    justification: str | None = None


@dataclass
class PlanResubmitted(PlanSubmitted):
    """A returned plan, revised and sent again; the case re-enters its chain where the policy says."""

    event_type: ClassVar[str] = "governance.plan.resubmitted"


@dataclass
class PlanDecided(_PlanEvent):
    """The review chain ended: approved (with the 合理化建议) or rejected."""

    event_type: ClassVar[str] = "governance.plan.decided"
    unit_org_path: str
    outcome: str
    suggestions: str | None
    decided_at: str


@dataclass
class PlanAccepted(_PlanEvent):
    """阶段性验收 or 竣工验收 recorded with its evidence."""

    event_type: ClassVar[str] = "governance.plan.accepted"
    acceptance_id: str
    unit_org_path: str
    kind: str
    accepted_on: str
    recorded_by: str


@dataclass
class ApplicationRegistered(DomainEvent):
    """应用系统对接台账: a school's or district's application system entered in the registry."""

    event_type: ClassVar[str] = "governance.application.registered"
    application_id: str
    org_code: str
    org_path: str
    name: str
    connected: bool
    target_date: str | None

    @property
    def subject(self) -> str:
        return self.application_id


@dataclass
class ApplicationIntegrationChanged(DomainEvent):
    """An application system's integration with the city digital base changed (统一身份认证, 单点登录, 数据交换)."""

    event_type: ClassVar[str] = "governance.application.integration_changed"
    application_id: str
    org_path: str
    unified_identity: bool
    single_sign_on: bool
    data_exchange: bool
    connected: bool

    @property
    def subject(self) -> str:
        return self.application_id
