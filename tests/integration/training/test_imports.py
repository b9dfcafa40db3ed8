"""Bulk imports with real files: a bad file is refused whole with its report, the same file twice adds
nothing, and a 10,000-row XLSX goes through the worker with a job that can be polled."""

from __future__ import annotations

import datetime as dt
import io
import threading
import time
import uuid

import openpyxl
import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, insert, select
from training.adapters.orm import attendance, certificates
from training.bootstrap import TrainingService
from training.service_layer import imports

from shared.bus.tables import outbox
from shared.directory import directory_users as people
from shared.worker import PeriodicTask
from tests.helpers import wait_until
from tests.integration.training.conftest import COUNTY_ADMIN, create_training
from tests.tokens import TestIssuer

pytestmark = pytest.mark.integration

HEADER = "证书编号,用户名,姓名,培训类别,培训级别,发证机构,发证日期,有效期至\n"


def upload(client: FlaskClient, url: str, headers: dict[str, str], content: bytes, name: str, mode: str = "") -> object:
    data: dict[str, object] = {"file": (io.BytesIO(content), name)}
    if mode:
        data["mode"] = mode
    return client.post(url, data=data, headers=headers, content_type="multipart/form-data")


def count(service: TrainingService, table: object, *where: object) -> int:
    with service.session_factory() as session:
        query = select(func.count()).select_from(table).where(*where)  # type: ignore[arg-type]
        return int(session.execute(query).scalar_one())


def test_a_file_with_bad_rows_is_refused_whole_with_a_report(
    client: FlaskClient, issuer: TestIssuer, training_service: TrainingService
) -> None:
    county = issuer.headers("admin-1", COUNTY_ADMIN)
    content = (
        HEADER
        + "JF-1,wang.xiaoming,王晓明,首席信息官培训,县级,解放区教育局,2024-05-08,\n"
        + "JF-2,li.hua,李华,信息化业务培训,火星级,解放区教育局,2024/5/8,\n"
        + "JF-3,zhao.gang,赵刚,其他,市级,焦作市教育局,2024年5月8日,\n"
        + "JF-1,li.hua,李华,其他,市级,焦作市教育局,not-a-date,\n"
    ).encode()
    refused = upload(client, "/api/certificates/imports", county, content, "certs.csv")
    assert refused.status_code == 422
    assert refused.headers["Content-Type"] == "application/problem+json"
    report = {(e["row"], e["column"]) for e in refused.json["errors"]}
    assert report == {(3, "培训级别"), (4, "用户名"), (5, "证书编号"), (5, "发证日期")}
    assert all(e["message"] and e["message_zh"] for e in refused.json["errors"])
    assert refused.json["job"]["status"] == "rejected" and refused.json["job"]["rows_failed"] == 3
    assert count(training_service, certificates) == 0
    assert count(training_service, outbox) == 0

    # the same file again: the same job, the same answer, nothing written
    again = upload(client, "/api/certificates/imports", county, content, "certs.csv")
    assert again.status_code == 422 and again.json["job"]["id"] == refused.json["job"]["id"]

    # asked for the good rows only: they are written and the report comes back
    partial = upload(client, "/api/certificates/imports", county, content, "certs.csv", mode="good_rows_only")
    assert partial.status_code == 201, partial.json
    assert (partial.json["status"], partial.json["rows_written"], partial.json["rows_failed"]) == ("done", 1, 3)
    assert len(partial.json["errors"]) == 4
    assert count(training_service, certificates) == 1
    job = client.get(f"/api/trainings/imports/{partial.json['id']}", headers=county)
    assert job.status_code == 200 and job.json["rows_written"] == 1
    assert (
        client.get(
            f"/api/trainings/imports/{partial.json['id']}",
            headers=issuer.headers("x", ("training_admin", "/4108/410821")),
        ).status_code
        == 404
    )


def test_a_missing_column_or_unreadable_file_is_refused(client: FlaskClient, issuer: TestIssuer) -> None:
    county = issuer.headers("admin-1", COUNTY_ADMIN)
    missing = upload(client, "/api/certificates/imports", county, "证书编号,用户名\nA,b\n".encode(), "c.csv")
    assert missing.status_code == 422
    assert {e["column"] for e in missing.json["errors"]} == {"kind", "level", "issuer", "issued_on"}
    broken = upload(client, "/api/certificates/imports", county, b"PK\x03\x04garbage", "c.xlsx")
    assert broken.status_code == 422 and broken.json["errors"][0]["column"] == "file"
    assert upload(client, "/api/certificates/imports", county, b"", "c.csv").status_code == 422


