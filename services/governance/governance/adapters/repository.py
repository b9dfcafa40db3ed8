"""The governance repositories: each takes the unit of work's session and keeps what it loaded or added as `seen`,
so the unit of work writes those aggregates' events to the outbox on commit."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from governance.adapters.orm import (
    application_systems,
    catalogue_entries,
    committee_flags,
    committee_meetings,
    emergency_plans,
    org_policies,
    plan_acceptances,
    progress_reports,
    project_plans,
    report_reminders,
    scheduling_meetings,
    security_checks,
)
from governance.domain.committee import Committee, CommitteeMeeting
from governance.domain.model import Acceptance, ApplicationSystem, CatalogueEntry, OrgNode, ProjectPlan
from governance.domain.scheduling import ProgressReport, SchedulingMeeting
from governance.domain.security import EmergencyPlan, SecurityCheck
from shared import directory
from shared.db import SqlRepository
from shared.directory import directory_grants, directory_orgs
from shared.scope import path_within


class CatalogueRepository(SqlRepository[CatalogueEntry]):
    def get(self, entry_id: uuid.UUID) -> CatalogueEntry | None:
        return self._get(CatalogueEntry, entry_id)

    def by_code(self, org_path: str, code: str) -> CatalogueEntry | None:
        query = select(CatalogueEntry).where(catalogue_entries.c.org_path == org_path, catalogue_entries.c.code == code)
        return self.session.execute(query).scalar_one_or_none()

    def all(self, *, active_only: bool = False) -> list[CatalogueEntry]:
        query = select(CatalogueEntry).order_by(catalogue_entries.c.org_path, catalogue_entries.c.code)
        if active_only:
            query = query.where(catalogue_entries.c.active.is_(True))
        return self._read(query)

    def covering(self, unit_path: str) -> list[CatalogueEntry]:
        """The active entries of the city (or cities) above a unit: what its plan must not build again."""
        return [e for e in self.all(active_only=True) if path_within(unit_path, e.org_path)]


class PlanRepository(SqlRepository[ProjectPlan]):
    def get(self, plan_id: uuid.UUID, *, lock: bool = False) -> ProjectPlan | None:
        if lock:
            return self._one(select(ProjectPlan).where(project_plans.c.id == plan_id), lock=True)
        return self._get(ProjectPlan, plan_id)

    def in_scope(self, condition: Any, *, status: str | None, after: list[str] | None, limit: int) -> list[ProjectPlan]:
        query = select(ProjectPlan).where(condition).order_by(project_plans.c.created_at.desc(), project_plans.c.id)
        if status:
            query = query.where(project_plans.c.status == status)
        if after:
            created, ident = dt.datetime.fromisoformat(after[0]), uuid.UUID(after[1])
            query = query.where(
                (project_plans.c.created_at < created)
                | ((project_plans.c.created_at == created) & (project_plans.c.id > ident))
            )
        return self._read(query.limit(limit))

    def add_acceptance(self, acceptance: Acceptance) -> None:
        """An acceptance is part of its plan's record; the plan raises the event."""
        self.session.add(acceptance)

    def acceptances(self, plan_id: uuid.UUID) -> list[Acceptance]:
        query = (
            select(Acceptance)
            .where(plan_acceptances.c.plan_id == plan_id)
            .order_by(plan_acceptances.c.accepted_on, plan_acceptances.c.recorded_at)
        )
        return self._read(query)


class ApplicationRepository(SqlRepository[ApplicationSystem]):
    def get(self, system_id: uuid.UUID) -> ApplicationSystem | None:
        return self._get(ApplicationSystem, system_id)

    def in_scope(self, condition: Any, *, district: str | None = None) -> list[ApplicationSystem]:
        query = select(ApplicationSystem).where(condition)
        if district:
            query = query.where(application_systems.c.district_code == district)
        query = query.order_by(
            application_systems.c.district_path, application_systems.c.org_path, application_systems.c.name
        )
        return self._read(query)


