"""Approvals' fake units of work: appointments in memory (what the appointment handlers use), and review cases with
their tasks and the batch receipts (what a decision uses)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from approvals.domain.model import ACTIVE, OPEN, REVOKED, Appointment, OrgNode, ReviewCase, ReviewTask
from approvals.domain.terms import TermRecord

from shared.db import Repository
from tests.unit.fakes import FakeRepository, FakeUnitOfWork


class FakeAppointments(FakeRepository):
    def lock_org(self, org_code: str) -> None:
        """One process, no concurrency: nothing to serialise."""

    def active_for_org(self, org_code: str) -> Appointment | None:
        found = next((a for a in self.items.values() if a.org_code == org_code and a.status == ACTIVE), None)
        return None if found is None else self._saw(found)

    def terms_of(self, person_user_id: str, org_code: str) -> list[TermRecord]:
        return [
            TermRecord(starts_on=a.starts_on, last_day=a.ended_on or a.ends_on, revoked=a.status == REVOKED)
            for a in self.items.values()
            if a.person_user_id == person_user_id and a.org_code == org_code
        ]

    def due_to_end(self, today: dt.date, limit: int) -> list[Appointment]:
        due = [a for a in self.items.values() if a.status == ACTIVE and a.ends_on is not None and a.ends_on < today]
        return [self._saw(a) for a in sorted(due, key=lambda a: a.ends_on)[:limit]]


class FakeApprovalsUnitOfWork(FakeUnitOfWork):
    def __init__(self, *appointments: Appointment) -> None:
        super().__init__()
        self.appointments = FakeAppointments(*appointments)

    def flush(self) -> None:
        """Nothing is written before the commit in memory."""


class FakeCases(FakeRepository):
    """Review cases with their tasks (the aggregate): loading a case sees its tasks too."""

    def get(self, key: Any, lock: bool = False) -> ReviewCase | None:
        case = super().get(key, lock)
        for task in case.tasks if case else []:
            self._saw(task)
        return case

    def by_nomination(self, nomination_id: uuid.UUID, lock: bool = False) -> ReviewCase | None:
        found = next((c for c in self.items.values() if c.nomination_id == nomination_id), None)
        return None if found is None else self.get(found.id, lock)

    def task_owner(self, task_id: uuid.UUID) -> uuid.UUID | None:
        return next((c.id for c in self.items.values() if any(t.id == task_id for t in c.tasks)), None)


class FakeTasks(Repository):
    def __init__(self, cases: FakeCases) -> None:
        super().__init__()
        self.cases = cases

    def case_id_of(self, task_id: uuid.UUID) -> uuid.UUID | None:
        return self.cases.task_owner(task_id)

    def overdue_candidates(self, at: dt.datetime, limit: int) -> list[ReviewTask]:
        tasks = [t for c in self.cases.items.values() for t in c.tasks]
        due = [t for t in tasks if t.status == OPEN and t.overdue_at is None and t.due_at <= at]
        return [self._saw(t) for t in sorted(due, key=lambda t: t.due_at)[:limit]]


class FakeBatchReceipts:
    def __init__(self, *nomination_ids: uuid.UUID) -> None:
        self.nomination_ids = set(nomination_ids)

    def received(self, nomination_ids: list[uuid.UUID]) -> set[uuid.UUID]:
        return self.nomination_ids & set(nomination_ids)


class FakeProjections:
    """The directory's orgs, as approvals reads them to bind a chain's stages to a case's orgs."""

    def __init__(self, *orgs: OrgNode) -> None:
        self.orgs = {o.code: o for o in orgs}

    def orgs_on_path(self, path: str) -> dict[str, OrgNode]:
        return {code: self.orgs[code] for code in path.strip("/").split("/") if code in self.orgs}


class FakeReviewsUnitOfWork(FakeApprovalsUnitOfWork):
    def __init__(self, *cases: ReviewCase, orgs: tuple[OrgNode, ...] = ()) -> None:
        super().__init__()
        self.cases = FakeCases(*cases)
        self.tasks = FakeTasks(self.cases)
        self.batch_receipts = FakeBatchReceipts()
        self.projections = FakeProjections(*orgs)