def test_reuploading_the_same_attendance_file_adds_nothing(
    client: FlaskClient, issuer: TestIssuer, training_service: TrainingService
) -> None:
    county = issuer.headers("admin-1", COUNTY_ADMIN)
    training = create_training(client, county)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["用户名", "姓名", "学时", "结业日期", "证书编号"])
    sheet.append(["wang.xiaoming", "王晓明", 24, dt.datetime(2024, 5, 8), "JF-9"])  # noqa: DTZ001 - Excel cells carry no zone
    sheet.append(["li.hua", "李华", 12.5, "2024-05-08", None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    content = buffer.getvalue()
    url = f"/api/trainings/{training['id']}/attendance/imports"
    first = upload(client, url, county, content, "名单.xlsx")
    assert first.status_code == 201, first.json
    assert (first.json["status"], first.json["rows_written"]) == ("done", 2)
    second = upload(client, url, county, content, "名单.xlsx")
    assert second.status_code == 200 and second.headers["Idempotent-Replayed"] == "true"
    assert second.json["id"] == first.json["id"]
    # uploaded as good-rows-only it is another job, but every row is already recorded
    third = upload(client, url, county, content, "名单.xlsx", mode="good_rows_only")
    assert (third.json["rows_written"], third.json["rows_unchanged"]) == (0, 2)
    assert count(training_service, attendance) == 2
    assert count(training_service, certificates) == 1
    assert count(training_service, outbox, outbox.c.type == "training.training.completed") == 2
    assert count(training_service, outbox, outbox.c.type == "training.certificate.issued") == 1


def test_a_10000_row_xlsx_imports_through_the_worker(
    client: FlaskClient, issuer: TestIssuer, training_service: TrainingService
) -> None:
    started = time.monotonic()
    rows = 10_000
    ids = [uuid.uuid4() for _ in range(rows)]
    with training_service.session_factory() as session, session.begin():
        now = dt.datetime.now(dt.UTC)
        session.execute(
            insert(people),
            [
                {
                    "user_id": i,
                    "username": f"t{n:05d}",
                    "display_name": f"教师{n}",
                    "org_code": "4108020001",
                    "is_active": True,
                    "updated_at": now,
                }
                for n, i in enumerate(ids)
            ],
        )
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["证书编号", "用户名", "培训类别", "培训级别", "发证机构", "发证日期"])
    for n in range(rows):
        sheet.append([f"BULK-{n:05d}", f"t{n:05d}", "首席信息官培训", "市级", "焦作市教育局", dt.date(2024, 6, 1)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert len(buffer.getvalue()) > training_service.rules.inline_import_bytes

    county = issuer.headers("admin-1", COUNTY_ADMIN)
    queued = upload(client, "/api/certificates/imports", county, buffer.getvalue(), "bulk.xlsx")
    assert queued.status_code == 202, queued.json
    assert queued.json["status"] == "queued"

    stop = threading.Event()
    worker = PeriodicTask("training-imports", 0.1, lambda: imports.process_pending(training_service.uow))
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:

        def finished() -> dict | None:
            job = client.get(queued.headers["Location"], headers=county).json
            return job if job["status"] in ("done", "rejected", "failed") else None

        job = wait_until(finished, timeout=30, interval=0.2, message="the import job to finish")
    finally:
        stop.set()
        thread.join(timeout=30)
    assert (job["status"], job["rows_total"], job["rows_written"], job["errors"]) == ("done", rows, rows, [])
    assert count(training_service, certificates) == rows
    assert count(training_service, outbox, outbox.c.type == "training.certificate.issued") == rows
    again = upload(client, "/api/certificates/imports", county, buffer.getvalue(), "bulk.xlsx")
    assert again.status_code == 200 and again.json["id"] == job["id"]
    assert count(training_service, certificates) == rows
    assert time.monotonic() - started < 30
