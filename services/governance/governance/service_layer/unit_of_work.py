"""The governance unit of work: repositories over one session; events of touched aggregates go to the outbox."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from governance.adapters.orm import (
    application_systems,
    audit_log,
    catalogue_entries,
    disabled_accounts,
    orgs,
    plan_acceptances,
    project_plans,
)
from governance.domain.model import Acceptance, ApplicationSystem, CatalogueEntry, OrgNode, ProjectPlan
from governance.service_layer.work_repositories import (
    CommitteeRepository,
    PolicyDirectory,
    SchedulingRepository,
    SecurityRepository,
)
from shared.db import SqlAlchemyUnitOfWork
from shared.logging import get_request_id
from shared.scope import path_within


class _Repo:
    def __init__(self, uow: GovernanceUnitOfWork) -> None:
        self.uow = uow

    @property
    def session(self) -> Any:
        return self.uow.session


class CatalogueRepository(_Repo):
    def add(self, entry: CatalogueEntry) -> None:
        self.session.add(entry)
        self.uow.track(entry)

    def get(self, entry_id: uuid.UUID) -> CatalogueEntry | None:
        found = self.session.get(CatalogueEntry, entry_id)
        if found is not None:
            self.uow.track(found)
        return found

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


class PlanRepository(_Repo):
    def add(self, plan: ProjectPlan) -> None:
        self.session.add(plan)
        self.uow.track(plan)

    def get(self, plan_id: uuid.UUID, *, lock: bool = False) -> ProjectPlan | None:
        if lock:
            query = select(ProjectPlan).where(project_plans.c.id == plan_id).with_for_update()
            found = self.session.execute(query).scalar_one_or_none()
        else:
            found = self.session.get(ProjectPlan, plan_id)
        if found is not None:
            self.uow.track(found)
        return found

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
        self.session.add(acceptance)

    def acceptances(self, plan_id: uuid.UUID) -> list[Acceptance]:
        query = (
            select(Acceptance)
            .where(plan_acceptances.c.plan_id == plan_id)
            .order_by(plan_acceptances.c.accepted_on, plan_acceptances.c.recorded_at)
        )
        return list(self.session.execute(query).scalars())


class ApplicationRepository(_Repo):
    def add(self, system: ApplicationSystem) -> None:
        self.session.add(system)
        self.uow.track(system)

    def get(self, system_id: uuid.UUID) -> ApplicationSystem | None:
        found = self.session.get(ApplicationSystem, system_id)
        if found is not None:
            self.uow.track(found)
        return found

    def in_scope(self, condition: Any, *, district: str | None = None) -> list[ApplicationSystem]:
        query = select(ApplicationSystem).where(condition)
        if district:
            query = query.where(application_systems.c.district_code == district)
        query = query.order_by(
            application_systems.c.district_path, application_systems.c.org_path, application_systems.c.name
        )
        return list(self.session.execute(query).scalars())


class OrgRepository(_Repo):
    """The projection of identity's organisations."""

    def upsert(self, row: dict[str, Any]) -> None:
        statement = pg_insert(orgs).values(**row)
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[orgs.c.code], set_={k: statement.excluded[k] for k in row if k != "code"}
            )
        )

    def get(self, code: str) -> OrgNode | None:
        row = self.session.execute(
            select(orgs.c.code, orgs.c.name, orgs.c.level, orgs.c.path).where(orgs.c.code == code)
        ).one_or_none()
        return OrgNode(*row) if row else None

    def on_path(self, path: str) -> list[OrgNode]:
        """The orgs whose path is a prefix of `path` (the org itself and those above it), top first."""
        prefixes = ["/" + "/".join(path.strip("/").split("/")[: n + 1]) for n in range(len(path.strip("/").split("/")))]
        rows = self.session.execute(
            select(orgs.c.code, orgs.c.name, orgs.c.level, orgs.c.path).where(orgs.c.path.in_(prefixes))
        ).all()
        return sorted((OrgNode(*r) for r in rows), key=lambda o: len(o.path))


class AccountRepository(_Repo):
    """Accounts identity disabled (停用): their tokens are refused here (shared.auth.ActiveAccountsOnly)."""

    def set_active(self, user_id: str, active: bool, at: dt.datetime) -> None:
        statement = pg_insert(disabled_accounts).values(user_id=user_id, is_active=active, updated_at=at)
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[disabled_accounts.c.user_id], set_={"is_active": active, "updated_at": at}
            )
        )


class GovernanceUnitOfWork(SqlAlchemyUnitOfWork):
    catalogue: CatalogueRepository
    plans: PlanRepository
    applications: ApplicationRepository
    orgs: OrgRepository
    accounts: AccountRepository
    scheduling: SchedulingRepository
    security: SecurityRepository
    committees: CommitteeRepository
    directory: PolicyDirectory

    def on_enter(self) -> None:
        self.catalogue = CatalogueRepository(self)
        self.plans = PlanRepository(self)
        self.applications = ApplicationRepository(self)
        self.orgs = OrgRepository(self)
        self.accounts = AccountRepository(self)
        self.scheduling = SchedulingRepository(self)
        self.security = SecurityRepository(self)
        self.committees = CommitteeRepository(self)
        self.directory = PolicyDirectory(self)

    def audit(
        self,
        action: str,
        *,
        actor: str | None,
        target: str | None,
        org_path: str | None,
        outcome: str = "ok",
        details: dict[str, Any] | None = None,
    ) -> None:
        """Append to the audit trail in this transaction (a rolled-back change leaves no record)."""
        self.session.execute(
            audit_log.insert().values(
                at=dt.datetime.now(dt.UTC),
                actor=actor,
                action=action,
                target=target,
                outcome=outcome,
                details=details,
                request_id=get_request_id(),
                org_path=org_path,
            )
        )
