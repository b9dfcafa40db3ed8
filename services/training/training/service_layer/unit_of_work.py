"""The training unit of work: repositories over one session; events of touched aggregates go to the outbox."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from shared.db import SqlAlchemyUnitOfWork, pending_scope
from shared.logging import get_request_id
from training.adapters.orm import (
    attendance,
    audit_log,
    certificates,
    import_jobs,
    orgs,
    people,
    trainings,
)
from training.domain.model import Attendance, Certificate, ImportJob, Training

CHUNK = 1000


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


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


class _Repo:
    def __init__(self, uow: TrainingUnitOfWork) -> None:
        self.uow = uow

    @property
    def session(self) -> Any:
        return self.uow.session


class TrainingRepository(_Repo):
    def add(self, training: Training) -> None:
        self.session.add(training)
        self.uow.track(training)

    def get(self, training_id: uuid.UUID) -> Training | None:
        found = self.session.get(Training, training_id)
        if found is not None:
            self.uow.track(found)
        return found

    def in_scope(self, condition: Any, *, year: int | None, after: list[str] | None, limit: int) -> list[Training]:
        query = select(Training).where(condition).order_by(trainings.c.starts_on.desc(), trainings.c.id)
        if year:
            query = query.where(
                trainings.c.starts_on >= dt.date(year, 1, 1), trainings.c.starts_on <= dt.date(year, 12, 31)
            )
        if after:
            starts, ident = dt.date.fromisoformat(after[0]), uuid.UUID(after[1])
            query = query.where(
                (trainings.c.starts_on < starts) | ((trainings.c.starts_on == starts) & (trainings.c.id > ident))
            )
        return list(self.session.execute(query.limit(limit)).scalars())


class AttendanceRepository(_Repo):
    def add(self, record: Attendance) -> None:
        self.session.add(record)
        self.uow.track(record)

    def for_people(self, training_id: uuid.UUID, person_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Attendance]:
        found: dict[uuid.UUID, Attendance] = {}
        for chunk in _chunks(list(person_ids)):
            query = select(Attendance).where(
                attendance.c.training_id == training_id, attendance.c.person_user_id.in_(chunk)
            )
            for record in self.session.execute(query).scalars():
                self.uow.track(record)
                found[record.person_user_id] = record
        return found

    def in_scope(self, training_id: uuid.UUID, condition: Any, *, after: str | None, limit: int) -> list[Attendance]:
        query = select(Attendance).where(attendance.c.training_id == training_id, condition).order_by(attendance.c.id)
        if after:
            query = query.where(attendance.c.id > uuid.UUID(after))
        return list(self.session.execute(query.limit(limit)).scalars())

    def completed_by(self, person_id: uuid.UUID) -> list[tuple[Attendance, Training]]:
        query = (
            select(Attendance, Training)
            .join(trainings, trainings.c.id == attendance.c.training_id)
            .where(attendance.c.person_user_id == person_id, attendance.c.status == Attendance.COMPLETED)
            .order_by(attendance.c.completed_on)
        )
        return [(a, t) for a, t in self.session.execute(query).all()]


class CertificateRepository(_Repo):
    def add(self, certificate: Certificate) -> None:
        self.session.add(certificate)
        self.uow.track(certificate)

    def get(self, certificate_id: uuid.UUID) -> Certificate | None:
        found = self.session.get(Certificate, certificate_id)
        if found is not None:
            self.uow.track(found)
        return found

    def by_number(self, number: str) -> Certificate | None:
        found = self.session.execute(select(Certificate).where(certificates.c.number == number)).scalar_one_or_none()
        if found is not None:
            self.uow.track(found)
        return found

    def by_numbers(self, numbers: Sequence[str]) -> dict[str, Certificate]:
        found: dict[str, Certificate] = {}
        for chunk in _chunks(list(numbers)):
            for cert in self.session.execute(select(Certificate).where(certificates.c.number.in_(chunk))).scalars():
                found[cert.number] = cert
        return found

    def in_scope(
        self, condition: Any, *, person: uuid.UUID | None, status: str | None, after: str | None, limit: int
    ) -> list[Certificate]:
        query = select(Certificate).where(condition).order_by(certificates.c.number)
        if person:
            query = query.where(certificates.c.person_user_id == person)
        if status:
            query = query.where(certificates.c.status == status)
        if after:
            query = query.where(certificates.c.number > after)
        return list(self.session.execute(query.limit(limit)).scalars())

    def of_person(self, person_id: uuid.UUID) -> list[Certificate]:
        query = select(Certificate).where(certificates.c.person_user_id == person_id).order_by(certificates.c.issued_on)
        return list(self.session.execute(query).scalars())


class ImportJobRepository(_Repo):
    def add(self, job: ImportJob) -> None:
        self.session.add(job)

    def get(self, job_id: uuid.UUID, *, lock: bool = False) -> ImportJob | None:
        if lock:
            query = select(ImportJob).where(import_jobs.c.id == job_id).with_for_update()
            return self.session.execute(query).scalar_one_or_none()
        return self.session.get(ImportJob, job_id)

    def by_hash(self, content_hash: str) -> ImportJob | None:
        query = select(ImportJob).where(import_jobs.c.content_hash == content_hash)
        return self.session.execute(query).scalar_one_or_none()

    def claim_next(self, stale_before: dt.datetime) -> ImportJob | None:
        """The oldest queued job, or one whose worker stopped beating; SKIP LOCKED lets several workers share."""
        query = (
            select(ImportJob)
            .where(
                (import_jobs.c.status == ImportJob.QUEUED)
                | ((import_jobs.c.status == ImportJob.RUNNING) & (import_jobs.c.heartbeat_at < stale_before))
            )
            .order_by(import_jobs.c.created_at)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        return self.session.execute(query).scalar_one_or_none()


class PeopleRepository(_Repo):
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
        for chunk in _chunks(list(user_ids)):
            for row in self.session.execute(self._query().where(people.c.user_id.in_(chunk))):
                by_id[row[0]] = Person(*row)
        for chunk in _chunks(list(usernames)):
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
        self.trainings = TrainingRepository(self)
        self.attendance = AttendanceRepository(self)
        self.certificates = CertificateRepository(self)
        self.imports = ImportJobRepository(self)
        self.people = PeopleRepository(self)

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