class OrgRepository(SqlRepository):
    """identity's organisations, as the directory projection (shared.directory) keeps them."""

    def get(self, code: str) -> OrgNode | None:
        row = directory.org(self.session, code)
        return OrgNode(row.code, row.name, row.level, row.path) if row else None

    def on_path(self, path: str) -> list[OrgNode]:
        """The orgs whose path is a prefix of `path` (the org itself and those above it), top first."""
        parts = path.strip("/").split("/")
        prefixes = ["/" + "/".join(parts[: n + 1]) for n in range(len(parts))]
        o = directory_orgs.c
        rows = self.session.execute(select(o.code, o.name, o.level, o.path).where(o.path.in_(prefixes))).all()
        return sorted((OrgNode(*r) for r in rows), key=lambda org: len(org.path))

    def districts(self, within: Sequence[str] | None = None) -> list[OrgNode]:
        """The county-level orgs (区/县) that report monthly (月调度), all or those in the caller's subtrees."""
        found = self.at_level("county")
        if within is None:
            return found
        return [d for d in found if any(path_within(d.path, p) for p in within)]

    def children(self, parent_path: str, level: str) -> list[OrgNode]:
        """The orgs of `level` below `parent_path` (a university's departments and colleges)."""
        return [o for o in self.at_level(level) if o.path.startswith(parent_path.rstrip("/") + "/")]

    def at_level(self, level: str) -> list[OrgNode]:
        o = directory_orgs.c
        rows = self.session.execute(select(o.code, o.name, o.level, o.path).where(o.level == level)).all()
        return [OrgNode(*r) for r in rows]

    def holders(self, role: str, under: str) -> dict[str, list[str]]:
        """org path → user ids holding `role` there (identity's grants, as the directory keeps them), for orgs in
        the subtree `under`."""
        g = directory_grants.c
        rows = self.session.execute(select(g.org_path, g.user_id).where(g.role == role)).all()
        found: dict[str, list[str]] = {}
        for path, user in rows:
            if path_within(path, under):
                found.setdefault(path, []).append(user)
        return found


# == 月调度, network security work, Yichun's committee and liaisons ==========================================
class ReportRepository(SqlRepository[ProgressReport]):
    """月调度 progress reports (one per district and month) and the reminders published about missing ones."""

    def get(self, report_id: uuid.UUID, *, lock: bool = False) -> ProgressReport | None:
        return self._one(select(ProgressReport).where(progress_reports.c.id == report_id), lock=lock)

    def of(self, district_code: str, month: str) -> ProgressReport | None:
        query = select(ProgressReport).where(
            progress_reports.c.district_code == district_code, progress_reports.c.month == month
        )
        return self._one(query)

    def in_scope(self, condition: Any, month: str) -> list[ProgressReport]:
        query = select(ProgressReport).where(condition, progress_reports.c.month == month)
        return self._read(query.order_by(progress_reports.c.district_path))

    def claim_reminder(self, district: OrgNode, month: str, kind: str, at: dt.datetime) -> bool:
        """True the first time for (district, month, kind): the reminder is published once, whoever runs the check."""
        claimed = self.session.execute(
            pg_insert(report_reminders)
            .values(district_code=district.code, month=month, kind=kind, district_path=district.path, published_at=at)
            .on_conflict_do_nothing()
            .returning(report_reminders.c.district_code)
        ).first()
        return claimed is not None

    def reminders(self, month: str) -> dict[str, list[str]]:
        rows = self.session.execute(
            select(report_reminders.c.district_code, report_reminders.c.kind).where(report_reminders.c.month == month)
        ).all()
        found: dict[str, list[str]] = {}
        for code, kind in rows:
            found.setdefault(code, []).append(str(kind))
        return found


class SchedulingMeetingRepository(SqlRepository[SchedulingMeeting]):
    """调度会议 with their action items."""

    def get(self, meeting_id: uuid.UUID, *, lock: bool = False) -> SchedulingMeeting | None:
        return self._one(select(SchedulingMeeting).where(scheduling_meetings.c.id == meeting_id), lock=lock)

    def in_scope(self, condition: Any) -> list[SchedulingMeeting]:
        query = select(SchedulingMeeting).where(condition)
        query = query.order_by(scheduling_meetings.c.held_on.desc(), scheduling_meetings.c.id)
        return self._read(query)


