"""Workflow metrics of the approvals service (names pass `promtool check metrics`)."""

from __future__ import annotations

import datetime as dt

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared import clock

DECISIONS = Counter("approvals_decisions_total", "Review decisions recorded, by decision.", ["decision"])
TIME_TO_DECISION = Histogram(
    "approvals_time_to_decision_seconds",
    "Time from a task's assignment to its decision.",
    buckets=(60, 3600, 6 * 3600, 86400, 3 * 86400, 7 * 86400, 14 * 86400, 30 * 86400),
)
OPEN_TASKS = Gauge("approvals_open_tasks", "Open review tasks, by stage name.", ["stage"], multiprocess_mode="livemax")
OVERDUE_TASKS = Gauge("approvals_overdue_tasks", "Open review tasks past their due date.", multiprocess_mode="livemax")
OVERDUE_TASKS_BY_STAGE = Gauge(
    "approvals_overdue_tasks_by_stage",
    "Open review tasks past their due date, by stage name (the org level reviewing).",
    ["stage"],
    multiprocess_mode="livemax",
)
ACTIVE_APPOINTMENTS = Gauge("approvals_active_appointments", "Active CIO appointments.", multiprocess_mode="livemax")
APPOINTMENTS_ENDING = Gauge(
    "approvals_appointments_ending_within_90_days",
    "Active CIO appointments whose term ends within 90 days.",
    multiprocess_mode="livemax",
)
ENDING_WITHOUT_RENEWAL_DAYS = 30
APPOINTMENTS_ENDING_WITHOUT_RENEWAL = Gauge(
    "approvals_appointments_ending_without_renewal",
    "Active CIO appointments whose term ends within `within_days` days with no renewal (连任) and no open "
    "review case for the same school.",
    ["within_days"],
    multiprocess_mode="livemax",
)
EVALUATIONS = Counter("approvals_evaluations_total", "Evaluations finalised, by kind and grade.", ["kind", "grade"])
OPEN_RECTIFICATIONS = Gauge(
    "approvals_open_rectifications", "Rectifications ordered and awaiting their outcome.", multiprocess_mode="livemax"
)
OVERDUE_RECTIFICATIONS = Gauge(
    "approvals_overdue_rectifications",
    "Open rectifications past their due date.",
    multiprocess_mode="livemax",
)
EVALUATIONS_BY_GRADE = Gauge(
    "approvals_evaluations_by_grade",
    "Finalised evaluations on record, by grade.",
    ["grade"],
    multiprocess_mode="livemax",
)


def refresh_gauges(session: Session, today: dt.date | None = None) -> None:
    """Recount the workflow gauges from the database (the worker does it on a timer)."""
    from approvals.adapters.orm import appointments, evaluations, rectifications, review_cases, review_tasks

    today = today or clock.today()
    t, a, c = review_tasks.c, appointments.c, review_cases.c
    OPEN_TASKS.clear()
    for stage, count in session.execute(
        select(t.stage_name, func.count()).where(t.status == "open").group_by(t.stage_name)
    ).all():
        OPEN_TASKS.labels(stage).set(count)
    OVERDUE_TASKS.set(
        session.execute(select(func.count()).where(t.status == "open", t.overdue_at.is_not(None))).scalar_one()
    )
    OVERDUE_TASKS_BY_STAGE.clear()
    for stage, count in session.execute(
        select(t.stage_name, func.count()).where(t.status == "open", t.overdue_at.is_not(None)).group_by(t.stage_name)
    ).all():
        OVERDUE_TASKS_BY_STAGE.labels(stage).set(count)
    ACTIVE_APPOINTMENTS.set(session.execute(select(func.count()).where(a.status == "active")).scalar_one())
    APPOINTMENTS_ENDING.set(
        session.execute(
            select(func.count()).where(a.status == "active", a.ends_on <= today + dt.timedelta(days=90))
        ).scalar_one()
    )
    # A renewal is a following appointment (previous_appointment_id) or a new case for the school in review.
    following = appointments.alias("following")
    renewed = select(following.c.id).where(following.c.previous_appointment_id == a.id).exists()
    case_open = (
        select(c.id)
        .where(c.kind == "cio_nomination", c.school_org_code == a.org_code, c.status.in_(("in_review", "returned")))
        .exists()
    )
    APPOINTMENTS_ENDING_WITHOUT_RENEWAL.labels(str(ENDING_WITHOUT_RENEWAL_DAYS)).set(
        session.execute(
            select(func.count()).where(
                a.status == "active",
                a.ends_on <= today + dt.timedelta(days=ENDING_WITHOUT_RENEWAL_DAYS),
                ~renewed,
                ~case_open,
            )
        ).scalar_one()
    )
    r, e = rectifications.c, evaluations.c
    OPEN_RECTIFICATIONS.set(session.execute(select(func.count()).where(r.status == "ordered")).scalar_one())
    OVERDUE_RECTIFICATIONS.set(
        session.execute(select(func.count()).where(r.status == "ordered", r.overdue_at.is_not(None))).scalar_one()
    )
    EVALUATIONS_BY_GRADE.clear()
    for grade, count in session.execute(
        select(e.grade, func.count()).where(e.status == "finalised").group_by(e.grade)
    ).all():
        EVALUATIONS_BY_GRADE.labels(grade).set(count)
