"""合格证 claimed on a 推荐表 (seed 001 「参加过…培训并取得合格证者」): a certificate the school names that training's
records do not hold yet. The training administrator of the school's subtree confirms it, which records the
certificate (`training.certificate.issued`, so nominations' eligibility counts it), or rejects it with a reason
(`training.certificate.claim_rejected`, the school is told)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa

from shared import clock
from shared.contracts import consumes
from shared.contracts.nominations import CertificateClaimed
from shared.errors import Conflict, NotFound, Unprocessable, field_error
from shared.principal import Principal
from shared.scope import within_any
from training.adapters import metrics
from training.adapters.orm import certificate_claims
from training.domain.events import CertificateClaimRejected
from training.service_layer.certificates import CertificateRow, apply_certificate_rows
from training.service_layer.rows import RowBatch
from training.service_layer.trainings import ADMIN
from training.service_layer.unit_of_work import TrainingUnitOfWork

PENDING, CONFIRMED, REJECTED, SUPERSEDED = "pending", "confirmed", "rejected", "superseded"


@consumes(CertificateClaimed)
def on_certificate_claimed(event: CertificateClaimed, uow: TrainingUnitOfWork) -> None:
    """nominations.certificate.claimed: a pending claim; a newer claim of the same form supersedes the last."""
    claim_id = uuid.UUID(event.claim_id)
    c = certificate_claims.c
    if uow.session.execute(sa.select(c.id).where(c.id == claim_id)).first() is not None:
        return
    uow.session.execute(
        certificate_claims.update()
        .where(c.nomination_id == uuid.UUID(event.nomination_id), c.status == PENDING)
        .values(status=SUPERSEDED)
    )
    uow.session.execute(
        certificate_claims.insert().values(
            id=claim_id,
            nomination_id=uuid.UUID(event.nomination_id),
            person_user_id=uuid.UUID(event.person_user_id),
            person_name=event.person_name or "",
            school_org_path=event.school_org_path,
            number=event.number,
            kind=event.kind,
            level=event.level,
            issuer=event.issuer,
            issued_on=dt.date.fromisoformat(event.issued_on),
            status=PENDING,
            claimed_at=dt.datetime.fromisoformat(event.claimed_at) if event.claimed_at else clock.now(),
        )
    )


def list_claims(uow: TrainingUnitOfWork, principal: Principal, status: str | None) -> list[dict[str, Any]]:
    """The claims of the schools in the training administrator's subtree, oldest first."""
    with uow:
        c = certificate_claims.c
        query = sa.select(certificate_claims).where(within_any(c.school_org_path, principal.paths(ADMIN)))
        if status:
            query = query.where(c.status == status)
        return [dict(r._mapping) for r in uow.session.execute(query.order_by(c.claimed_at, c.id).limit(500))]


def decide_claim(
    uow: TrainingUnitOfWork, principal: Principal, claim_id: uuid.UUID, decision: str, note: str | None
) -> dict[str, Any]:
    with uow:
        c = certificate_claims.c
        row = uow.session.execute(
            sa.select(certificate_claims)
            .where(c.id == claim_id, within_any(c.school_org_path, principal.paths(ADMIN)))
            .with_for_update()
        ).first()
        if row is None:
            raise NotFound("No such claim.")
        if row.status != PENDING:
            raise Conflict(f"The claim is {row.status}.", errors=[field_error("status", f"already {row.status}")])
        at = clock.now()
        values: dict[str, Any] = {
            "decided_by": principal.subject,
            "decided_at": at,
            "note": (note or "").strip() or None,
        }
        if decision == "confirm":
            batch = RowBatch.all_or_nothing(principal, ADMIN)
            outcome = apply_certificate_rows(
                uow,
                [
                    CertificateRow(
                        row=0,
                        number=row.number,
                        person=str(row.person_user_id),
                        kind=row.kind,
                        level=row.level,
                        issuer=row.issuer,
                        issued_on=row.issued_on.isoformat(),
                        name=row.person_name,
                    )
                ],
                batch,
            )
            if batch.errors.count:
                raise Unprocessable(
                    "The claimed certificate cannot be recorded as given.",
                    errors=[field_error(e["column"], e["message"]) for e in batch.errors.items],
                )
            created = outcome.created[0] if outcome.created else None
            values.update(status=CONFIRMED, certificate_id=created.id if created is not None else None)
            if created is not None:
                metrics.CERTIFICATES_ISSUED.inc()
        else:
            if values["note"] is None:
                raise Unprocessable(errors=[field_error("note", "say why / 须说明原因")])
            values.update(status=REJECTED)
            uow.publish(
                CertificateClaimRejected.from_aggregate(
                    row, claim_id=row.id, note=values["note"], decided_by=principal.subject
                )
            )
        uow.session.execute(certificate_claims.update().where(c.id == claim_id).values(**values))
        uow.audit(
            f"certificate_claim.{values['status']}",
            actor=principal.subject,
            target=str(values.get("certificate_id") or claim_id),
            details={"claim_id": str(claim_id), "number": row.number, "note": values["note"]},
        )
        uow.commit()
        found = uow.session.execute(sa.select(certificate_claims).where(c.id == claim_id)).one()
        return dict(found._mapping)
