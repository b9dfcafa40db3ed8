"""Training's events are read off their aggregates (`EventContract.from_aggregate`): the data on the wire is what the
hand-written keyword lists built before, key for key and type for type (uuids, enums and dates as strings)."""

from __future__ import annotations

import datetime as dt
import uuid
from types import SimpleNamespace

from training.adapters.orm import certificate_claims
from training.domain import events
from training.domain.model import Attendance
from training.service_layer.compliance import Standing

from shared.contracts.base import EventContract
from shared.contracts.training import CertificateClaimRejected, RequirementUnmet
from tests.unit.training.test_domain import certificate, training


def same_data(built: EventContract, by_keyword: EventContract) -> None:
    assert type(built) is type(by_keyword)
    assert built.payload() == by_keyword.payload()
    assert built.data_as_sent() == by_keyword.data_as_sent()
    assert {k: type(v) for k, v in built.payload().items()} == {k: type(v) for k, v in by_keyword.payload().items()}


def test_a_completion_tells_what_it_told() -> None:
    course = training()
    person = uuid.uuid4()
    record = Attendance(course, person, "/4108/410802/4108020001", by="admin")
    record.complete(course, 20, dt.date(2024, 5, 8), by="admin")
    same_data(
        record.events[-1],
        events.TrainingCompleted(
            training_id=str(course.id),
            person_user_id=str(person),
            kind=course.kind.value,
            level=course.level.value,
            centralized=course.centralized,
            hours=20.0,  # the hours as checked (check_hours): a float
            completed_on="2024-05-08",
            year=2024,
        ),
    )


def test_a_certificate_issued_and_revoked_tells_what_it_told() -> None:
    course_id = uuid.uuid4()
    for training_id, expires_on in ((None, dt.date(2027, 5, 8)), (course_id, None)):
        issued = certificate(training_id=training_id, expires_on=expires_on)
        same_data(
            issued.events[-1],
            events.CertificateIssued(
                certificate_id=str(issued.id),
                number="JF-1",
                person_user_id=str(issued.person_user_id),
                person_name="王晓明",
                kind=issued.kind.value,
                level=issued.level.value,
                issuer="解放区教育局",
                issued_on="2024-05-08",
                expires_on=expires_on.isoformat() if expires_on else None,
                training_id=str(training_id) if training_id else None,
            ),
        )
    revoked = certificate()
    revoked.revoke(" 伪造 ", by="admin")
    assert revoked.revoked_at is not None
    same_data(
        revoked.events[-1],
        events.CertificateRevoked(
            certificate_id=str(revoked.id),
            number="JF-1",
            person_user_id=str(revoked.person_user_id),
            kind=revoked.kind.value,
            level=revoked.level.value,
            reason="伪造",
            revoked_at=revoked.revoked_at.isoformat(),
        ),
    )


def test_a_requirement_unmet_tells_what_it_told() -> None:
    person = uuid.uuid4()
    standing = Standing(
        appointment_id=str(uuid.uuid4()), person_user_id=person, person_name="王晓明", org_code="4108020001",
        org_path="/4108/410802/4108020001", required=2, completed=1, hours=24.0,
    )  # fmt: skip
    same_data(
        RequirementUnmet.from_aggregate(standing, year=2024),
        RequirementUnmet(
            person_user_id=str(person),
            appointment_id=standing.appointment_id,
            org_code="4108020001",
            org_path="/4108/410802/4108020001",
            year=2024,
            required=2,
            completed=1,
        ),
    )


def test_a_rejected_claim_tells_what_it_told() -> None:
    # the claim as its row reads (every column of certificate_claims): only the contract's fields are taken
    row = SimpleNamespace(**{c.name: None for c in certificate_claims.columns})
    row.__dict__.update(
        id=uuid.uuid4(), nomination_id=uuid.uuid4(), person_user_id=uuid.uuid4(), person_name="王晓明",
        school_org_path="/4108/410802/4108020001", number="JF-9", kind="cio", level="county", issuer="解放区教育局",
        issued_on=dt.date(2024, 5, 8), status="pending",
    )  # fmt: skip
    same_data(
        CertificateClaimRejected.from_aggregate(row, claim_id=row.id, note="查无此证", decided_by="admin"),
        CertificateClaimRejected(
            claim_id=str(row.id),
            nomination_id=str(row.nomination_id),
            person_user_id=str(row.person_user_id),
            school_org_path=row.school_org_path,
            number=row.number,
            note="查无此证",
            decided_by="admin",
        ),
    )
