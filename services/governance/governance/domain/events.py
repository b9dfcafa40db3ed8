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


# -- 月调度, network security work, Yichun's committee --------------------------------------------------
@dataclass
class ReportSubmitted(DomainEvent):
    """A district's 月调度 progress report for a month (`late`: after the month's deadline)."""

    event_type: ClassVar[str] = "governance.report.submitted"
    report_id: str
    district_code: str
    district_path: str
    month: str
    late: bool
    submitted_by: str

    @property
    def subject(self) -> str:
        return self.report_id


@dataclass
class ReportReminderDue(DomainEvent):
    """A district has not reported its month: `reminder` once before the deadline (`before`), once after it
    (`after`); notifications tells the district bureau."""

    event_type: ClassVar[str] = "governance.report.reminder_due"
    district_code: str
    district_path: str
    district_name: str
    month: str
    deadline: str
    reminder: str

    @property
    def subject(self) -> str:
        return f"{self.district_code}:{self.month}:{self.reminder}"


@dataclass
class SchedulingMeetingRecorded(DomainEvent):
    """调度会议 recorded with its action items (their owners and due dates)."""

    event_type: ClassVar[str] = "governance.scheduling_meeting.recorded"
    meeting_id: str
    org_path: str
    held_on: str
    title: str
    action_items: list[dict[str, Any]] = field(default_factory=list)

    @property
    def subject(self) -> str:
        return self.meeting_id


@dataclass
class SecurityCheckRecorded(DomainEvent):
    """网络安全检查, 应急演练 or 自查 recorded at a unit, with how many findings it must rectify."""

    event_type: ClassVar[str] = "governance.security_check.recorded"
    check_id: str
    org_code: str
    org_path: str
    kind: str
    held_on: str
    title: str
    findings: int

    @property
    def subject(self) -> str:
        return self.check_id


@dataclass
class FindingRectified(DomainEvent):
    """One finding's rectification done (整改完成) with its evidence; `check_done` once none is left open."""

    event_type: ClassVar[str] = "governance.finding.rectified"
    check_id: str
    finding_id: str
    org_path: str
    rectified_on: str
    check_done: bool

    @property
    def subject(self) -> str:
        return self.check_id


@dataclass
class CommitteeMeetingRecorded(DomainEvent):
    """网络安全和信息化委员会 met (由CIO召集, 形成会议纪要); `cleared` when it lifts a semester's flag."""

    event_type: ClassVar[str] = "governance.committee.meeting_recorded"
    meeting_id: str
    org_code: str
    org_path: str
    semester: str
    held_on: str
    cleared: bool

    @property
    def subject(self) -> str:
        return self.meeting_id


@dataclass
class CommitteeMeetingMissed(DomainEvent):
    """A semester ended with fewer committee meetings than the policy's `committee_meetings_per_semester`;
    notifications tells the university's CIO (第十七条 「每学期至少召开1次…由CIO召集」)."""

    event_type: ClassVar[str] = "governance.committee.meeting_missed"
    org_code: str
    org_path: str
    semester: str
    required: int
    held: int

    @property
    def subject(self) -> str:
        return f"{self.org_code}:{self.semester}"
