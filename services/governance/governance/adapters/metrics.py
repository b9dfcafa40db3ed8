"""The governance service's workflow metrics (the HTTP and bus metrics come from shared.metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from governance.adapters.orm import application_systems, project_plans
from shared import clock

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
