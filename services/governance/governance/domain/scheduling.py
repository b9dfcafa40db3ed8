"""月调度 (monthly scheduling): each district's monthly progress report against the year's targets, who has not
reported by the deadline, the reminders before and after it, and the scheduling meetings with their action items.

Wuhai (乌教发〔2023〕97号): 「市教育局对各区教育信息化建设工作进行月调度」 and 「定期召开…调度会议」. Pure Python: the
adapters map these classes to tables.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from governance.domain.model import DomainError, HeldByOrg, InDistrict
from governance.domain.tracking import TrackedItems, new_item_id
from shared.domain import OrgNode

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(text: str) -> tuple[int, int]:
    """ "2026-12" → (2026, 12); a report and its deadline are counted per calendar month."""
    found = _MONTH.match(text)
    # year 0000 fits the pattern but is no calendar's year: its deadline would be a date Python cannot make
    if not found or int(found.group(1)) < dt.MINYEAR:
        raise DomainError("A month is written YYYY-MM.", "month")
    return int(found.group(1)), int(found.group(2))


def month_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def previous_month(month: str) -> str:
    year, number = parse_month(month)
    return f"{year - 1:04d}-12" if number == 1 else f"{year:04d}-{number - 1:02d}"


def deadline_of(month: str, due_day: int) -> dt.date:
    """The month's report is due on `due_day` of that month (the last day in a shorter month)."""
    year, number = parse_month(month)
    return dt.date(year, number, min(due_day, calendar.monthrange(year, number)[1]))


class ReminderKind(enum.StrEnum):
    """Once before the deadline (提醒), once after it (催报): never more for a district and month."""

    BEFORE = "before"
    AFTER = "after"


def reminder_due(month: str, today: dt.date, due_day: int, days_before: int) -> ReminderKind | None:
    """Which reminder a district still missing its `month` report is due on `today`, if any."""
    deadline = deadline_of(month, due_day)
    if today > deadline:
        return ReminderKind.AFTER
    if today >= deadline - dt.timedelta(days=days_before):
        return ReminderKind.BEFORE
    return None


@dataclass(frozen=True)
class ProjectProgress:
    """One project's line of the report: how far it is and what holds it up."""

    name: str
    progress_percent: int
    note: str | None = None
    plan_id: str | None = None


@dataclass(frozen=True)
class TargetProgress:
    """One of the year's targets (e.g. 智慧校园 share of schools) with where the district stands this month."""

    code: str
    name: str
    target: float
    actual: float

    @property
    def met(self) -> bool:
        return self.actual >= self.target


@dataclass(frozen=True)
class ReportContent:
    projects: Sequence[ProjectProgress]
    targets: Sequence[TargetProgress]
    overall: str
    issues: str | None = None

    def check(self) -> None:
        if not self.overall.strip():
            raise DomainError("The overall progress is required.", "overall")
        for n, project in enumerate(self.projects):
            if not 0 <= project.progress_percent <= 100:
                raise DomainError("Progress is a percentage from 0 to 100.", f"projects.{n}.progress_percent")
        codes = [t.code for t in self.targets]
        if len(set(codes)) != len(codes):
            raise DomainError("Each target appears once.", "targets")


class ProgressReport(InDistrict):
    """A district's 月调度 report for one month; `late` once it came after the month's deadline."""

    def __init__(
        self,
        *,
        district: OrgNode,
        month: str,
        content: ReportContent,
        deadline: dt.date,
        by: str,
        at: dt.datetime,
    ) -> None:
        # the unit of work collects these on commit (its handlers publish through it, so none yet)
        self.events: list[Any] = []
        parse_month(month)
        content.check()
        self.id = uuid.uuid4()
        self._count_in(district)
        self.month = month
        self.deadline = deadline
        self._write(content)
        self.submitted_by = by
        self.submitted_at = at
        self.late = at.date() > deadline
        self.updated_at = at
        self.version = 1

    def _write(self, content: ReportContent) -> None:
        self.projects = [
            {"name": p.name, "progress_percent": p.progress_percent, "note": p.note, "plan_id": p.plan_id}
            for p in content.projects
        ]
        self.targets = [
            {"code": t.code, "name": t.name, "target": t.target, "actual": t.actual, "met": t.met}
            for t in content.targets
        ]
        self.overall = content.overall
        self.issues = content.issues

    def revise(self, content: ReportContent, at: dt.datetime) -> None:
        """A correction keeps the first submission's time (and so its lateness)."""
        content.check()
        self._write(content)
        self.updated_at = at


