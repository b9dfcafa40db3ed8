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


# -- 月调度, network security work, Yichun's committee --------------------------------------------------
class ReportSubmitted(EventContract):
    """A district's 月调度 progress report for a month (`month` YYYY-MM; `late`: after the month's deadline)."""

    event_type: ClassVar[str] = "governance.report.submitted"
    subject_field: ClassVar[str | None] = "report_id"
    report_id: str
    district_code: str
    district_path: str
    month: str
    late: bool
    submitted_by: str


class ReportReminderDue(EventContract):
    """A district has not reported its month: `reminder` once before the deadline (`before`), once after it
    (`after`); notifications tells the district bureau. The subject is `<district code>:<month>:<reminder>`."""

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


class SchedulingMeetingRecorded(EventContract):
    """调度会议 recorded with its action items (`[{item_id, text, owner, due_on}]`: owners and due dates)."""

    event_type: ClassVar[str] = "governance.scheduling_meeting.recorded"
    subject_field: ClassVar[str | None] = "meeting_id"
    meeting_id: str
    org_path: str
    held_on: str
    title: str
    action_items: list[dict[str, Any]] = Field(default_factory=list)


class SecurityCheckRecorded(EventContract):
    """网络安全检查, 应急演练 or 自查 (`kind`) recorded at a unit, with how many findings it must rectify."""

    event_type: ClassVar[str] = "governance.security_check.recorded"
    subject_field: ClassVar[str | None] = "check_id"
    check_id: str
    org_code: str
    org_path: str
    kind: str
    held_on: str
    title: str
    findings: int


class FindingRectified(EventContract):
    """One finding's rectification done (整改完成) with its evidence; `check_done` once none is left open."""

    event_type: ClassVar[str] = "governance.finding.rectified"
    subject_field: ClassVar[str | None] = "check_id"
    check_id: str
    finding_id: str
    org_path: str
    rectified_on: str
    check_done: bool


class CommitteeMeetingRecorded(EventContract):
    """网络安全和信息化委员会 met (由CIO召集, 形成会议纪要); `cleared` when it lifts a semester's flag."""

    event_type: ClassVar[str] = "governance.committee.meeting_recorded"
    subject_field: ClassVar[str | None] = "meeting_id"
    meeting_id: str
    org_code: str
    org_path: str
    semester: str
    held_on: str
    cleared: bool


class CommitteeMeetingMissed(EventContract):
    """A semester ended with fewer committee meetings (`held`) than the policy's `committee_meetings_per_semester`
    (`required`); notifications tells the university's CIO (第十七条 「每学期至少召开1次…由CIO召集」). The subject is
    `<org code>:<semester>`."""

    event_type: ClassVar[str] = "governance.committee.meeting_missed"
    org_code: str
    org_path: str
    semester: str
    required: int
    held: int

    @property
    def subject(self) -> str:
        return f"{self.org_code}:{self.semester}"
