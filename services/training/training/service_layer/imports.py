"""Bulk import (批量导入) of attendance or certificates from CSV / XLSX, as a job with a per-row report.

The whole file is validated first; with any bad row nothing is written, unless the caller asked for the
good rows only. The same file uploaded again by the same person for the same target finds the same job
(the job's key is a hash of kind, target, mode, uploader and content), and rows already recorded count
as unchanged, so nothing is added twice. Small files run inline; large ones wait for the worker.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy.exc import IntegrityError

from shared.errors import Forbidden, NotFound, Unprocessable, field_error, row_error
from shared.principal import Principal
from shared.scope import path_within
from shared.tabular import UnreadableFile, detect_format, read_table
from training.adapters import metrics
from training.domain.model import ImportJob, ImportKind, ImportMode
from training.service_layer.certificates import CertificateRow, apply_certificate_rows
from training.service_layer.rows import RowBatch
from training.service_layer.trainings import ADMIN, READERS, CompletionRow, apply_completions
from training.service_layer.unit_of_work import TrainingUnitOfWork

log = logging.getLogger(__name__)

MAX_ROWS = 50_000
STALE_AFTER = dt.timedelta(minutes=10)
MAX_ATTEMPTS = 3  # a job whose worker died this often is failed, not taken again forever

# canonical column → the headers bureaus use for it
COLUMNS: dict[ImportKind, dict[str, tuple[str, ...]]] = {
    ImportKind.ATTENDANCE: {
        "person": ("person", "username", "user_id", "用户名", "用户ID", "账号"),
        "name": ("name", "姓名"),
        "hours": ("hours", "学时"),
        "completed_on": ("completed_on", "结业日期", "完成日期"),
        "certificate_number": ("certificate_number", "证书编号"),
        "certificate_expires_on": ("certificate_expires_on", "有效期至"),
    },
    ImportKind.CERTIFICATES: {
        "number": ("number", "证书编号"),
        "person": ("person", "username", "user_id", "用户名", "用户ID", "账号"),
        "name": ("name", "姓名"),
        "kind": ("kind", "培训类别", "类别"),
        "level": ("level", "培训级别", "级别"),
        "issuer": ("issuer", "发证机构", "发证单位"),
        "issued_on": ("issued_on", "发证日期"),
        "expires_on": ("expires_on", "有效期至"),
        "training_id": ("training_id", "培训ID"),
    },
}
REQUIRED: dict[ImportKind, tuple[str, ...]] = {
    ImportKind.ATTENDANCE: ("person", "hours", "completed_on"),
    ImportKind.CERTIFICATES: ("number", "person", "kind", "level", "issuer", "issued_on"),
}

UowFactory = Callable[[], TrainingUnitOfWork]


def job_key(kind: ImportKind, training_id: uuid.UUID | None, mode: ImportMode, uploader: str, content: bytes) -> str:
    digest = hashlib.sha256()
    for part in (kind.value, str(training_id or ""), mode.value, uploader):
        digest.update(part.encode())
        digest.update(b"\x00")
    digest.update(content)
    return digest.hexdigest()


def submit_import(
    uow_factory: UowFactory,
    actor: Principal,
    *,
    kind: ImportKind,
    mode: ImportMode,
    training_id: uuid.UUID | None,
    filename: str,
    content: bytes,
    inline_max_bytes: int,
) -> tuple[ImportJob, bool]:
    """Store the upload as a job (or find the job of the same upload); run it now if the file is small.
    Returns the job and whether it already existed. Only a training administrator imports, whether or
    not a training is named: a certificate import names none, and once let anyone signed in upload."""
    if not actor.has_role(ADMIN):
        raise Forbidden(f"Only a {ADMIN} imports attendance or certificates.")
    if not content:
        raise Unprocessable("The file is empty.", errors=[field_error("file", "empty", "files")])
    key = job_key(kind, training_id, mode, actor.subject, content)
    uow = uow_factory()
    with uow:
        if training_id is not None:
            training = uow.trainings.get(training_id)
            if training is None:
                raise NotFound("No such training.")
            actor.require_within(training.organiser_org_path, ADMIN, what="training")
        existing = uow.imports.by_hash(key)
        if existing is not None and existing.status not in (ImportJob.FAILED, ImportJob.REJECTED):
            return existing, True
        if existing is not None:
            # A failed or refused run may be tried again with the same file: what made rows bad (e.g. a
            # person not yet known from identity) may have changed since. Nothing of it was written.
            job = existing
            job.status, job.content, job.errors, job.detail = ImportJob.QUEUED, content, [], None
        else:
            job = ImportJob(
                kind=kind,
                mode=mode,
                training_id=training_id,
                filename=filename,
                file_format=detect_format(content, filename),
                content=content,
                content_hash=key,
                created_by=actor.subject,
                actor_paths=actor.paths(ADMIN),
            )
            uow.imports.add(job)
        uow.audit(
            "import_submitted",
            actor=actor.subject,
            target=str(job.id),
            details={"kind": kind.value, "mode": mode.value},
        )
        try:
            uow.commit()
        except IntegrityError:  # the same upload raced us: answer with its job
            uow.rollback()
            raced = uow.imports.by_hash(key)
            assert raced is not None
            return raced, True
    if len(content) <= inline_max_bytes:
        return run_import(uow_factory, job.id), False
    return job, False


def get_job(uow: TrainingUnitOfWork, actor: Principal, job_id: uuid.UUID) -> ImportJob:
    with uow:
        job = uow.imports.get(job_id)
        if job is None or (
            job.created_by != actor.subject
            and not any(any(path_within(p, grant) for grant in actor.paths(*READERS)) for p in job.actor_paths)
        ):
            raise NotFound("No such import job.")
        return job


def _column_map(kind: ImportKind, header: list[str]) -> tuple[dict[str, int], dict[str, str], list[dict[str, Any]]]:
    """canonical column → index and → the header as written; errors for required columns that are missing."""
    index: dict[str, int] = {}
    written: dict[str, str] = {}
    lowered = [h.strip().lower() for h in header]
    for canonical, aliases in COLUMNS[kind].items():
        for alias in aliases:
            if alias.lower() in lowered:
                index[canonical] = lowered.index(alias.lower())
                written[canonical] = header[index[canonical]]
                break
    missing = [c for c in REQUIRED[kind] if c not in index]
    errors = [
        row_error(
            1,
            c,
            f"missing column {c} (one of: {', '.join(COLUMNS[kind][c])})",
            f"缺少列：{'/'.join(a for a in COLUMNS[kind][c] if not a.isascii()) or c}",
        )
        for c in missing
    ]
    return index, written, errors


def _records(rows: Iterator[tuple[int, list[Any]]], index: dict[str, int]) -> list[tuple[int, dict[str, Any]]]:
    out: list[tuple[int, dict[str, Any]]] = []
    for line, values in rows:
        record = {c: (values[i] if i < len(values) else None) for c, i in index.items()}
        out.append((line, record))
        if len(out) > MAX_ROWS:
            raise UnreadableFile(f"at most {MAX_ROWS} rows per file", f"每个文件最多{MAX_ROWS}行")
    return out


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def run_import(uow_factory: UowFactory, job_id: uuid.UUID) -> ImportJob:
    """Process one job to the end: validate every row, then write in one transaction with its events."""
    uow = uow_factory()
    with uow:
        job = uow.imports.get(job_id, lock=True)
        if job is None:
            raise NotFound("No such import job.")
        if job.finished:
            return job
        job.start()
        content, kind, file_format = job.content or b"", job.kind, job.file_format
        uow.commit()
    try:
        header, raw_rows = read_table(content, file_format)
        index, written_headers, header_errors = _column_map(kind, header)
        records = _records(raw_rows, index) if not header_errors else []
    except UnreadableFile as exc:
        return _refuse(uow_factory, job_id, [row_error(0, "file", str(exc), exc.zh)])
    if header_errors:
        return _refuse(uow_factory, job_id, header_errors)
    _progress(uow_factory, job_id, total=len(records))
    try:
        return _apply(uow_factory, job_id, records, written_headers)
    except Exception as exc:
        log.exception("import failed", extra={"job_id": str(job_id)})
        with uow_factory() as failing:
            failed = failing.imports.get(job_id, lock=True)
            assert failed is not None
            failed.fail(f"{type(exc).__name__}: {exc}"[:2000])
            failing.commit()
        metrics.IMPORT_JOBS.labels(kind.value, "failed").inc()
        return failed


def _refuse(uow_factory: UowFactory, job_id: uuid.UUID, errors: list[dict[str, Any]]) -> ImportJob:
    with uow_factory() as uow:
        job = uow.imports.get(job_id, lock=True)
        assert job is not None
        job.reject(errors)
        uow.audit("import_rejected", actor=job.created_by, target=str(job.id), details={"errors": len(errors)})
        uow.commit()
    metrics.IMPORT_JOBS.labels(job.kind.value, ImportJob.REJECTED).inc()
    return job


def _progress(uow_factory: UowFactory, job_id: uuid.UUID, *, total: int) -> None:
    with uow_factory() as uow:
        job = uow.imports.get(job_id, lock=True)
        assert job is not None
        job.rows_total = total
        job.heartbeat_at = dt.datetime.now(dt.UTC)
        uow.commit()


def _apply(
    uow_factory: UowFactory, job_id: uuid.UUID, records: list[tuple[int, dict[str, Any]]], headers: dict[str, str]
) -> ImportJob:
    uow = uow_factory()
    with uow:
        job = uow.imports.get(job_id, lock=True)
        assert job is not None
        batch = RowBatch(job.created_by, job.actor_paths, write_good_rows=job.mode == ImportMode.GOOD_ROWS_ONLY)
        certificates = 0
        if job.kind == ImportKind.ATTENDANCE:
            training = uow.trainings.get(job.training_id) if job.training_id else None
            if training is None or not any(path_within(training.organiser_org_path, p) for p in job.actor_paths):
                raise NotFound("The training of this import is gone or out of scope.")
            completion = apply_completions(
                uow,
                training,
                [
                    CompletionRow(
                        row=line,
                        person=_text(r.get("person")),
                        name=_text(r.get("name")) or None,
                        hours=r.get("hours"),
                        completed_on=r.get("completed_on"),
                        certificate_number=_text(r.get("certificate_number")) or None,
                        certificate_expires_on=r.get("certificate_expires_on"),
                    )
                    for line, r in records
                ],
                batch,
            )
            written, unchanged, certificates = completion.written, completion.unchanged, completion.certificates
        else:
            outcome = apply_certificate_rows(
                uow,
                [
                    CertificateRow(
                        row=line,
                        number=_text(r.get("number")),
                        person=_text(r.get("person")),
                        name=_text(r.get("name")) or None,
                        kind=r.get("kind"),
                        level=r.get("level"),
                        issuer=_text(r.get("issuer")),
                        issued_on=r.get("issued_on"),
                        expires_on=r.get("expires_on"),
                        training_id=_text(r.get("training_id")) or None,
                    )
                    for line, r in records
                ],
                batch,
            )
            written, unchanged, certificates = outcome.written, outcome.unchanged, outcome.written
        report = [{**e, "column": headers.get(e["column"], e["column"])} for e in batch.errors.items]
        job.finish(written=written, unchanged=unchanged, errors=report, total=len(records))
        uow.audit(
            "import_applied" if job.status == ImportJob.DONE else "import_rejected",
            actor=job.created_by,
            target=str(job.id),
            details={"written": job.rows_written, "unchanged": job.rows_unchanged, "failed": job.rows_failed},
        )
        uow.commit()
    metrics.IMPORT_JOBS.labels(job.kind.value, job.status).inc()
    metrics.IMPORT_ROWS.labels(job.kind.value, "written").inc(job.rows_written)
    metrics.IMPORT_ROWS.labels(job.kind.value, "unchanged").inc(job.rows_unchanged)
    metrics.IMPORT_ROWS.labels(job.kind.value, "failed").inc(job.rows_failed)
    if job.status == ImportJob.DONE:
        if job.kind == ImportKind.ATTENDANCE:
            metrics.COMPLETIONS.inc(written)
        metrics.CERTIFICATES_ISSUED.inc(certificates)
    return job


def process_next(uow_factory: UowFactory, now: dt.datetime | None = None) -> ImportJob | None:
    """The worker's step: claim the oldest waiting job (or one whose worker died) and run it."""
    moment = now or dt.datetime.now(dt.UTC)
    with uow_factory() as uow:
        job = uow.imports.claim_next(moment - STALE_AFTER)
        if job is None:
            return None
        runnable = job.claim(MAX_ATTEMPTS)  # claimed: other workers skip it while it beats
        job_id = job.id
        if not runnable:
            log.error("import given up", extra={"job_id": str(job_id), "attempts": job.attempts})
            uow.audit("import_failed", actor=job.created_by, target=str(job_id), details={"attempts": job.attempts})
        uow.commit()
    if not runnable:
        metrics.IMPORT_JOBS.labels(job.kind.value, ImportJob.FAILED).inc()
        return job
    return run_import(uow_factory, job_id)


def process_pending(uow_factory: UowFactory) -> int:
    """Run waiting jobs until none is left; returns how many ran."""
    count = 0
    while process_next(uow_factory) is not None:
        count += 1
    return count