class SecurityCheckRepository(SqlRepository[SecurityCheck]):
    """网络安全检查, 应急演练 and 自查 with their findings."""

    def get(self, check_id: uuid.UUID, *, lock: bool = False) -> SecurityCheck | None:
        return self._one(select(SecurityCheck).where(security_checks.c.id == check_id), lock=lock)

    def in_scope(self, condition: Any, *, kind: str | None = None) -> list[SecurityCheck]:
        query = select(SecurityCheck).where(condition)
        if kind:
            query = query.where(security_checks.c.kind == kind)
        query = query.order_by(security_checks.c.held_on.desc(), security_checks.c.id)
        return self._read(query)


class EmergencyPlanRepository(SqlRepository[EmergencyPlan]):
    """网络安全事件应急处置预案, one per unit."""

    def get(self, org_code: str) -> EmergencyPlan | None:
        return self._get(EmergencyPlan, org_code)

    def in_scope(self, condition: Any) -> list[EmergencyPlan]:
        query = select(EmergencyPlan).where(condition).order_by(emergency_plans.c.org_path)
        return self._read(query)


class CommitteeRepository(SqlRepository[Committee]):
    """A university's 网络安全和信息化委员会, its meetings and the semesters flagged for too few of them."""

    def get(self, org_code: str) -> Committee | None:
        return self._get(Committee, org_code)

    def add_meeting(self, meeting: CommitteeMeeting) -> None:
        """A meeting is part of its committee's record; the handler publishes the event."""
        self.session.add(meeting)

    def meetings(self, org_code: str) -> list[CommitteeMeeting]:
        query = select(CommitteeMeeting).where(committee_meetings.c.org_code == org_code)
        query = query.order_by(committee_meetings.c.held_on.desc(), committee_meetings.c.id)
        return self._read(query)

    def flag(self, org: OrgNode, semester: str, required: int, held: int, at: dt.datetime) -> bool:
        """True the first time a semester of the org is flagged: the CIO is told once."""
        claimed = self.session.execute(
            pg_insert(committee_flags)
            .values(
                org_code=org.code, semester=semester, org_path=org.path, required=required, held=held, flagged_at=at
            )
            .on_conflict_do_nothing()
            .returning(committee_flags.c.org_code)
        ).first()
        return claimed is not None

    def clear_flag(self, org_code: str, semester: str, held: int, at: dt.datetime) -> bool:
        """A meeting recorded for a flagged semester that now has enough clears its flag."""
        cleared = self.session.execute(
            committee_flags.update()
            .where(
                committee_flags.c.org_code == org_code,
                committee_flags.c.semester == semester,
                committee_flags.c.cleared_at.is_(None),
                committee_flags.c.required <= held,
            )
            .values(cleared_at=at, held=held)
            .returning(committee_flags.c.org_code)
        ).first()
        return cleared is not None

    def flags(self, org_code: str) -> dict[str, dict[str, Any]]:
        rows = self.session.execute(select(committee_flags).where(committee_flags.c.org_code == org_code)).mappings()
        return {r["semester"]: dict(r) for r in rows}


class PolicyRepository:
    """The universities' policy keys (`committee_meetings_per_semester`, `liaison_per_department`), as the
    policy snapshot of their rounds (nominations.round.opened) says."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def set_policy(self, row: dict[str, Any]) -> None:
        statement = pg_insert(org_policies).values(**row)
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[org_policies.c.org_path],
                set_={k: statement.excluded[k] for k in row if k != "org_path"},
                # an older version's round opened later does not undo a newer policy
                where=org_policies.c.policy_version <= statement.excluded.policy_version,
            )
        )

    def policy_of(self, org_path: str) -> dict[str, Any] | None:
        row = self.session.execute(select(org_policies).where(org_policies.c.org_path == org_path)).mappings().first()
        return dict(row) if row else None

    def policies(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.session.execute(select(org_policies)).mappings()]
