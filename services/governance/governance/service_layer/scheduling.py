"""Handlers of 月调度: districts' monthly progress reports, the city's overview of who has not reported, the worker's
reminders before and after the deadline, and the scheduling meetings with their action items.

Wuhai: 「市教育局对各区教育信息化建设工作进行月调度」, 「定期召开…调度会议」. The deadline is a setting
(GOVERNANCE_REPORT_DUE_DAY); the reminders leave as `governance.report.reminder_due`, which notifications turns into
messages to the district bureau, once per (district, month, kind).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from governance.adapters import metrics
from governance.adapters.orm import progress_reports, scheduling_meetings
from governance.domain import events
from governance.domain.model import OrgNode, now
from governance.domain.scheduling import (
    ActionItemInput,
    ProgressReport,
    ReportContent,
    ReportingLine,
    SchedulingMeeting,
    deadline_of,
    month_of,
    parse_month,
    previous_month,
    reminder_due,
    reporting_overview,
)
from governance.service_layer.records import Permission, Records, named_org, require
from governance.service_layer.refusals import refusals
from governance.service_layer.unit_of_work import GovernanceUnitOfWork
from shared.errors import Conflict, Unprocessable, field_error
from shared.principal import Principal
from shared.scope import within_any

if TYPE_CHECKING:
    from governance.config import GovernanceEnvironment

# 各区教育局 report; the city bureau schedules (调度) and meets; auditors read
REPORTER_ROLES = ("county_reviewer",)
SCHEDULER_ROLES = ("city_reviewer", "platform_admin")
MEETING_ROLES = ("city_reviewer", "county_reviewer", "platform_admin")
READER_ROLES = ("county_reviewer", "city_reviewer", "platform_admin", "auditor")
REPORTS: Records[ProgressReport] = Records("report", READER_ROLES, lambda uow: uow.reports, path="district_path")
MEETINGS: Records[SchedulingMeeting] = Records("meeting", READER_ROLES, lambda uow: uow.scheduling_meetings)
WRITE_REPORT = Permission(REPORTER_ROLES, "A district's bureau writes its own monthly report.")
REVISE_REPORT = Permission(REPORTER_ROLES, "A district's bureau revises its own monthly report.")
RECORD_MEETING = Permission(MEETING_ROLES, "The bureau that holds the scheduling meeting records it.")
TRACK_ITEMS = Permission(MEETING_ROLES, "The bureau that holds the meeting tracks its action items.")


@dataclass(frozen=True)
class ReportingRules:
    """The month's deadline (day of the month) and how many days before it the reminder goes out."""

    due_day: int
    reminder_days: int

    @classmethod
    def of(cls, environment: GovernanceEnvironment) -> ReportingRules:
        """The rules as the service is configured (GOVERNANCE_REPORT_DUE_DAY, GOVERNANCE_REPORT_REMINDER_DAYS)."""
        return cls(environment.report_due_day, environment.report_reminder_days)

    def deadline(self, month: str) -> dt.date:
        return deadline_of(month, self.due_day)


def _district(uow: GovernanceUnitOfWork, principal: Principal, code: str) -> OrgNode:
    district = uow.orgs.get(code)
    if district is None or district.level != "county":
        raise Unprocessable("Unknown district.", errors=[field_error("district_code", "no district with this code")])
    principal.require_within(district.path, *READER_ROLES, what="district")
    require(principal, district.path, WRITE_REPORT)
    return district


# -- reports -----------------------------------------------------------------------------------------
def submit_report(
    uow: GovernanceUnitOfWork,
    principal: Principal,
    district_code: str,
    month: str,
    content: ReportContent,
    rules: ReportingRules,
    at: dt.datetime | None = None,
) -> ProgressReport:
    """A district's report for a month; one per month (a correction is a revision of it)."""
    moment = at or now()
    with uow, refusals("report"):
        district = _district(uow, principal, district_code)
        parse_month(month)
        if uow.reports.of(district.code, month) is not None:
            raise Conflict(
                "This month's report is in; revise it instead.", errors=[field_error("month", "already reported")]
            )
        report = ProgressReport(
            district=district,
            month=month,
            content=content,
            deadline=rules.deadline(month),
            by=principal.subject,
            at=moment,
        )
        uow.reports.add(report)
        uow.publish(events.ReportSubmitted.from_aggregate(report, report_id=report.id))
        REPORTS.audit(uow, principal, "report.submitted", report, {"month": month, "late": report.late})
        try:
            uow.commit()
        except IntegrityError as exc:  # the same district's second tab got there first
            raise Conflict("This month's report is in; revise it instead.") from exc
    metrics.REPORTS_SUBMITTED.labels("late" if report.late else "on_time").inc()
    return report


@REPORTS.edit("report", REVISE_REPORT)
def revise_report(
    uow: GovernanceUnitOfWork, principal: Principal, report: ProgressReport, content: ReportContent
) -> None:
    report.revise(content, now())
    REPORTS.audit(uow, principal, "report.revised", report)


def get_report(uow: GovernanceUnitOfWork, principal: Principal, report_id: uuid.UUID) -> ProgressReport:
    return REPORTS.read(uow, principal, report_id)


