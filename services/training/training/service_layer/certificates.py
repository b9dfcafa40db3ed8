"""Handlers for certificates (合格证): recording, revocation, reading in scope and public verification."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shared import clock
from shared.errors import Conflict, NotFound, Unprocessable, field_error, refused
from shared.principal import Principal
from shared.scope import path_within, within_any
from training.adapters import metrics
from training.adapters.orm import certificates as certificates_table
from training.domain.model import Certificate, DomainError, mask_name, parse_kind, parse_level
from training.service_layer.rows import (
    CERTIFICATE_NUMBER_LENGTH,
    ISSUER_LENGTH,
    RowBatch,
    parse_date,
    resolve_people,
    too_long,
)
from training.service_layer.trainings import ADMIN, READERS
from training.service_layer.unit_of_work import TrainingUnitOfWork


@dataclass(frozen=True)
class CertificateRow:
    """One certificate to record, from the API or from a line of an import file."""

    row: int
    number: str
    person: str
    kind: Any
    level: Any
    issuer: str
    issued_on: Any
    expires_on: Any = None
    training_id: Any = None
    name: str | None = None


@dataclass
class CertificateOutcome:
    written: int = 0
    unchanged: int = 0
    created: list[Certificate] | None = None


def apply_certificate_rows(
    uow: TrainingUnitOfWork,
    rows: Sequence[CertificateRow],
    batch: RowBatch,
) -> CertificateOutcome:
    """Validate every row, then write the good ones (unless any is bad and the caller wants all or none).
    Re-recording an existing certificate (same number, person, kind, level, date) is "unchanged"."""
    actor, actor_paths, errors = batch.actor, batch.actor_paths, batch.errors
    resolved = resolve_people(uow, [(r.row, r.person, r.name) for r in rows], actor_paths, errors)
    taken = uow.certificates.by_numbers([r.number.strip() for r in rows if r.number and r.number.strip()])
    seen: dict[str, int] = {}
    planned: list[tuple[CertificateRow, Any]] = []
    for r in rows:
        bad = errors.count
        number = (r.number or "").strip()
        kind = parse_kind(r.kind)
        level = parse_level(r.level)
        issued_on = parse_date(r.issued_on, r.row, "issued_on", errors, required=True)
        expires_on = parse_date(r.expires_on, r.row, "expires_on", errors, required=False)
        if not number:
            errors.add(r.row, "number", "证书编号不能为空", "number is required")
        elif number in seen:
            errors.add(r.row, "number", f"证书编号与第{seen[number]}行重复", f"duplicate of row {seen[number]}")
        seen.setdefault(number, r.row)
        if kind is None:
            errors.add(
                r.row,
                "kind",
                "培训类别无效（首席信息官培训/信息化业务培训/其他）",
                "kind must be cio, informatization or other",
            )
        if level is None:
            errors.add(
                r.row,
                "level",
                "培训级别无效（国家级/省级/市级/县级/校级）",
                "level must be national, provincial, city, county or school",
            )
        if not (r.issuer or "").strip():
            errors.add(r.row, "issuer", "发证机构不能为空", "issuer is required")
        too_long(r.row, "issuer", r.issuer or "", ISSUER_LENGTH, errors)
        too_long(r.row, "number", number, CERTIFICATE_NUMBER_LENGTH, errors)
        training_id = None
        if r.training_id not in (None, ""):
            try:
                training_id = uuid.UUID(str(r.training_id))
            except ValueError:
                errors.add(r.row, "training_id", "培训ID无效", "training_id is not a valid id")
            else:
                training = uow.trainings.get(training_id)
                if training is None or not any(path_within(training.organiser_org_path, p) for p in actor_paths):
                    errors.add(r.row, "training_id", "培训不存在", "no such training")
        person = resolved.get(r.row)
        existing = taken.get(number)
        unchanged = False
        if existing is not None and person is not None and kind is not None and level is not None and issued_on:
            if existing.same_as(person.user_id, kind, level, issued_on):
                unchanged = True
            else:
                errors.add(r.row, "number", "证书编号已被其他证书使用", "number already used by another certificate")
        if errors.count > bad or person is None or kind is None or level is None or issued_on is None:
            continue
        if unchanged:
            planned.append((r, None))
            continue
        try:
            cert = Certificate(
                number=number,
                person_user_id=person.user_id,
                person_name=person.display_name,
                person_org_path=str(person.org_path),
                kind=kind,
                level=level,
                issuer=r.issuer,
                issued_on=issued_on,
                expires_on=expires_on,
                training_id=training_id,
                recorded_by=actor,
            )
        except DomainError as exc:
            errors.add(r.row, exc.field or "_row", exc.zh, str(exc))
            continue
        planned.append((r, cert))
    outcome = CertificateOutcome(created=[])
    if not batch.written:
        return outcome
    for _r, cert in planned:
        if cert is None:
            outcome.unchanged += 1
            continue
        uow.certificates.add(cert)
        assert outcome.created is not None
        outcome.created.append(cert)
        outcome.written += 1
    return outcome


def record_certificate(uow: TrainingUnitOfWork, actor: Principal, row: CertificateRow) -> Certificate:
    """登记合格证: for a training here or one held elsewhere; the person must be in the admin's subtree."""
    with uow:
        batch = RowBatch.all_or_nothing(actor, ADMIN)
        outcome = apply_certificate_rows(uow, [row], batch)
        errors = batch.errors
        if errors.count:
            if any(e["column"] == "person" for e in errors.items):
                raise NotFound("No such person.", errors=[field_error("person_user_id", "not found")])
            if any(e["column"] == "number" and "already used" in e["message"] for e in errors.items):
                raise Conflict(
                    "This certificate number is already used.", errors=[field_error("number", "already used")]
                )
            raise Unprocessable(
                "Some fields are invalid.", errors=[field_error(e["column"], e["message"]) for e in errors.items]
            )
        if outcome.unchanged:
            existing = uow.certificates.by_number(row.number.strip())
            assert existing is not None
            return existing
        assert outcome.created
        cert = outcome.created[0]
        uow.audit("certificate_recorded", actor=actor.subject, target=str(cert.id), details={"number": cert.number})
        uow.commit()
    metrics.CERTIFICATES_ISSUED.inc()
    return cert


