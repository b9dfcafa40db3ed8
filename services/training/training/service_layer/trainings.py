"""Handlers for trainings, enrolment and completion (结业), and a person's training summary."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shared import clock
from shared.errors import NotFound, Unprocessable, field_error, refused
from shared.principal import Principal
from shared.scope import within_any
from training.adapters import metrics
from training.adapters.orm import attendance as attendance_table
from training.adapters.orm import trainings as trainings_table
from training.domain.model import (
    Attendance,
    Certificate,
    DomainError,
    Training,
    TrainingKind,
    TrainingLevel,
)
from training.service_layer.rows import (
    CERTIFICATE_NUMBER_LENGTH,
    RowBatch,
    parse_date,
    parse_hours,
    resolve_people,
    too_long,
)
from training.service_layer.unit_of_work import Person, TrainingUnitOfWork

ADMIN = "training_admin"
# Who may read training records in their subtree: admins, reviewers, evaluators, auditors.
READERS = (
    "training_admin",
    "platform_admin",
    "city_reviewer",
    "county_reviewer",
    "evaluator",
    "auditor",
)
MAX_BULK = 2000


# -- trainings ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CreateTraining:
    title: str
    level: str
    kind: str
    organiser_org_code: str
    starts_on: dt.date
    ends_on: dt.date
    hours: float
    centralized: bool
    organiser_name: str | None = None


def create_training(uow: TrainingUnitOfWork, actor: Principal, cmd: CreateTraining) -> Training:
    with uow:
        org = uow.people.org(cmd.organiser_org_code)
        if org is None or not actor.can(org.path, ADMIN):
            raise NotFound("No such organising organisation.", errors=[field_error("organiser_org_code", "not found")])
        try:
            training = Training(
                title=cmd.title,
                level=TrainingLevel(cmd.level),
                kind=TrainingKind(cmd.kind),
                organiser_org_code=org.code,
                organiser_org_path=org.path,
                organiser_name=cmd.organiser_name or org.name,
                starts_on=cmd.starts_on,
                ends_on=cmd.ends_on,
                hours=cmd.hours,
                centralized=cmd.centralized,
                created_by=actor.subject,
            )
        except DomainError as exc:
            raise refused(exc) from exc
        uow.trainings.add(training)
        uow.audit("training_created", actor=actor.subject, target=str(training.id), details={"org": org.path})
        uow.commit()
        return training


def _training_in_scope(uow: TrainingUnitOfWork, actor: Principal, training_id: uuid.UUID, *roles: str) -> Training:
    training = uow.trainings.get(training_id)
    if training is None:
        raise NotFound("No such training.")
    actor.require_within(training.organiser_org_path, *roles, what="training")
    return training


def get_training(uow: TrainingUnitOfWork, actor: Principal, training_id: uuid.UUID) -> Training:
    with uow:
        return _training_in_scope(uow, actor, training_id, *READERS)


def list_trainings(
    uow: TrainingUnitOfWork, actor: Principal, *, year: int | None, after: list[str] | None, limit: int
) -> list[Training]:
    with uow:
        condition = within_any(trainings_table.c.organiser_org_path, actor.paths(*READERS))
        return uow.trainings.in_scope(condition, year=year, after=after, limit=limit)


# -- enrolment and completion ------------------------------------------------------------------------
def enrol(uow: TrainingUnitOfWork, actor: Principal, training_id: uuid.UUID, people_ids: Sequence[uuid.UUID]) -> int:
    """报名: enrol several people at once; someone already enrolled stays as they are. All or nothing."""
    with uow:
        training = _training_in_scope(uow, actor, training_id, ADMIN)
        found, _ = uow.people.find(people_ids, [])
        errors = []
        for index, person_id in enumerate(people_ids):
            person = found.get(person_id)
            if person is None or person.org_path is None or not actor.can(person.org_path, ADMIN):
                errors.append(field_error(f"person_user_ids.{index}", "no such person in your scope"))
        if errors:
            raise Unprocessable("Some people cannot be enrolled; nobody was.", errors=errors)
        existing = uow.attendance.for_people(training.id, people_ids)
        added = 0
        for person_id in dict.fromkeys(people_ids):
            if person_id not in existing:
                person = found[person_id]
                uow.attendance.add(Attendance(training, person_id, str(person.org_path), by=actor.subject))
                added += 1
        uow.audit("attendance_enrolled", actor=actor.subject, target=str(training.id), details={"added": added})
        uow.commit()
        return added


@dataclass(frozen=True)
class CompletionRow:
    """One line of a completion list or of an attendance import: who, hours, when, optional certificate."""

    row: int
    person: str
    hours: Any
    completed_on: Any
    name: str | None = None
    certificate_number: str | None = None
    certificate_expires_on: Any = None


@dataclass
class CompletionOutcome:
    written: int = 0
    unchanged: int = 0
    certificates: int = 0


def apply_completions(
    uow: TrainingUnitOfWork,
    training: Training,
    rows: Sequence[CompletionRow],
    batch: RowBatch,
) -> CompletionOutcome:
    """Validate every row (collecting errors), then write the good ones unless any is bad and the caller
    wants all or nothing. Runs inside the caller's unit of work; does not commit."""
    actor, errors = batch.actor, batch.errors
    resolved = resolve_people(uow, [(r.row, r.person, r.name) for r in rows], batch.actor_paths, errors)
    issuer = training.organiser_name
    numbers = [r.certificate_number for r in rows if r.certificate_number]
    taken = uow.certificates.by_numbers(numbers) if numbers else {}
    existing = uow.attendance.for_people(training.id, [p.user_id for p in resolved.values()])
    seen_people: dict[uuid.UUID, int] = {}
    seen_numbers: dict[str, int] = {}
    planned: list[tuple[CompletionRow, Person, float, dt.date, dt.date | None]] = []
    for r in rows:
        bad = errors.count
        person = resolved.get(r.row)
        hours = parse_hours(r.hours, r.row, "hours", errors, at_most=training.hours)
        completed_on = parse_date(r.completed_on, r.row, "completed_on", errors, required=True)
        expires_on = parse_date(r.certificate_expires_on, r.row, "certificate_expires_on", errors, required=False)
        if completed_on is not None and completed_on < training.starts_on:
            errors.add(r.row, "completed_on", "结业日期早于培训开始日期", "completed_on is before the training starts")
        if person is not None:
            if person.user_id in seen_people:
                errors.add(
                    r.row,
                    "person",
                    f"与第{seen_people[person.user_id]}行人员重复",
                    f"same person as row {seen_people[person.user_id]}",
                )
            seen_people.setdefault(person.user_id, r.row)
            record = existing.get(person.user_id)
            if (
                record is not None
                and record.status == Attendance.COMPLETED
                and hours is not None
                and (record.hours, record.completed_on) != (hours, completed_on)
            ):
                errors.add(
                    r.row,
                    "hours",
                    "该人员已登记结业，学时或日期不同",
                    "completion already recorded with other hours or date",
                )
        if r.certificate_number:
            number = r.certificate_number
            too_long(r.row, "certificate_number", number, CERTIFICATE_NUMBER_LENGTH, errors)
            if number in seen_numbers:
                errors.add(
                    r.row,
                    "certificate_number",
                    f"证书编号与第{seen_numbers[number]}行重复",
                    f"duplicate of row {seen_numbers[number]}",
                )
            seen_numbers.setdefault(number, r.row)
            cert = taken.get(number)
            if cert is not None and (person is None or cert.person_user_id != person.user_id):
                errors.add(r.row, "certificate_number", "证书编号已被使用", "certificate number already used")
            if training.kind == TrainingKind.OTHER:
                errors.add(
                    r.row, "certificate_number", "该类培训不发合格证", "this kind of training issues no certificate"
                )
        if errors.count == bad and person is not None and hours is not None and completed_on is not None:
            planned.append((r, person, hours, completed_on, expires_on))
    outcome = CompletionOutcome()
    if not batch.written:
        return outcome
    for r, person, hours, completed_on, expires_on in planned:
        record = existing.get(person.user_id)
        if record is None:
            record = Attendance(training, person.user_id, str(person.org_path), by=actor)
            uow.attendance.add(record)
            existing[person.user_id] = record
        try:
            changed = record.complete(training, hours, completed_on, by=actor)
            if r.certificate_number and r.certificate_number not in taken:
                cert = Certificate(
                    number=r.certificate_number,
                    person_user_id=person.user_id,
                    person_name=person.display_name,
                    person_org_path=str(person.org_path),
                    kind=training.kind,
                    level=training.level,
                    issuer=issuer,
                    issued_on=completed_on,
                    expires_on=expires_on,
                    training_id=training.id,
                    recorded_by=actor,
                )
                uow.certificates.add(cert)
                taken[cert.number] = cert
                outcome.certificates += 1
                changed = True
        except DomainError as exc:  # checked above; a rule the pre-check missed still names the row
            errors.add(r.row, exc.field or "_row", exc.zh, str(exc))
            continue
        if changed:
            outcome.written += 1
        else:
            outcome.unchanged += 1
    return outcome


