"""The governance repositories: each takes the unit of work's session and keeps what it loaded or added as `seen`,
so the unit of work writes those aggregates' events to the outbox on commit."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select

from governance.adapters.orm import application_systems, catalogue_entries, plan_acceptances, project_plans
from governance.domain.model import Acceptance, ApplicationSystem, CatalogueEntry, OrgNode, ProjectPlan
from shared import directory
from shared.db import SqlRepository
from shared.directory import directory_orgs
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
        return list(self.session.execute(query).scalars())

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
        return list(self.session.execute(query.limit(limit)).scalars())

    def add_acceptance(self, acceptance: Acceptance) -> None:
        """An acceptance is part of its plan's record; the plan raises the event."""
        self.session.add(acceptance)

    def acceptances(self, plan_id: uuid.UUID) -> list[Acceptance]:
        query = (
            select(Acceptance)
            .where(plan_acceptances.c.plan_id == plan_id)
            .order_by(plan_acceptances.c.accepted_on, plan_acceptances.c.recorded_at)
        )
        return list(self.session.execute(query).scalars())


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
        return list(self.session.execute(query).scalars())


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
