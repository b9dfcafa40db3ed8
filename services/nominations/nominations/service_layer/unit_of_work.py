"""The nominations unit of work: one session, the repositories over it (adapters/repository.py), the audit trail;
events of the aggregates the repositories saw go to the outbox on commit."""

from __future__ import annotations

from typing import Any

from nominations.adapters.orm import nominations, rounds
from nominations.adapters.repository import BatchRepository, Directory, NominationRepository, RoundRepository
from shared.audit import AuditTrail
from shared.db import OverSession, SqlAlchemyUnitOfWork, record_scope


class NominationsUnitOfWork(AuditTrail, SqlAlchemyUnitOfWork):
    rounds = OverSession(RoundRepository)
    nominations = OverSession(NominationRepository)
    batches = OverSession(BatchRepository)
    directory = OverSession(Directory)

    def audit_scope(
        self, action: str, actor: str | None, target: str | None, details: dict[str, Any] | None
    ) -> str | None:
        """The org a record is about, for the audit listing's scope: the nominating school, or the round's issuing
        org; None (platform-wide auditors only) for anything else."""
        scopes = (nominations.c.school_org_path, rounds.c.issuing_org_path)
        return record_scope(self.session, target, scopes, loaded=self.seen)