def record_completions(
    uow: TrainingUnitOfWork, actor: Principal, training_id: uuid.UUID, rows: Sequence[CompletionRow]
) -> CompletionOutcome:
    """结业登记 in bulk from the API: every item valid or nothing written; item errors name `items.N.field`."""
    with uow:
        training = _training_in_scope(uow, actor, training_id, ADMIN)
        batch = RowBatch.all_or_nothing(actor, ADMIN)
        outcome = apply_completions(uow, training, rows, batch)
        if batch.errors.count:
            raise Unprocessable(
                f"{len(batch.errors.rows())} item(s) are invalid; nothing was recorded.",
                errors=[field_error(f"items.{e['row']}.{e['column']}", e["message"]) for e in batch.errors.items],
            )
        uow.audit(
            "completions_recorded",
            actor=actor.subject,
            target=str(training.id),
            details={"written": outcome.written, "unchanged": outcome.unchanged, "certificates": outcome.certificates},
        )
        uow.commit()
    metrics.COMPLETIONS.inc(outcome.written)
    metrics.CERTIFICATES_ISSUED.inc(outcome.certificates)
    return outcome


def list_attendance(
    uow: TrainingUnitOfWork, actor: Principal, training_id: uuid.UUID, *, after: str | None, limit: int
) -> list[Attendance]:
    with uow:
        _training_in_scope(uow, actor, training_id, *READERS)
        condition = within_any(attendance_table.c.person_org_path, actor.paths(*READERS))
        return uow.attendance.in_scope(training_id, condition, after=after, limit=limit)


