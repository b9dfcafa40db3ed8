"""The governance service's workflow metrics (the HTTP and bus metrics come from shared.metrics)."""

from __future__ import annotations

import datetime as dt

from prometheus_client import Counter, Gauge
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from governance.adapters.orm import (
    application_systems,
    committee_flags,
    emergency_plans,
    progress_reports,
    project_plans,
    scheduling_meetings,
    security_checks,
)
from governance.domain.scheduling import month_of
from shared import clock
from shared.directory import directory_orgs

PLANS_SUBMITTED = Counter(
    "governance_plans_submitted_total",
    "项目建设方案 sent to the city bureau, by whether the check flagged them.",
    ["flagged"],
)
PLANS_DECIDED = Counter("governance_plans_decided_total", "Plans whose review chain ended, by outcome.", ["outcome"])
PLAN_ACCEPTANCES = Counter("governance_plan_acceptances_total", "验收 recorded, by kind (stage, completion).", ["kind"])
PLANS_BY_STATUS = Gauge(
    "governance_plans", "Project plans by status (as of the last refresh).", ["status"], multiprocess_mode="max"
)
APPLICATIONS = Gauge(
    "governance_applications", "Registered application systems (应用系统对接台账).", multiprocess_mode="max"
)
APPLICATIONS_CONNECTED = Gauge(
    "governance_applications_connected",
    "Registered application systems with unified identity and single sign-on connected.",
    multiprocess_mode="max",
)
APPLICATIONS_OVERDUE = Gauge(
    "governance_applications_overdue",
    "Application systems not connected past their target date.",
    multiprocess_mode="max",
)


def refresh_gauges(session: Session) -> None:
    """Read the counts the gauges show from the database (the worker's timer)."""
    counts: dict[str, int] = dict(
        session.execute(select(project_plans.c.status, func.count()).group_by(project_plans.c.status)).tuples().all()
    )
    for status in ("draft", "in_review", "returned", "approved", "rejected", "completed"):
        PLANS_BY_STATUS.labels(status).set(counts.get(status, 0))
    connected = application_systems.c.unified_identity.is_(True) & application_systems.c.single_sign_on.is_(True)
    total = session.execute(select(func.count()).select_from(application_systems)).scalar_one()
    linked = session.execute(select(func.count()).select_from(application_systems).where(connected)).scalar_one()
    overdue = session.execute(
        select(func.count())
        .select_from(application_systems)
        .where(~connected, application_systems.c.target_date < clock.today())
    ).scalar_one()
    APPLICATIONS.set(total)
    APPLICATIONS_CONNECTED.set(linked)
    APPLICATIONS_OVERDUE.set(overdue)


# -- 月调度, network security work, Yichun's committee --------------------------------------------------
REPORTS_SUBMITTED = Counter(
    "governance_reports_submitted_total", "月调度 reports submitted, by timeliness (on_time, late).", ["timeliness"]
)
REPORT_REMINDERS = Counter(
    "governance_report_reminders_total", "Reminders to districts missing their monthly report, by kind.", ["kind"]
)
SCHEDULING_MEETINGS = Counter("governance_scheduling_meetings_total", "调度会议 recorded.")
SECURITY_CHECKS = Counter(
    "governance_security_checks_total", "网络安全检查, 应急演练 and 自查 recorded, by kind.", ["kind"]
)
COMMITTEE_MEETINGS = Counter("governance_committee_meetings_total", "网络安全和信息化委员会 meetings recorded.")
COMMITTEE_SEMESTERS_FLAGGED = Counter(
    "governance_committee_semesters_flagged_total", "Semesters that ended short of committee meetings (CIO told)."
)
DISTRICTS_UNREPORTED = Gauge(
    "governance_districts_unreported",
    "Districts without this month's 月调度 report (as of the last refresh).",
    multiprocess_mode="max",
)
ACTION_ITEMS_OPEN = Gauge(
    "governance_action_items_open",
    "Scheduling meetings' action items not done, by overdue.",
    ["overdue"],
    multiprocess_mode="max",
)
FINDINGS_OPEN = Gauge(
    "governance_findings_open", "Security findings not rectified, by overdue.", ["overdue"], multiprocess_mode="max"
)
EMERGENCY_PLANS_STALE = Gauge(
    "governance_emergency_plans_stale", "Emergency plans whose last review is too old.", multiprocess_mode="max"
)
COMMITTEE_FLAGS_OPEN = Gauge(
    "governance_committee_flags_open", "Committee semesters flagged and not cleared.", multiprocess_mode="max"
)


def refresh_work_gauges(session: Session, today: dt.date, due_day: int, review_days: int) -> None:
    """The 月调度, security and committee gauges, read from the database (the worker's timer)."""
    month = month_of(today)
    counties = session.execute(
        select(func.count()).select_from(directory_orgs).where(directory_orgs.c.level == "county")
    ).scalar_one()
    reported = session.execute(
        select(func.count()).select_from(progress_reports).where(progress_reports.c.month == month)
    ).scalar_one()
    DISTRICTS_UNREPORTED.set(max(counties - reported, 0))
    items = [i for (found,) in session.execute(select(scheduling_meetings.c.action_items)) for i in found]
    _set_open(ACTION_ITEMS_OPEN, [i for i in items if i["done_on"] is None], today)
    findings = [f for (found,) in session.execute(select(security_checks.c.findings)) for f in found]
    _set_open(FINDINGS_OPEN, [f for f in findings if f["rectified_on"] is None], today)
    cutoff = today - dt.timedelta(days=review_days)
    EMERGENCY_PLANS_STALE.set(
        session.execute(
            select(func.count()).select_from(emergency_plans).where(emergency_plans.c.last_reviewed_on < cutoff)
        ).scalar_one()
    )
    COMMITTEE_FLAGS_OPEN.set(
        session.execute(
            select(func.count()).select_from(committee_flags).where(committee_flags.c.cleared_at.is_(None))
        ).scalar_one()
    )


def _set_open(gauge: Gauge, open_items: list[dict[str, str]], today: dt.date) -> None:
    overdue = sum(1 for i in open_items if dt.date.fromisoformat(i["due_on"]) < today)
    gauge.labels("true").set(overdue)
    gauge.labels("false").set(len(open_items) - overdue)
