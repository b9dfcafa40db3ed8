"""The training unit of work: its repositories over one session (events of the aggregates they saw go to the outbox
on commit), the projection of identity's people and orgs, the audit trail."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Uuid, cast, select

from shared import directory
from shared.db import OverSession, SqlRepository
from shared.directory import directory_orgs, directory_users
from shared.persistence import RecordScopedUnitOfWork
from training.adapters.orm import (
    certificates,
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
    """Identity's users and orgs, as the directory projection (shared.directory) keeps them."""

    def _query(self) -> Any:
        u, o = directory_users.c, directory_orgs.c
        return select(cast(u.user_id, Uuid), u.username, u.display_name, u.org_code, o.path, u.is_active).outerjoin(
            directory_orgs, o.code == u.org_code
        )

    def get(self, user_id: uuid.UUID) -> Person | None:
        row = self.session.execute(self._query().where(directory_users.c.user_id == str(user_id))).one_or_none()
        return Person(*row) if row else None

    def find(
        self, user_ids: Sequence[uuid.UUID], usernames: Sequence[str]
    ) -> tuple[dict[uuid.UUID, Person], dict[str, Person]]:
        by_id: dict[uuid.UUID, Person] = {}
        by_name: dict[str, Person] = {}
        for chunk in chunks([str(i) for i in user_ids]):
            for row in self.session.execute(self._query().where(directory_users.c.user_id.in_(chunk))):
                by_id[row[0]] = Person(*row)
        for chunk in chunks(list(usernames)):
            for row in self.session.execute(self._query().where(directory_users.c.username.in_(chunk))):
                by_name[row[1]] = Person(*row)
        return by_id, by_name

    def org(self, code: str) -> OrgRef | None:
        row = directory.org(self.session, code)
        return OrgRef(row.code, row.name, row.level, row.path) if row else None


class TrainingUnitOfWork(RecordScopedUnitOfWork):
    # The org an audited record is about: a training's organiser or a certificate holder's org; None (platform-wide
    # auditors only) for anything else (imports, compliance runs).
    audit_scopes = (trainings.c.organiser_org_path, certificates.c.person_org_path)

    trainings = OverSession(TrainingRepository)
    attendance = OverSession(AttendanceRepository)
    certificates = OverSession(CertificateRepository)
    imports = OverSession(ImportJobRepository)
    people = OverSession(PeopleRepository)
