"""The notifications unit of work: its repositories over one session, the identity projection as a Directory, the
audit trail."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.dialects import postgresql

from notifications.adapters.repository import (
    DeliveryRepository,
    KnownNominations,
    MessageRepository,
    PreferenceRepository,
    Recipients,
    ReminderRepository,
)
from notifications.domain.rules import ancestors
from shared.audit import AuditTrail
from shared.db import OverSession, SqlAlchemyUnitOfWork
from shared.directory import directory_grants, directory_orgs, directory_users
from shared.scope import within_any


class SqlDirectory:
    """Who holds which role at which org, from the local projection of identity's events."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self._levels: dict[str, str | None] = {}

    def holders(self, role: str, org_path: str) -> set[str]:
        return self._active_holders(role, directory_grants.c.org_path == org_path)

    def holders_within(self, role: str, org_path: str) -> set[str]:
        """Active holders of role at org_path or anywhere below it (every school of a city)."""
        return self._active_holders(role, within_any(directory_grants.c.org_path, [org_path]))

    def _active_holders(self, role: str, where: ColumnElement[bool]) -> set[str]:
        """The holders of `role` at the grant paths `where` picks, but for accounts known to be disabled."""
        rows = self.session.execute(
            select(directory_grants.c.user_id)
            .select_from(
                directory_grants.outerjoin(directory_users, directory_users.c.user_id == directory_grants.c.user_id)
            )
            .where(directory_grants.c.role == role, where)
            .where(directory_users.c.is_active.is_not(False))
        )
        return {r[0] for r in rows}

    def org_level(self, org_path: str) -> str | None:
        """The org's level (None for an org not known here). The orgs above it are read in the same query: a rule
        naming the nearest county or city walks up from the school, asking each in turn."""
        if org_path not in self._levels:
            paths = [org_path, *ancestors(org_path)]
            self._levels.update(dict.fromkeys(paths))
            query = select(directory_orgs.c.path, directory_orgs.c.level).where(directory_orgs.c.path.in_(paths))
            self._levels.update({row.path: row.level for row in self.session.execute(query)})
        return self._levels[org_path]


class NotificationsUnitOfWork(AuditTrail, SqlAlchemyUnitOfWork):
    directory = OverSession(SqlDirectory)
    recipients = OverSession(Recipients)
    messages = OverSession(MessageRepository)
    deliveries = OverSession(DeliveryRepository)
    reminders = OverSession(ReminderRepository)
    preferences = OverSession(PreferenceRepository)
    known_nominations = OverSession(KnownNominations)

    @property
    def insert(self) -> Any:
        """PostgreSQL's INSERT, which knows ON CONFLICT (the identity projection upserts with it)."""
        return postgresql.insert

    def audit_scope(
        self, action: str, actor: str | None, target: str | None, details: dict[str, Any] | None
    ) -> str | None:
        """The org a record is about, for the audit listing's scope: the home org of the user it targets (their
        preferences); None (platform-wide auditors only) for deliveries and anything else."""
        if not target:
            return None
        query = (
            select(directory_orgs.c.path)
            .join(directory_users, directory_users.c.org_code == directory_orgs.c.code)
            .where(directory_users.c.user_id == target)
        )
        with self.session.no_autoflush:  # see shared.db.record_scope
            return self.session.execute(query).scalar_one_or_none()