@dataclass(frozen=True)
class ReportingLine:
    """One district's line of the month's overview."""

    district_code: str
    district_path: str
    district_name: str
    reported: bool
    submitted_at: dt.datetime | None
    late: bool
    overdue: bool
    reminders: list[str]


def reporting_overview(
    districts: Iterable[OrgNode],
    reports: Iterable[ProgressReport],
    reminders: dict[str, list[str]],
    deadline: dt.date,
    today: dt.date,
) -> list[ReportingLine]:
    """Who reported (and when), who has not; `overdue` for a district still missing past the deadline."""
    by_district = {r.district_code: r for r in reports}
    lines = []
    for district in sorted(districts, key=lambda d: d.path):
        report = by_district.get(district.code)
        lines.append(
            ReportingLine(
                district_code=district.code,
                district_path=district.path,
                district_name=district.name,
                reported=report is not None,
                submitted_at=report.submitted_at if report else None,
                late=report.late if report else False,
                overdue=report is None and today > deadline,
                reminders=[k.value for k in ReminderKind if k.value in reminders.get(district.code, [])],
            )
        )
    return lines


# -- scheduling meetings -----------------------------------------------------------------------------
ACTION_ITEMS = TrackedItems(
    what="action item",
    field="item_id",
    closed="done_on",
    already="The action item is already done.",
    too_early="An action item is done after the meeting that set it.",
)


@dataclass(frozen=True)
class ActionItemInput:
    title: str
    owner: str
    due_on: dt.date


class SchedulingMeeting(HeldByOrg):
    """调度会议: date, attendees, minutes, decisions, and the action items tracked to done."""

    def __init__(
        self,
        *,
        org: OrgNode,
        held_on: dt.date,
        title: str,
        attendees: Sequence[str],
        minutes: str,
        decisions: Sequence[str],
        action_items: Sequence[ActionItemInput],
        by: str,
        at: dt.datetime,
    ) -> None:
        # the unit of work collects these on commit (its handlers publish through it, so none yet)
        self.events: list[Any] = []
        if not minutes.strip():
            raise DomainError("The minutes (会议纪要) are required.", "minutes")
        if not attendees:
            raise DomainError("A meeting has attendees.", "attendees")
        self.id = uuid.uuid4()
        self._held_by(org)
        self.held_on = held_on
        self.title = title
        self.attendees = list(attendees)
        self.minutes = minutes
        self.decisions = list(decisions)
        self.action_items: list[dict[str, Any]] = [
            {
                "id": new_item_id(),
                "title": item.title,
                "owner": item.owner,
                "due_on": item.due_on.isoformat(),
                "done_on": None,
                "outcome": None,
            }
            for item in action_items
        ]
        self.recorded_by = by
        self.recorded_at = at
        self.version = 1

    def complete(self, item_id: str, done_on: dt.date, outcome: str | None) -> dict[str, Any]:
        """An action item done; the list is replaced whole so the change is seen and stored."""
        items, item = ACTION_ITEMS.close(self.action_items, item_id, done_on, self.held_on)
        item["outcome"] = outcome
        self.action_items = items
        return item

    def open_items(self) -> list[dict[str, Any]]:
        return ACTION_ITEMS.open(self.action_items)

    def overdue_items(self, today: dt.date) -> list[dict[str, Any]]:
        return ACTION_ITEMS.overdue(self.action_items, today)