# -- a person's summary ------------------------------------------------------------------------------
def person_summary(uow: TrainingUnitOfWork, actor: Principal, person_id: uuid.UUID) -> dict[str, Any]:
    """培训档案: hours per year and certificates, for the person themself or a reader in scope."""
    with uow:
        person = uow.people.get(person_id)
        if person is None:
            raise NotFound("No such person.")
        if actor.subject != str(person_id):
            actor.require_within(person.org_path, *READERS, what="person")
        years: dict[int, dict[str, Any]] = {}
        for record, training in uow.attendance.completed_by(person_id):
            assert record.completed_on is not None
            year = years.setdefault(
                record.completed_on.year,
                {"year": record.completed_on.year, "hours": 0.0, "trainings": 0, "centralized": 0},
            )
            year["hours"] = round(year["hours"] + float(record.hours or 0), 1)
            year["trainings"] += 1
            year["centralized"] += 1 if training.centralized else 0
        today = clock.today()
        certificates = [
            {
                "id": c.id,
                "number": c.number,
                "kind": c.kind,
                "level": c.level,
                "issuer": c.issuer,
                "issued_on": c.issued_on,
                "expires_on": c.expires_on,
                "standing": c.standing(today),
            }
            for c in uow.certificates.of_person(person_id)
        ]
        return {
            "person_user_id": person.user_id,
            "display_name": person.display_name,
            "org_code": person.org_code,
            "years": [years[y] for y in sorted(years)],
            "certificates": certificates,
        }
