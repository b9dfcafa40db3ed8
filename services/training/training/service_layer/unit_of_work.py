"""The training unit of work: its repositories over one session (events of the aggregates they saw go to the outbox
on commit), the projection of identity's people and orgs, the audit trail."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from shared.audit import pending_scope
from shared.db import SqlAlchemyUnitOfWork, SqlRepository
from shared.logging import get_request_id
from training.adapters.orm import (
    audit_log,
    certificates,
    orgs,
    people,
    trainings,
)
from training.adapters.repository import (
    AttendanceRepository,
    CertificateRepository,
    ImportJobRepository,
    TrainingRepository,
    chunks,
)


@dataclass(frozen=True)
class Person:
    """A person as identity announced them; `org_path` is None until their org is known here."""

    user_id: uuid.UUID
    username: str
    display_name: str
    org_code: str | None
    org_path: str | None
    is_active: bool


@dataclass(frozen=True)
class OrgRef:
    code: str
    name: str
    level: str
    path: str


class PeopleRepository(SqlRepository):
    """The projection of identity's users and orgs."""

    def _query(self) -> Any:
        return select(
            people.c.user_id,
            people.c.username,
            people.c.display_name,
            people.c.org_code,
            orgs.c.path,
            people.c.is_active,
        ).outerjoin(orgs, orgs.c.code == people.c.org_code)

    def get(self, user_id: uuid.UUID) -> Person | None:
        row = self.session.execute(self._query().where(people.c.user_id == user_id)).one_or_none()
        return Person(*row) if row else None

    def find(
        self, user_ids: Sequence[uuid.UUID], usernames: Sequence[str]
    ) -> tuple[dict[uuid.UUID, Person], dict[str, Person]]:
        by_id: dict[uuid.UUID, Person] = {}
        by_name: dict[str, Person] = {}
        for chunk in chunks(list(user_ids)):
            for row in self.session.execute(self._query().where(people.c.user_id.in_(chunk))):
                by_id[row[0]] = Person(*row)
        for chunk in chunks(list(usernames)):
            for row in self.session.execute(self._query().where(people.c.username.in_(chunk))):
                by_name[row[1]] = Person(*row)
        return by_id, by_name

    def org(self, code: str) -> OrgRef | None:
        row = self.session.execute(
            select(orgs.c.code, orgs.c.name, orgs.c.level, orgs.c.path).where(orgs.c.code == code)
        ).one_or_none()
        return OrgRef(*row) if row else None


class TrainingUnitOfWork(SqlAlchemyUnitOfWork):
    trainings: TrainingRepository
    attendance: AttendanceRepository
    certificates: CertificateRepository
    imports: ImportJobRepository
    people: PeopleRepository

    def on_enter(self) -> None:
        self.trainings = TrainingRepository(self.session)
        self.attendance = AttendanceRepository(self.session)
        self.certificates = CertificateRepository(self.session)
        self.imports = ImportJobRepository(self.session)
        self.people = PeopleRepository(self.session)

    def audit(
        self,
        action: str,
        *,
        actor: str | None,
        target: str | None = None,
        outcome: str = "ok",
        details: dict[str, Any] | None = None,
    ) -> None:
        """Append to the audit trail in this transaction (a rolled-back decision leaves no record)."""
        self.session.execute(
            audit_log.insert().values(
                at=dt.datetime.now(dt.UTC),
                actor=actor,
                action=action,
                target=target,
                outcome=outcome,
                details=details,
                request_id=get_request_id(),
                org_path=self._audit_scope(target),
            )
        )

    def _audit_scope(self, target: str | None) -> str | None:
        """The org a record is about, for the audit listing's scope: a training's organiser or a certificate
        holder's org; None (platform-wide auditors only) for anything else (imports, compliance runs)."""
        try:
            record = uuid.UUID(target or "")
        except ValueError:
            return None
        pending = pending_scope(self.session, record, ("organiser_org_path", "person_org_path"))
        if pending is not None:
            return pending
        with self.session.no_autoflush:
            organiser = self.session.execute(select(trainings.c.organiser_org_path).where(trainings.c.id == record))
            path = organiser.scalar_one_or_none()
            if path is None:
                holder = self.session.execute(select(certificates.c.person_org_path).where(certificates.c.id == record))
                path = holder.scalar_one_or_none()
        return path
