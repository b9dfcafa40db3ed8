"""Training domain rules, without I/O."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from training.bootstrap import TrainingRules
from training.domain.model import (
    Attendance,
    Certificate,
    DomainError,
    ImportJob,
    ImportKind,
    ImportMode,
    Requirement,
    Training,
    TrainingKind,
    TrainingLevel,
    mask_name,
    parse_kind,
    parse_level,
)
from training.service_layer.rows import RowBatch, RowErrors, parse_date, parse_hours

from shared.config import ConfigError
from shared.principal import Grant, Principal
from shared.tabular import UnreadableFile, read_table


def training(**overrides: object) -> Training:
    values: dict[str, object] = {
        "title": "集中培训",
        "level": TrainingLevel.COUNTY,
        "kind": TrainingKind.CIO,
        "organiser_org_code": "410802",
        "organiser_org_path": "/4108/410802",
        "organiser_name": "解放区教育局",
        "starts_on": dt.date(2024, 5, 6),
        "ends_on": dt.date(2024, 5, 8),
        "hours": 24,
        "centralized": True,
        "created_by": "admin",
        **overrides,
    }
    return Training(**values)  # type: ignore[arg-type]


def certificate(**overrides: object) -> Certificate:
    values: dict[str, object] = {
        "number": "JF-1",
        "person_user_id": uuid.uuid4(),
        "person_name": "王晓明",
        "person_org_path": "/4108/410802/4108020001",
        "kind": TrainingKind.CIO,
        "level": TrainingLevel.COUNTY,
        "issuer": "解放区教育局",
        "issued_on": dt.date(2024, 5, 8),
        "expires_on": dt.date(2027, 5, 8),
        "training_id": None,
        "recorded_by": "admin",
        **overrides,
    }
    return Certificate(**values)  # type: ignore[arg-type]


def test_names_are_masked_keeping_first_and_last_character() -> None:
    assert [mask_name(n) for n in ("王晓明", "李华", "欧阳小明", "张", "")] == ["王*明", "李*", "欧**明", "*", "*"]


def test_bureau_words_for_kind_and_level_are_understood() -> None:
    assert parse_kind("首席信息官培训") is TrainingKind.CIO
    assert parse_kind("教育信息化业务培训") is TrainingKind.INFORMATIZATION
    assert parse_kind("CIO") is TrainingKind.CIO
    assert parse_level("县区级") is TrainingLevel.COUNTY and parse_level("national") is TrainingLevel.NATIONAL
    assert parse_kind("魔法") is None and parse_level("火星级") is None


def test_a_training_ends_after_it_starts_and_has_positive_hours() -> None:
    with pytest.raises(DomainError) as ended:
        training(ends_on=dt.date(2024, 5, 1))
    assert ended.value.field == "ends_on"
    with pytest.raises(DomainError) as hours:
        training(hours=0)
    assert hours.value.field == "hours"


def test_completion_is_recorded_once_and_a_different_one_is_refused() -> None:
    course = training()
    record = Attendance(course, uuid.uuid4(), "/4108/410802/4108020001", by="admin")
    assert record.complete(course, 24, dt.date(2024, 5, 8), by="admin") is True
    assert [e.event_type for e in record.events] == ["training.training.completed"]
    assert record.events[0].year == 2024 and record.events[0].centralized is True
    assert record.complete(course, 24, dt.date(2024, 5, 8), by="admin") is False
    assert len(record.events) == 1
    with pytest.raises(DomainError):
        record.complete(course, 20, dt.date(2024, 5, 8), by="admin")
    with pytest.raises(DomainError) as too_many:
        Attendance(course, uuid.uuid4(), "/x", by="a").complete(course, 25, dt.date(2024, 5, 8), by="a")
    assert too_many.value.field == "hours"


def test_certificate_standing_revoked_wins_over_expired() -> None:
    cert = certificate()
    assert [e.event_type for e in cert.events] == ["training.certificate.issued"]
    assert cert.standing(dt.date(2025, 1, 1)) == "valid"
    assert cert.standing(dt.date(2027, 5, 9)) == "expired"
    with pytest.raises(DomainError):
        cert.revoke("  ", by="admin")
    cert.revoke("记录有误", by="admin")
    assert cert.standing(dt.date(2027, 5, 9)) == "revoked"
    assert cert.events[-1].event_type == "training.certificate.revoked"
    with pytest.raises(DomainError) as twice:
        cert.revoke("again", by="admin")
    assert twice.value.field == "status"


def test_certificate_expiry_must_follow_issue_and_numbers_have_no_spaces() -> None:
    with pytest.raises(DomainError) as expiry:
        certificate(expires_on=dt.date(2024, 5, 8))
    assert expiry.value.field == "expires_on"
    with pytest.raises(DomainError) as number:
        certificate(number="JF 1")
    assert number.value.field == "number"


def test_requirement_defaults_when_the_policy_names_none() -> None:
    assert Requirement.from_policy(None, 1) == Requirement(1)
    assert Requirement.from_policy({"centralized_per_year": 2}, 1) == Requirement(2)
    assert Requirement.from_policy({"centralized_per_year": "two"}, 1) == Requirement(1)
    assert Requirement(2).met_by(2) and not Requirement(2).met_by(1)


def test_an_import_with_bad_rows_is_rejected_unless_good_rows_only() -> None:
    def job(mode: ImportMode) -> ImportJob:
        return ImportJob(
            kind=ImportKind.CERTIFICATES,
            mode=mode,
            training_id=None,
            filename="f.csv",
            file_format="csv",
            content=b"x",
            content_hash="h",
            created_by="a",
            actor_paths=["/1"],
        )

    errors = [{"row": 3, "column": "level", "message": "bad", "message_zh": "错"}]
    strict = job(ImportMode.ALL_OR_NOTHING)
    strict.finish(written=5, unchanged=0, errors=errors, total=6)
    assert (strict.status, strict.rows_written, strict.rows_failed, strict.content) == ("rejected", 0, 1, None)
    lenient = job(ImportMode.GOOD_ROWS_ONLY)
    lenient.finish(written=5, unchanged=0, errors=errors, total=6)
    assert (lenient.status, lenient.rows_written, lenient.rows_failed) == ("done", 5, 1)


def test_dates_and_hours_as_bureaus_write_them() -> None:
    errors = RowErrors()
    assert parse_date("2024年5月8日", 2, "d", errors, required=True) == dt.date(2024, 5, 8)
    assert parse_date("2024/5/8", 2, "d", errors, required=True) == dt.date(2024, 5, 8)
    assert parse_date(dt.datetime(2024, 5, 8, 0, 0), 2, "d", errors, required=True) == dt.date(2024, 5, 8)  # noqa: DTZ001 - as an Excel cell reads
    assert parse_date("", 2, "d", errors, required=False) is None
    assert errors.count == 0
    assert parse_date("8 May", 3, "d", errors, required=True) is None
    assert parse_hours("abc", 4, "h", errors, at_most=10) is None
    assert parse_hours(12, 5, "h", errors, at_most=10) is None
    assert [(e["row"], e["column"]) for e in errors.items] == [(3, "d"), (4, "h"), (5, "h")]
    assert all(e["message_zh"] and e["message"] for e in errors.items)


def test_a_row_batch_from_the_api_writes_only_when_every_row_is_good() -> None:
    admin = Principal("admin-1", (Grant("training_admin", "/city"), Grant("auditor", "/")))
    batch = RowBatch.all_or_nothing(admin, "training_admin")
    assert (batch.actor, list(batch.actor_paths), batch.written) == ("admin-1", ["/city"], True)
    batch.errors.add(2, "hours", "学时不能为空", "hours are required")
    assert not batch.written
    lenient = RowBatch("admin-1", ["/city"], write_good_rows=True)
    lenient.errors.add(2, "hours", "学时不能为空", "hours are required")
    assert lenient.written


def test_csv_in_gb18030_is_read_and_blank_rows_skipped() -> None:
    header, rows = read_table("用户名,学时\nwang,8\n,\nli,4\n".encode("gb18030"), "csv")
    assert header == ["用户名", "学时"]
    assert list(rows) == [(2, ["wang", "8"]), (4, ["li", "4"])]
    with pytest.raises(UnreadableFile):
        read_table(b"PK\x03\x04not a workbook", "xlsx")


def test_check_date_setting_must_be_a_month_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINING_REQUIREMENT_CHECK_DATE", "11-15")
    assert TrainingRules.from_env().check_on == (11, 15)
    monkeypatch.setenv("TRAINING_REQUIREMENT_CHECK_DATE", "02-30")
    with pytest.raises(ConfigError):
        TrainingRules.from_env()
