"""The nominations unit of work: one session, the repositories over it (adapters/repository.py), the audit trail;
events of the aggregates the repositories saw go to the outbox on commit."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from nominations.adapters.orm import nominations, rounds
from nominations.adapters.repository import BatchRepository, Directory, NominationRepository, RoundRepository
from shared.audit import AuditTrail
from shared.db import SqlAlchemyUnitOfWork, pending_scope


class NominationsUnitOfWork(AuditTrail, SqlAlchemyUnitOfWork):
    rounds: RoundRepository
    nominations: NominationRepository
    batches: BatchRepository
    directory: Directory

    def on_enter(self) -> None:
        self.batches = BatchRepository(self.session)
        self.rounds = RoundRepository(self.session)
        self.nominations = NominationRepository(self.session)
        self.directory = Directory(self.session)

    def audit_scope(
        self, action: str, actor: str | None, target: str | None, details: dict[str, Any] | None
    ) -> str | None:
        """The org a record is about, for the audit listing's scope: the nominating school, or the round's issuing
        org; None (platform-wide auditors only) for anything else."""
        try:
            record = uuid.UUID(target or "")
        except ValueError:
            return None
        pending = pending_scope(self.session, record, ("school_org_path", "issuing_org_path"))
        if pending is not None:
            return pending
        for aggregate in self.seen:  # loaded in this unit of work already: no query needed
            if getattr(aggregate, "id", None) == record:
                for attribute in ("school_org_path", "issuing_org_path"):
                    value = getattr(aggregate, attribute, None)
                    if isinstance(value, str):
                        return value
        with self.session.no_autoflush:
            school = self.session.execute(sa.select(nominations.c.school_org_path).where(nominations.c.id == record))
            path = school.scalar_one_or_none()
            if path is None:
                issuer = self.session.execute(sa.select(rounds.c.issuing_org_path).where(rounds.c.id == record))
                path = issuer.scalar_one_or_none()
        return path
