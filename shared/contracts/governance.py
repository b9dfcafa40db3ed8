"""Events the governance service publishes: project plans (信息化项目建设方案审核) and the application registry
(应用系统对接台账). Approvals opens a `project_plan` review case from `plan.submitted` and restarts its chain from
`plan.resubmitted`; notifications and dashboards may read the rest."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from shared.contracts.base import EventContract


class PlanSubmitted(EventContract):
    """A unit's 信息化项目建设方案 sent to the city bureau for review. `budget` is a decimal string (yuan);
    `flags` are the duplication check's findings, so reviewers see them in the case: `[{code, kind, name,
    matched}]` (the city platform's catalogue entries the plan declares again); `justification` the unit's answer
    to them, if any."""

    event_type: ClassVar[str] = "governance.plan.submitted"
    subject_field: ClassVar[str | None] = "plan_id"
    plan_id: str
    unit_org_code: str
    unit_org_path: str
    unit_name: str
    title: str
    budget: str
    funding_source: str
    revision: int
    submitted_by: str
    submitted_at: str
    flags: list[dict[str, Any]] = Field(default_factory=list)
    justification: str | None = None


class PlanResubmitted(PlanSubmitted):
    """A returned plan, revised and sent again (`revision` counts the sendings); its case re-enters the chain
    where the review policy says."""

    event_type: ClassVar[str] = "governance.plan.resubmitted"


class PlanDecided(EventContract):
    """The review chain ended: `outcome` approved (with the city bureau's 合理化建议 in `suggestions`) or
    rejected."""

    event_type: ClassVar[str] = "governance.plan.decided"
    subject_field: ClassVar[str | None] = "plan_id"
    plan_id: str
    unit_org_path: str
    outcome: str
    suggestions: str | None
    decided_at: str


class PlanAccepted(EventContract):
    """A 阶段性验收 (`kind` stage) or 竣工验收 (`kind` completion) of an approved plan, recorded with its
    evidence."""

    event_type: ClassVar[str] = "governance.plan.accepted"
    subject_field: ClassVar[str | None] = "plan_id"
    plan_id: str
    acceptance_id: str
    unit_org_path: str
    kind: str
    accepted_on: str
    recorded_by: str


class ApplicationRegistered(EventContract):
    """A school's or district's application system entered in the registry; `connected`: to the city digital
    base (unified identity and single sign-on); `target_date` the date it must be by."""

    event_type: ClassVar[str] = "governance.application.registered"
    subject_field: ClassVar[str | None] = "application_id"
    application_id: str
    org_code: str
    org_path: str
    name: str
    connected: bool
    target_date: str | None


class ApplicationIntegrationChanged(EventContract):
    """An application system's integration with the city digital base changed (统一身份认证, 单点登录,
    数据交换); `connected` is unified identity and single sign-on both."""

    event_type: ClassVar[str] = "governance.application.integration_changed"
    subject_field: ClassVar[str | None] = "application_id"
    application_id: str
    org_path: str
    unified_identity: bool
    single_sign_on: bool
    data_exchange: bool
    connected: bool
