"""The yearly requirement (年度培训要求): which active CIOs completed the policy's centralized trainings.

An appointment counts for a year when its term overlaps the year; completions count in the year of their
completion date. The worker's check publishes `training.requirement.unmet` once per person and year: the
row in `requirement_notices` is inserted with the event, and a second run finds it there.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.dialects import postgresql

from shared.directory import directory_users
from shared.errors import NotFound, field_error
from shared.principal import Principal
from shared.scope import path_within, within_any
from training.adapters import metrics
from training.adapters.orm import appointments, attendance, requirement_notices, trainings
from training.domain.events import RequirementUnmet
from training.domain.model import Attendance, Requirement
from training.service_layer.trainings import READERS
from training.service_layer.unit_of_work import TrainingUnitOfWork

ACTIVE = "active"


@dataclass(frozen=True)
class Standing:
    appointment_id: str
    person_user_id: uuid.UUID
    person_name: str | None
    org_code: str
    org_path: str
    required: int
    completed: int
    hours: float

    @property
    def meets(self) -> bool:
        return Requirement(self.required).met_by(self.completed)


def standings(
    uow: TrainingUnitOfWork, year: int, paths: Sequence[str], person: uuid.UUID | None = None
) -> list[Standing]:
    """Every active CIO whose term overlaps `year`, in the subtrees (or only `person`), with their centralized
    completions."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    done = (
        select(
            attendance.c.person_user_id.label("person"),
            func.count().filter(trainings.c.centralized.is_(True)).label("centralized"),
            func.coalesce(func.sum(attendance.c.hours), 0.0).label("hours"),
        )
        .join(trainings, trainings.c.id == attendance.c.training_id)
        .where(
            attendance.c.status == Attendance.COMPLETED,
            attendance.c.completed_on >= first,
            attendance.c.completed_on <= last,
        )
        .group_by(attendance.c.person_user_id)
        .subquery()
    )
    query = (
        select(
            appointments.c.appointment_id,
            appointments.c.person_user_id,
            func.coalesce(directory_users.c.display_name, appointments.c.person_name),
            appointments.c.org_code,
            appointments.c.org_path,
            appointments.c.required_centralized,
            func.coalesce(done.c.centralized, 0),
            func.coalesce(done.c.hours, 0.0),
        )
        .outerjoin(done, done.c.person == appointments.c.person_user_id)
        .outerjoin(directory_users, directory_users.c.user_id == cast(appointments.c.person_user_id, String))
        .where(
            appointments.c.status == ACTIVE,
            appointments.c.starts_on <= last,
            or_(appointments.c.ends_on.is_(None), appointments.c.ends_on >= first),
            within_any(appointments.c.org_path, paths),
            *([appointments.c.person_user_id == person] if person else []),
        )
        .order_by(appointments.c.org_path, appointments.c.person_user_id)
    )
    return [
        Standing(r[0], r[1], r[2], r[3], r[4], int(r[5]), int(r[6]), round(float(r[7]), 1))
        for r in uow.session.execute(query)
    ]


def _user_id(subject: str) -> uuid.UUID | None:
    """The caller's user id; a service client's subject is none, and has no standing of its own."""
    try:
        return uuid.UUID(subject)
    except ValueError:
        return None


def compliance(
    uow: TrainingUnitOfWork, actor: Principal, *, year: int, org_code: str | None, status: str | None
) -> dict[str, Any]:
    """GET /api/training-compliance: who meets the year's requirement and who does not, in the caller's scope.

    Someone who reads nobody's training records (a CIO) still sees their own standing: the portal's CIO page
    asks here whether this year's requirement is met rather than repeating the rule and its platform default."""
    with uow:
        paths = actor.paths(*READERS)
        own = None if paths else _user_id(actor.subject)
        if own is not None:
            paths = ["/"]
        if org_code:
            org = uow.people.org(org_code)
            if own is not None:
                # One's own standing is no licence to probe the tree: only one's own org or one above it exists.
                me = uow.people.get(own)
                home = me.org_path if me is not None else None
                visible = org is not None and home is not None and path_within(home, org.path)
            else:
                visible = org is not None and any(path_within(org.path, p) for p in paths)
            if org is None or not visible:
                raise NotFound("No such organisation.", errors=[field_error("org", "not found", "query")])
            paths = [org.path]
        rows = standings(uow, year, paths, own)
    meeting = sum(1 for r in rows if r.meets)
    shown = [r for r in rows if status is None or (status == "met") == r.meets]
    return {
        "year": year,
        "total": len(rows),
        "meeting": meeting,
        "missing": len(rows) - meeting,
        "items": [
            {
                "appointment_id": r.appointment_id,
                "person_user_id": r.person_user_id,
                "person_name": r.person_name,
                "org_code": r.org_code,
                "org_path": r.org_path,
                "required": r.required,
                "completed": r.completed,
                "hours": r.hours,
                "meets": r.meets,
            }
            for r in shown
        ],
    }


def check_requirements(uow: TrainingUnitOfWork, today: dt.date, check_on: tuple[int, int]) -> int:
    """The worker's yearly check: from `check_on` (month, day) on, each active CIO short of the requirement
    gets one `training.requirement.unmet` for the year. Returns how many were published now."""
    year = today.year
    with uow:
        rows = standings(uow, year, ["/"])
        missing = [r for r in rows if not r.meets]  # a CIO whose policy sets no requirement (0) always meets
        metrics.ACTIVE_CIOS.set(len(rows))
        metrics.CIOS_MISSING_REQUIREMENT.set(len(missing))
        if today < dt.date(year, *check_on) or not missing:
            return 0
        now = dt.datetime.now(dt.UTC)
        published = 0
        for r in missing:
            claimed = uow.session.execute(
                postgresql.insert(requirement_notices)
                .values(
                    person_user_id=r.person_user_id,
                    year=year,
                    appointment_id=r.appointment_id,
                    required=r.required,
                    completed=r.completed,
                    published_at=now,
                )
                .on_conflict_do_nothing(index_elements=["person_user_id", "year"])
                .returning(requirement_notices.c.person_user_id)
            ).first()
            if claimed is None:
                continue
            uow.publish(RequirementUnmet.from_aggregate(r, year=year))
            published += 1
        if published:
            uow.audit(
                "requirement_unmet_published", actor="system:training", details={"year": year, "count": published}
            )
        uow.commit()
    metrics.REQUIREMENT_UNMET_PUBLISHED.inc(published)
    return published
