"""The nominations unit of work: one session, the repositories over it (adapters/repository.py), the audit trail;
events of the aggregates the repositories saw go to the outbox on commit."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

import sqlalchemy as sa

from nominations.adapters.orm import audit_log, nominations, rounds
from nominations.adapters.repository import BatchRepository, Directory, NominationRepository, RoundRepository
from shared.audit import pending_scope
from shared.db import SqlAlchemyUnitOfWork
from shared.logging import get_request_id


class NominationsUnitOfWork(SqlAlchemyUnitOfWork):
    rounds: RoundRepository
    nominations: NominationRepository
    batches: BatchRepository
    directory: Directory

    def on_enter(self) -> None:
        self.batches = BatchRepository(self.session)
        self.rounds = RoundRepository(self.session)
        self.nominations = NominationRepository(self.session)
        self.directory = Directory(self.session)

    def _aggregates_seen(self) -> Iterable[Any]:
        return itertools.chain(self.rounds.seen, self.nominations.seen, self.batches.seen)

    def collect_events(self) -> Iterator[Any]:
        """The events of every aggregate the repositories handed out or were given, then those published."""
        for aggregate in self._aggregates_seen():
            while aggregate.events:
                yield aggregate.events.pop(0)
        yield from super().collect_events()

    def audit(
        self,
        action: str,
        *,
        actor: str | None,
        target: str | None = None,
        outcome: str = "ok",
        details: dict[str, Any] | None = None,
    ) -> None:
        """Append to the audit trail in this transaction: a rolled-back decision leaves no record."""
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
        """The org a record is about, for the audit listing's scope: the nominating school, or the round's issuing
        org; None (platform-wide auditors only) for anything else."""
        try:
            record = uuid.UUID(target or "")
        except ValueError:
            return None
        pending = pending_scope(self.session, record, ("school_org_path", "issuing_org_path"))
        if pending is not None:
            return pending
        for aggregate in self._aggregates_seen():  # loaded in this unit of work already: no query needed
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