def list_reports(uow: GovernanceUnitOfWork, principal: Principal, month: str) -> list[ProgressReport]:
    with uow, refusals("report"):
        parse_month(month)
        condition = within_any(progress_reports.c.district_path, principal.paths(*READER_ROLES))
        return uow.reports.in_scope(condition, month)


@dataclass(frozen=True)
class MonthOverview:
    month: str
    deadline: dt.date
    as_of: dt.date
    districts: list[ReportingLine]

    @property
    def missing(self) -> list[str]:
        return [line.district_code for line in self.districts if not line.reported]


def overview(
    uow: GovernanceUnitOfWork, principal: Principal, month: str, rules: ReportingRules, today: dt.date
) -> MonthOverview:
    """The month as the city sees it: each district in the caller's subtrees, reported or not, and reminded when."""
    with uow, refusals("report"):
        parse_month(month)
        paths = principal.paths(*READER_ROLES)
        districts = uow.orgs.districts(paths)
        reports = uow.reports.in_scope(within_any(progress_reports.c.district_path, paths), month)
        reminders = uow.reports.reminders(month)
    deadline = rules.deadline(month)
    return MonthOverview(month, deadline, today, reporting_overview(districts, reports, reminders, deadline, today))


def check_reporting(uow: GovernanceUnitOfWork, today: dt.date, rules: ReportingRules) -> int:
    """The worker's timer: each district missing this month's report (or last month's, past its deadline) gets the
    reminder due today, once per (district, month, kind). Returns how many were published now."""
    published = 0
    moment = now()
    with uow:
        districts = uow.orgs.districts()
        for month in (previous_month(month_of(today)), month_of(today)):
            kind = reminder_due(month, today, rules.due_day, rules.reminder_days)
            if kind is None:
                continue
            reported = {r.district_code for r in uow.reports.in_scope(sa.true(), month)}
            for district in districts:
                if district.code in reported or not uow.reports.claim_reminder(district, month, kind, moment):
                    continue
                uow.publish(
                    events.ReportReminderDue(
                        district_code=district.code,
                        district_path=district.path,
                        district_name=district.name,
                        month=month,
                        deadline=rules.deadline(month).isoformat(),
                        reminder=kind.value,
                    )
                )
                metrics.REPORT_REMINDERS.labels(kind.value).inc()
                published += 1
        if published:
            uow.audit(
                "report.reminders_published",
                actor="system:governance",
                target=None,
                org_path=None,
                details={"today": today.isoformat(), "count": published},
            )
        uow.commit()
    return published


# -- scheduling meetings -----------------------------------------------------------------------------
@dataclass(frozen=True)
class MeetingRecord:
    held_on: dt.date
    title: str
    attendees: Sequence[str]
    minutes: str
    decisions: Sequence[str]
    action_items: Sequence[ActionItemInput]


def record_meeting(
    uow: GovernanceUnitOfWork, principal: Principal, org_code: str, record: MeetingRecord
) -> SchedulingMeeting:
    with uow, refusals("meeting"):
        org = named_org(uow, principal, org_code, *READER_ROLES, unknown="Unknown organisation.")
        require(principal, org.path, RECORD_MEETING)
        meeting = SchedulingMeeting(org=org, by=principal.subject, at=now(), **record.__dict__)
        uow.scheduling_meetings.add(meeting)
        uow.publish(
            events.SchedulingMeetingRecorded.from_aggregate(
                meeting,
                meeting_id=meeting.id,
                action_items=[{k: i[k] for k in ("id", "title", "owner", "due_on")} for i in meeting.action_items],
            )
        )
        MEETINGS.audit(uow, principal, "scheduling_meeting.recorded", meeting)
        uow.commit()
    metrics.SCHEDULING_MEETINGS.inc()
    return meeting


def complete_action_item(
    uow: GovernanceUnitOfWork,
    principal: Principal,
    meeting_id: uuid.UUID,
    item_id: str,
    done_on: dt.date,
    outcome: str | None,
) -> SchedulingMeeting:
    with uow, refusals("meeting"):
        meeting = MEETINGS.changeable(uow, principal, meeting_id, TRACK_ITEMS)
        meeting.complete(item_id, done_on, outcome)
        uow.audit(
            "action_item.done",
            actor=principal.subject,
            target=f"{meeting.id}:{item_id}",
            org_path=meeting.org_path,
            details={"done_on": done_on.isoformat()},
        )
        uow.commit()
    return meeting


def get_meeting(uow: GovernanceUnitOfWork, principal: Principal, meeting_id: uuid.UUID) -> SchedulingMeeting:
    return MEETINGS.read(uow, principal, meeting_id)


def list_meetings(uow: GovernanceUnitOfWork, principal: Principal, *, open_items_only: bool) -> list[SchedulingMeeting]:
    with uow:
        condition = within_any(scheduling_meetings.c.org_path, principal.paths(*READER_ROLES))
        found = uow.scheduling_meetings.in_scope(condition)
    return [m for m in found if m.open_items()] if open_items_only else found
