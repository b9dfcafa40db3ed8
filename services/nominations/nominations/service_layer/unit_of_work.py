"""The nominations unit of work: one session, the repositories over it (adapters/repository.py), the audit trail;
events of the aggregates the repositories saw go to the outbox on commit."""

from __future__ import annotations

from nominations.adapters.orm import nominations, rounds
from nominations.adapters.repository import BatchRepository, Directory, NominationRepository, RoundRepository
from shared.db import OverSession
from shared.persistence import RecordScopedUnitOfWork


class NominationsUnitOfWork(RecordScopedUnitOfWork):
    # The org an audited record is about: the nominating school, or the round's issuing org, read from the
    # nomination or round this unit of work loaded when it did; None (platform-wide auditors only) for anything else.
    audit_scopes = (nominations.c.school_org_path, rounds.c.issuing_org_path)
    audit_scopes_from_seen = True

    rounds = OverSession(RoundRepository)
    nominations = OverSession(NominationRepository)
    batches = OverSession(BatchRepository)
    directory = OverSession(Directory)