def _certificate_in_scope(
    uow: TrainingUnitOfWork, actor: Principal, certificate_id: uuid.UUID, *roles: str, holder_may: bool = False
) -> Certificate:
    cert = uow.certificates.get(certificate_id)
    if cert is None:
        raise NotFound("No such certificate.")
    if not (holder_may and actor.subject == str(cert.person_user_id)):
        actor.require_within(cert.person_org_path, *roles, what="certificate")
    return cert


def get_certificate(uow: TrainingUnitOfWork, actor: Principal, certificate_id: uuid.UUID) -> Certificate:
    with uow:
        return _certificate_in_scope(uow, actor, certificate_id, *READERS, holder_may=True)


def revoke_certificate(
    uow: TrainingUnitOfWork, actor: Principal, certificate_id: uuid.UUID, reason: str
) -> Certificate:
    """撤销合格证 with a reason; nominations stops counting it when the event arrives."""
    with uow:
        cert = _certificate_in_scope(uow, actor, certificate_id, ADMIN)
        try:
            cert.revoke(reason, by=actor.subject)
        except DomainError as exc:
            if exc.field == "status":
                raise Conflict(str(exc), errors=[field_error("status", str(exc))]) from exc
            raise refused(exc) from exc
        uow.audit(
            "certificate_revoked", actor=actor.subject, target=str(cert.id), details={"reason": cert.revoked_reason}
        )
        uow.commit()
    metrics.CERTIFICATES_REVOKED.inc()
    return cert


def list_certificates(
    uow: TrainingUnitOfWork,
    actor: Principal,
    *,
    person: uuid.UUID | None,
    status: str | None,
    after: str | None,
    limit: int,
) -> list[Certificate]:
    with uow:
        condition = within_any(certificates_table.c.person_org_path, actor.paths(*READERS))
        if person is not None and str(person) == actor.subject:
            condition = condition | (certificates_table.c.person_user_id == person)
        return uow.certificates.in_scope(condition, person=person, status=status, after=after, limit=limit)


def verify(uow: TrainingUnitOfWork, number: str, today: dt.date | None = None) -> dict[str, Any]:
    """证书查验: anyone holding a printed certificate may check it; only the masked name is shown."""
    with uow:
        cert = uow.certificates.by_number(number.strip())
        if cert is None:
            raise NotFound("No certificate has this number.")
        return {
            "number": cert.number,
            "status": cert.standing(today or clock.today()),
            "holder": mask_name(cert.person_name),
            "kind": cert.kind,
            "level": cert.level,
            "issuer": cert.issuer,
            "issued_on": cert.issued_on,
            "expires_on": cert.expires_on,
            "revoked_on": cert.revoked_at.date() if cert.revoked_at else None,
        }
