"""Approvals' fake unit of work: appointments in memory (the repository the appointment handlers use)."""

from __future__ import annotations

import datetime as dt

from approvals.domain.model import ACTIVE, REVOKED, Appointment
from approvals.domain.terms import TermRecord

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
