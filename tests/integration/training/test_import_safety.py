"""Issue 14, findings 6 and 7 in training: only a training administrator imports, a workbook that is a
decompression bomb is refused before openpyxl parses it, over-long cells are row errors, and a job whose
worker keeps dying is failed after a bounded number of attempts instead of being taken forever."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import openpyxl
import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from training.adapters.orm import import_jobs
from training.bootstrap import TrainingService
from training.domain.model import ImportJob, ImportKind, ImportMode
from training.service_layer import imports

from tests.integration.training.conftest import COUNTY_ADMIN
from tests.integration.training.test_imports import HEADER, upload
from tests.tokens import TestIssuer

pytestmark = pytest.mark.integration

SCHOOL_ADMIN = ("school_admin", "/4108/410802/4108020001")
ROW = "JF-9,wang.xiaoming,王晓明,首席信息官培训,县级,解放区教育局,2024-05-08,\n"


def jobs(service: TrainingService) -> int:
    with service.session_factory() as session:
        return int(session.execute(select(func.count()).select_from(import_jobs)).scalar_one())


def test_certificate_import_needs_the_training_admin_role(
    client: FlaskClient, issuer: TestIssuer, training_service: TrainingService
) -> None:
    school = issuer.headers("school-1", SCHOOL_ADMIN)
    refused = upload(client, "/api/certificates/imports", school, (HEADER + ROW).encode(), "certs.csv")
    assert refused.status_code == 403 and refused.headers["Content-Type"] == "application/problem+json"
    assert jobs(training_service) == 0  # nothing stored for someone who may not import


def zip_bomb_workbook() -> bytes:
    """A valid certificate workbook with one extra part of 50 MiB of zeros: about 50 KiB on the wire."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["证书编号", "用户名", "培训类别", "培训级别", "发证机构", "发证日期"])
    out = io.BytesIO()
    book.save(out)
    with zipfile.ZipFile(out, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/image1.png", b"\0" * (50 * 1024 * 1024))
    return out.getvalue()


def test_a_decompression_bomb_workbook_is_refused_before_parsing(
    client: FlaskClient, issuer: TestIssuer, training_service: TrainingService
) -> None:
    content = zip_bomb_workbook()
    assert len(content) < 200 * 1024
    county = issuer.headers("admin-1", COUNTY_ADMIN)
    refused = upload(client, "/api/certificates/imports", county, content, "bomb.xlsx")
    assert refused.status_code == 422
    [error] = refused.json["errors"]
    assert error["column"] == "file" and "decompression bomb" in error["message"] and error["message_zh"]


def test_over_long_certificate_cells_are_row_errors_not_a_failed_import(
    client: FlaskClient, issuer: TestIssuer, training_service: TrainingService
) -> None:
    county = issuer.headers("admin-1", COUNTY_ADMIN)
    row = f"{'N' * 65},wang.xiaoming,王晓明,首席信息官培训,县级,{'局' * 201},2024-05-08,\n"
    refused = upload(client, "/api/certificates/imports", county, (HEADER + row).encode(), "long.csv")
    assert refused.status_code == 422
    assert {(e["row"], e["column"]) for e in refused.json["errors"]} == {(2, "证书编号"), (2, "发证机构")}


class WorkerDied(BaseException):
    """What a worker killed mid-import looks like from the job's side: it never returns or records."""


def test_a_job_whose_worker_keeps_dying_is_failed_after_three_attempts(
    training_service: TrainingService, monkeypatch: pytest.MonkeyPatch
) -> None:
    with training_service.uow() as uow:
        job = ImportJob(
            kind=ImportKind.CERTIFICATES,
            mode=ImportMode.ALL_OR_NOTHING,
            training_id=None,
            filename="certs.csv",
            file_format="csv",
            content=(HEADER + ROW).encode(),
            content_hash="d" * 64,
            created_by="admin-1",
            actor_paths=[COUNTY_ADMIN[1]],
        )
        uow.imports.add(job)
        uow.commit()
        job_id = job.id

    def dies(uow_factory: object, job_id: object) -> ImportJob:
        raise WorkerDied

    monkeypatch.setattr(imports, "run_import", dies)
    now = dt.datetime.now(dt.UTC)
    for attempt in range(imports.MAX_ATTEMPTS):
        # each later claim comes after the dead worker's heartbeat went stale
        with pytest.raises(WorkerDied):
            imports.process_next(training_service.uow, now + attempt * 2 * imports.STALE_AFTER)
    given_up = imports.process_next(training_service.uow, now + 10 * imports.STALE_AFTER)
    assert given_up is not None and given_up.id == job_id
    with training_service.uow() as uow:
        stored = uow.imports.get(job_id)
        assert stored is not None
        assert (stored.status, stored.attempts, stored.content) == (ImportJob.FAILED, imports.MAX_ATTEMPTS, None)
        assert "not tried again" in (stored.detail or "")
    assert imports.process_next(training_service.uow, now + 20 * imports.STALE_AFTER) is None
