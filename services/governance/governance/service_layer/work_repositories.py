"""Repositories of 月调度, network security work and Yichun's committee, over the unit of work's session."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from governance.adapters.orm import (
    committee_flags,
    committee_meetings,
    emergency_plans,
    org_policies,
    orgs,
    progress_reports,
    report_reminders,
    role_grants,
    scheduling_meetings,
    security_checks,
)
from governance.domain.committee import Committee, CommitteeMeeting
from governance.domain.model import OrgNode
from governance.domain.scheduling import ProgressReport, SchedulingMeeting
from governance.domain.security import EmergencyPlan, SecurityCheck
from shared.scope import path_within


class _HasSession(Protocol):
    @property
    def session(self) -> Any: ...


class _Repo:
    def __init__(self, uow: _HasSession) -> None:
        self.uow = uow

    @property
    def session(self) -> Any:
        return self.uow.session


def _nodes(rows: Sequence[Any]) -> list[OrgNode]:
    return [OrgNode(r.code, r.name, r.level, r.path) for r in rows]


class SchedulingRepository(_Repo):
    def add_report(self, report: ProgressReport) -> None:
        self.session.add(report)

    def report(self, report_id: uuid.UUID, *, lock: bool = False) -> ProgressReport | None:
        query = select(ProgressReport).where(progress_reports.c.id == report_id)
        return self.session.execute(query.with_for_update() if lock else query).scalar_one_or_none()

    def report_of(self, district_code: str, month: str) -> ProgressReport | None:
        query = select(ProgressReport).where(
            progress_reports.c.district_code == district_code, progress_reports.c.month == month
        )
        return self.session.execute(query).scalar_one_or_none()

    def reports(self, condition: Any, month: str) -> list[ProgressReport]:
        query = select(ProgressReport).where(condition, progress_reports.c.month == month)
        return list(self.session.execute(query.order_by(progress_reports.c.district_path)).scalars())

    def districts(self, within: Sequence[str] | None = None) -> list[OrgNode]:
        """The county-level orgs (区/县) that report monthly, all or those in the caller's subtrees."""
        rows = self.session.execute(
            select(orgs.c.code, orgs.c.name, orgs.c.level, orgs.c.path).where(orgs.c.level == "county")
        ).all()
        found = _nodes(rows)
        if within is None:
            return found
        return [d for d in found if any(path_within(d.path, p) for p in within)]

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

    def add_meeting(self, meeting: SchedulingMeeting) -> None:
        self.session.add(meeting)

    def meeting(self, meeting_id: uuid.UUID, *, lock: bool = False) -> SchedulingMeeting | None:
        query = select(SchedulingMeeting).where(scheduling_meetings.c.id == meeting_id)
        return self.session.execute(query.with_for_update() if lock else query).scalar_one_or_none()

    def meetings(self, condition: Any) -> list[SchedulingMeeting]:
        query = select(SchedulingMeeting).where(condition)
        query = query.order_by(scheduling_meetings.c.held_on.desc(), scheduling_meetings.c.id)
        return list(self.session.execute(query).scalars())


class SecurityRepository(_Repo):
    def add_check(self, check: SecurityCheck) -> None:
        self.session.add(check)

    def check(self, check_id: uuid.UUID, *, lock: bool = False) -> SecurityCheck | None:
        query = select(SecurityCheck).where(security_checks.c.id == check_id)
        return self.session.execute(query.with_for_update() if lock else query).scalar_one_or_none()

    def checks(self, condition: Any, *, kind: str | None = None) -> list[SecurityCheck]:
        query = select(SecurityCheck).where(condition)
        if kind:
            query = query.where(security_checks.c.kind == kind)
        query = query.order_by(security_checks.c.held_on.desc(), security_checks.c.id)
        return list(self.session.execute(query).scalars())

    def plan(self, org_code: str) -> EmergencyPlan | None:
        return self.session.get(EmergencyPlan, org_code)

    def add_plan(self, plan: EmergencyPlan) -> None:
        self.session.add(plan)

    def plans(self, condition: Any) -> list[EmergencyPlan]:
        query = select(EmergencyPlan).where(condition).order_by(emergency_plans.c.org_path)
        return list(self.session.execute(query).scalars())


class CommitteeRepository(_Repo):
    def get(self, org_code: str) -> Committee | None:
        return self.session.get(Committee, org_code)

    def add(self, committee: Committee) -> None:
        self.session.add(committee)

    def add_meeting(self, meeting: CommitteeMeeting) -> None:
        self.session.add(meeting)

    def meetings(self, org_code: str) -> list[CommitteeMeeting]:
        query = select(CommitteeMeeting).where(committee_meetings.c.org_code == org_code)
        query = query.order_by(committee_meetings.c.held_on.desc(), committee_meetings.c.id)
        return list(self.session.execute(query).scalars())

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


class PolicyDirectory(_Repo):
    """What governance knows from the other services: the universities' policy keys and identity's role grants."""

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

    def grant(self, row: dict[str, Any]) -> None:
        statement = pg_insert(role_grants).values(**row)
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[role_grants.c.grant_id], set_={k: statement.excluded[k] for k in row}
            )
        )

    def revoke(self, grant_id: str) -> None:
        self.session.execute(delete(role_grants).where(role_grants.c.grant_id == grant_id))

    def holders(self, role: str, under: str) -> dict[str, list[str]]:
        """org path → user ids holding `role` there, for orgs in the subtree `under`."""
        rows = self.session.execute(
            select(role_grants.c.org_path, role_grants.c.user_id).where(role_grants.c.role == role)
        ).all()
        found: dict[str, list[str]] = {}
        for path, user in rows:
            if path_within(path, under):
                found.setdefault(path, []).append(user)
        return found

    def children(self, parent_path: str, level: str) -> list[OrgNode]:
        rows = self.session.execute(
            select(orgs.c.code, orgs.c.name, orgs.c.level, orgs.c.path).where(orgs.c.level == level)
        ).all()
        return [o for o in _nodes(rows) if o.path.startswith(parent_path.rstrip("/") + "/")]
