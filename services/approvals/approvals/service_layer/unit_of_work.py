"""The approvals unit of work: its repositories over one session; events of the aggregates they saw go to the
outbox on commit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_, select, update

from approvals.adapters.orm import rounds
from approvals.adapters.repository import (
    AppointmentRepository,
    BatchReceipts,
    CaseRepository,
    DelegationRepository,
    EvaluationRepository,
    PublicationRepository,
    RectificationRepository,
    TaskRepository,
)
from approvals.domain.model import OrgNode
from shared import directory
from shared.audit import AuditTrail, audit_log
from shared.db import OverSession, SqlAlchemyUnitOfWork
from shared.scope import within_any


def _org_node(row: Any) -> OrgNode:
    """An org of the directory projection, as the domain sees it."""
    return OrgNode(code=row.code, name=row.name, level=row.level, path=row.path)


class Projections:
    """Local copies of other services' facts: rounds with their policy snapshot, the org tree, role grants."""

    def __init__(self, uow: ApprovalsUnitOfWork) -> None:
        self.uow = uow

    def _upsert(self, table: Any, key: str, values: dict[str, Any]) -> None:
        session = self.uow.session
        exists = session.execute(select(table.c[key]).where(table.c[key] == values[key])).first()
        if exists:
            session.execute(update(table).where(table.c[key] == values[key]).values(**values))
        else:
            session.execute(table.insert().values(**values))

    def upsert_round(self, values: dict[str, Any]) -> None:
        self._upsert(rounds, "round_id", values)

    def round(self, round_id: uuid.UUID) -> Any | None:
        return self.uow.session.execute(select(rounds).where(rounds.c.round_id == round_id)).first()

    def rounds_touching(self, path: str) -> list[Any]:
        """The rounds whose region holds the subtree at `path` or lies in it (their policy snapshots say what the
        schools there are evaluated on)."""
        parts = [c for c in path.strip("/").split("/") if c]
        above = ["/" + "/".join(parts[: n + 1]) for n in range(len(parts))]
        r = rounds.c
        query = select(rounds).where(
            or_(r.issuing_org_path.is_(None), r.issuing_org_path.in_(above), within_any(r.issuing_org_path, [path]))
        )
        return list(self.uow.session.execute(query))

    def orgs_on_path(self, path: str) -> dict[str, OrgNode]:
        codes = [c for c in path.strip("/").split("/") if c]
        rows = directory.orgs_by_code(self.uow.session, codes).values()
        return {r.code: _org_node(r) for r in rows}

    def orgs_within(self, path: str, levels: Sequence[str]) -> list[OrgNode]:
        """The orgs of these levels in the subtree at `path` (the schools a school assessment is opened for)."""
        return [_org_node(r) for r in directory.orgs_within(self.uow.session, path, levels)]

    def org(self, code: str) -> OrgNode | None:
        r = directory.org(self.uow.session, code)
        return _org_node(r) if r else None

    def holds(self, user_id: str, role: str, org_path: str) -> bool:
        return directory.holds(self.uow.session, user_id, role, org_path)


class ApprovalsUnitOfWork(AuditTrail, SqlAlchemyUnitOfWork):
    projections: Projections
    cases = OverSession(CaseRepository)
    tasks = OverSession(TaskRepository)
    appointments = OverSession(AppointmentRepository)
    delegations = OverSession(DelegationRepository)
    evaluations = OverSession(EvaluationRepository)
    rectifications = OverSession(RectificationRepository)
    publications = OverSession(PublicationRepository)
    batch_receipts = OverSession(BatchReceipts)

    def on_enter(self) -> None:
        self.projections = Projections(self)

    def flush(self) -> None:
        self.session.flush()

    def history(self, target_type: str, target_ids: Sequence[str]) -> list[Any]:
        return list(
            self.session.execute(
                select(audit_log)
                .where(audit_log.c.target_type == target_type, audit_log.c.target_id.in_(list(target_ids)))
                .order_by(audit_log.c.id)
            ).all()
        )
