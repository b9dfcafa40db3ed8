"""The training repositories: each takes the unit of work's session and keeps what it loaded or added as `seen`,
so the unit of work writes those aggregates' events to the outbox on commit."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select

from shared.db import SqlRepository, where_given
from training.adapters.orm import attendance, certificates, import_jobs, trainings
from training.domain.model import Attendance, Certificate, ImportJob, Training

CHUNK = 1000


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    """`values` in slices small enough for one IN (...) list."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


class TrainingRepository(SqlRepository[Training]):
    def get(self, training_id: uuid.UUID) -> Training | None:
        return self._get(Training, training_id)

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
        return self._read(query.limit(limit))


class AttendanceRepository(SqlRepository[Attendance]):
    def for_people(self, training_id: uuid.UUID, person_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Attendance]:
        found: dict[uuid.UUID, Attendance] = {}
        for chunk in chunks(list(person_ids)):
            query = select(Attendance).where(
                attendance.c.training_id == training_id, attendance.c.person_user_id.in_(chunk)
            )
            for record in self.session.execute(query).scalars():
                self._saw(record)
                found[record.person_user_id] = record
        return found

    def in_scope(self, training_id: uuid.UUID, condition: Any, *, after: str | None, limit: int) -> list[Attendance]:
        query = select(Attendance).where(attendance.c.training_id == training_id, condition).order_by(attendance.c.id)
        if after:
            query = query.where(attendance.c.id > uuid.UUID(after))
        return self._read(query.limit(limit))

    def completed_by(self, person_id: uuid.UUID) -> list[tuple[Attendance, Training]]:
        query = (
            select(Attendance, Training)
            .join(trainings, trainings.c.id == attendance.c.training_id)
            .where(attendance.c.person_user_id == person_id, attendance.c.status == Attendance.COMPLETED)
            .order_by(attendance.c.completed_on)
        )
        return [(a, t) for a, t in self.session.execute(query).all()]


class CertificateRepository(SqlRepository[Certificate]):
    def get(self, certificate_id: uuid.UUID) -> Certificate | None:
        return self._get(Certificate, certificate_id)

    def by_number(self, number: str) -> Certificate | None:
        return self._one(select(Certificate).where(certificates.c.number == number))

    def by_numbers(self, numbers: Sequence[str]) -> dict[str, Certificate]:
        found: dict[str, Certificate] = {}
        for chunk in chunks(list(numbers)):
            for cert in self.session.execute(select(Certificate).where(certificates.c.number.in_(chunk))).scalars():
                found[cert.number] = cert
        return found

    def in_scope(
        self, condition: Any, *, person: uuid.UUID | None, status: str | None, after: str | None, limit: int
    ) -> list[Certificate]:
        query = select(Certificate).where(condition).order_by(certificates.c.number)
        query = where_given(query, (certificates.c.person_user_id, person), (certificates.c.status, status))
        if after:
            query = query.where(certificates.c.number > after)
        return self._read(query.limit(limit))

    def of_person(self, person_id: uuid.UUID) -> list[Certificate]:
        query = select(Certificate).where(certificates.c.person_user_id == person_id).order_by(certificates.c.issued_on)
        return self._read(query)


class ImportJobRepository(SqlRepository):
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
