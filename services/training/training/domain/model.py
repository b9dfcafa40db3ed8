"""Trainings (培训), attendance (参训记录), certificates (合格证), import jobs and the yearly requirement.

Pure Python: the adapters map these classes to tables; nothing here knows about them.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import shared.domain
from shared.clock import now as now
from training.domain import events

MAX_TRAINING_HOURS = 1000.0
NUMBER_PATTERN = re.compile(r"^[^\s]{1,64}$")


class DomainError(shared.domain.DomainError):
    """A rule refused the change; `zh` says it in Chinese."""

    def __init__(self, message: str, field: str | None = None, zh: str | None = None) -> None:
        super().__init__(message, field)
        self.zh = zh or message


class TrainingLevel(enum.StrEnum):
    NATIONAL = "national"
    PROVINCIAL = "provincial"
    CITY = "city"
    COUNTY = "county"
    SCHOOL = "school"


class TrainingKind(enum.StrEnum):
    CIO = "cio"  # 首席信息官培训
    INFORMATIZATION = "informatization"  # 教育信息化业务培训
    OTHER = "other"


# What bureaus write in their spreadsheets, beside the codes.
LEVEL_ALIASES: dict[str, TrainingLevel] = {
    "国家级": TrainingLevel.NATIONAL,
    "国家": TrainingLevel.NATIONAL,
    "省级": TrainingLevel.PROVINCIAL,
    "省": TrainingLevel.PROVINCIAL,
    # 自治区 (宁夏, 内蒙古…) and 直辖市 are provincial-level divisions: Helan's 「自治区级及以上专项培训」
    "自治区级": TrainingLevel.PROVINCIAL,
    "自治区": TrainingLevel.PROVINCIAL,
    "省（自治区）级": TrainingLevel.PROVINCIAL,
    "省（区、市）级": TrainingLevel.PROVINCIAL,
    "直辖市级": TrainingLevel.PROVINCIAL,
    "市级": TrainingLevel.CITY,
    "市": TrainingLevel.CITY,
    "县级": TrainingLevel.COUNTY,
    "县区级": TrainingLevel.COUNTY,
    "区级": TrainingLevel.COUNTY,
    "县": TrainingLevel.COUNTY,
    "校级": TrainingLevel.SCHOOL,
    "学校": TrainingLevel.SCHOOL,
}
KIND_ALIASES: dict[str, TrainingKind] = {
    "首席信息官培训": TrainingKind.CIO,
    "首席信息官": TrainingKind.CIO,
    "信息化业务培训": TrainingKind.INFORMATIZATION,
    "教育信息化业务培训": TrainingKind.INFORMATIZATION,
    "信息化培训": TrainingKind.INFORMATIZATION,
    "其他": TrainingKind.OTHER,
    "其它": TrainingKind.OTHER,
}


def parse_level(value: Any) -> TrainingLevel | None:
    text = str(value or "").strip()
    if text.lower() in {m.value for m in TrainingLevel}:
        return TrainingLevel(text.lower())
    return LEVEL_ALIASES.get(text)


def parse_kind(value: Any) -> TrainingKind | None:
    text = str(value or "").strip()
    if text.lower() in {m.value for m in TrainingKind}:
        return TrainingKind(text.lower())
    return KIND_ALIASES.get(text)


def mask_name(name: str) -> str:
    """王*明: the first and last character stay, so a holder recognises it and nobody else learns it."""
    text = name.strip()
    if len(text) <= 1:
        return "*"
    if len(text) == 2:
        return text[0] + "*"
    return text[0] + "*" * (len(text) - 2) + text[-1]


def check_hours(hours: float, field: str = "hours", at_most: float = MAX_TRAINING_HOURS) -> float:
    if not 0 < hours <= at_most:
        raise DomainError(
            f"hours must be more than 0 and at most {at_most:g}", field, f"学时应大于0且不超过{at_most:g}"
        )
    return round(float(hours), 1)


class Training:
    """一次培训: level, kind, the organising org (scope), dates, hours, and whether it is centralized (集中培训)."""

    def __init__(
        self,
        *,
        title: str,
        level: TrainingLevel,
        kind: TrainingKind,
        organiser_org_code: str,
        organiser_org_path: str,
        organiser_name: str,
        starts_on: dt.date,
        ends_on: dt.date,
        hours: float,
        centralized: bool,
        created_by: str,
        id: uuid.UUID | None = None,
    ) -> None:
        if not title.strip():
            raise DomainError("title is required", "title", "培训名称不能为空")
        if ends_on < starts_on:
            raise DomainError("ends_on is before starts_on", "ends_on", "结束日期早于开始日期")
        self.id = id or uuid.uuid4()
        self.title = title.strip()
        self.level = level
        self.kind = kind
        self.organiser_org_code = organiser_org_code
        self.organiser_org_path = organiser_org_path
        self.organiser_name = organiser_name.strip() or organiser_org_code
        self.starts_on = starts_on
        self.ends_on = ends_on
        self.hours = check_hours(hours)
        self.centralized = centralized
        self.created_by = created_by
        self.created_at = now()
        self.version = 1
        self.events: list[Any] = []


class Attendance:
    """参训记录: one person at one training, enrolled and then completed with the hours credited."""

    ENROLLED = "enrolled"
    COMPLETED = "completed"

    def __init__(self, training: Training, person_user_id: uuid.UUID, person_org_path: str, *, by: str) -> None:
        self.id = uuid.uuid4()
        self.training_id = training.id
        self.person_user_id = person_user_id
        self.person_org_path = person_org_path
        self.status = self.ENROLLED
        self.hours: float | None = None
        self.completed_on: dt.date | None = None
        self.enrolled_at = now()
        self.completed_at: dt.datetime | None = None
        self.recorded_by = by
        self.events: list[Any] = []

    def complete(self, training: Training, hours: float, completed_on: dt.date, *, by: str) -> bool:
        """Record completion (结业); the same completion again changes nothing, a different one is refused."""
        hours = check_hours(hours, at_most=training.hours)
        if completed_on < training.starts_on:
            raise DomainError("completed_on is before the training starts", "completed_on", "结业日期早于培训开始日期")
        if self.status == self.COMPLETED:
            if self.hours == hours and self.completed_on == completed_on:
                return False
            raise DomainError(
                "this person's completion is already recorded with other hours or date",
                "hours",
                "该人员已登记结业，学时或日期不同",
            )
        self.status = self.COMPLETED
        self.hours = hours
        self.completed_on = completed_on
        self.completed_at = now()
        self.recorded_by = by
        self.events.append(
            events.TrainingCompleted.from_aggregate(
                training,
                training_id=training.id,
                person_user_id=self.person_user_id,
                hours=hours,
                completed_on=completed_on,
                year=completed_on.year,
            )
        )
        return True


@dataclass(eq=False, repr=False, kw_only=True)
class Certificate:
    """合格证: issued on completion of a training here, or recorded for one held elsewhere.

    A dataclass (identity equality, no generated repr: a mapped entity), its fields are its persisted state; what it
    sets itself (`id`, the status, the revocation, `created_at`) takes no argument and is set in `__post_init__`
    (a plain class-level default would not survive the mapping, which replaces the class attributes).
    """

    VALID = "valid"
    REVOKED = "revoked"
    EXPIRED = "expired"

    number: str
    person_user_id: uuid.UUID
    person_name: str
    person_org_path: str
    kind: TrainingKind
    level: TrainingLevel
    issuer: str
    issued_on: dt.date
    expires_on: dt.date | None
    training_id: uuid.UUID | None
    recorded_by: str
    id: uuid.UUID = field(init=False, default_factory=uuid.uuid4)
    status: str = field(init=False)
    revoked_reason: str | None = field(init=False)
    revoked_at: dt.datetime | None = field(init=False)
    revoked_by: str | None = field(init=False)
    created_at: dt.datetime = field(init=False)
    events: list[Any] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.number = self.number.strip()
        if not NUMBER_PATTERN.match(self.number):
            raise DomainError("number is 1–64 characters without spaces", "number", "证书编号应为1–64个非空白字符")
        if not self.issuer.strip():
            raise DomainError("issuer is required", "issuer", "发证机构不能为空")
        if self.expires_on is not None and self.expires_on <= self.issued_on:
            raise DomainError("expires_on must be after issued_on", "expires_on", "有效期至应晚于发证日期")
        self.issuer = self.issuer.strip()
        self.status = self.VALID
        self.revoked_reason = None
        self.revoked_at = None
        self.revoked_by = None
        self.created_at = now()
        self.events.append(events.CertificateIssued.from_aggregate(self, certificate_id=self.id))

    def same_as(self, person_user_id: uuid.UUID, kind: TrainingKind, level: TrainingLevel, issued_on: dt.date) -> bool:
        """A re-recorded certificate (same number, person, kind, level, date) is the same one, not a clash."""
        return (
            self.person_user_id == person_user_id
            and self.kind == kind
            and self.level == level
            and self.issued_on == issued_on
        )

    def revoke(self, reason: str, *, by: str) -> None:
        """撤销: a revoked certificate no longer qualifies anyone; the reason is kept."""
        if self.status == self.REVOKED:
            raise DomainError("the certificate is already revoked", "status", "证书已撤销")
        if not reason.strip():
            raise DomainError("a reason is required", "reason", "撤销原因不能为空")
        self.status = self.REVOKED
        self.revoked_reason = reason.strip()
        self.revoked_at = now()
        self.revoked_by = by
        self.events.append(
            events.CertificateRevoked.from_aggregate(self, certificate_id=self.id, reason=self.revoked_reason)
        )

    def standing(self, today: dt.date) -> str:
        """What verification answers: revoked wins over expired."""
        if self.status == self.REVOKED:
            return self.REVOKED
        if self.expires_on is not None and self.expires_on < today:
            return self.EXPIRED
        return self.VALID


@dataclass(frozen=True)
class Requirement:
    """The policy's yearly training requirement for a CIO (Helan 「一般每年不少于1次集中培训」: 1); 0 is none."""

    centralized_per_year: int

    @classmethod
    def from_policy(cls, data: Any, default: int) -> Requirement:
        """The policy's number; a policy that names none (Jiaozuo, Yichun: `requirement: {}`) requires nothing,
        so its CIOs are never flagged; `default` only for an event without the key at all (older senders)."""
        if isinstance(data, dict) and "centralized_per_year" not in data:
            return cls(0)
        if isinstance(data, dict) and isinstance(data.get("centralized_per_year"), int):
            return cls(max(0, data["centralized_per_year"]))
        return cls(default)

    @property
    def applies(self) -> bool:
        return self.centralized_per_year > 0

    def met_by(self, centralized_completed: int) -> bool:
        return centralized_completed >= self.centralized_per_year


class ImportKind(enum.StrEnum):
    ATTENDANCE = "attendance"
    CERTIFICATES = "certificates"


class ImportMode(enum.StrEnum):
    ALL_OR_NOTHING = "all_or_nothing"
    GOOD_ROWS_ONLY = "good_rows_only"


class ImportJob:
    """A bulk import (批量导入): queued → running → done / rejected (bad rows, nothing written) / failed."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    REJECTED = "rejected"
    FAILED = "failed"

    def __init__(
        self,
        *,
        kind: ImportKind,
        mode: ImportMode,
        training_id: uuid.UUID | None,
        filename: str,
        file_format: str,
        content: bytes,
        content_hash: str,
        created_by: str,
        actor_paths: list[str],
    ) -> None:
        self.id = uuid.uuid4()
        self.kind = kind
        self.mode = mode
        self.training_id = training_id
        self.filename = filename[:200]
        self.file_format = file_format
        self.content: bytes | None = content
        self.content_hash = content_hash
        self.created_by = created_by
        self.actor_paths = actor_paths
        self.status = self.QUEUED
        self.rows_total = 0
        self.rows_validated = 0
        self.rows_written = 0
        self.rows_unchanged = 0
        self.rows_failed = 0
        self.attempts = 0
        self.errors: list[dict[str, Any]] = []
        self.detail: str | None = None
        self.created_at = now()
        self.started_at: dt.datetime | None = None
        self.finished_at: dt.datetime | None = None
        self.heartbeat_at: dt.datetime | None = None
        self.events: list[Any] = []

    @property
    def finished(self) -> bool:
        return self.status in (self.DONE, self.REJECTED, self.FAILED)

    def start(self) -> None:
        self.status = self.RUNNING
        self.started_at = self.started_at or now()
        self.heartbeat_at = now()

    def claim(self, max_attempts: int) -> bool:
        """A worker takes the job. A job whose workers died `max_attempts` times (a file that kills the
        process, say) is failed instead of being taken forever; returns whether it is to be run."""
        if self.attempts >= max_attempts:
            self.fail(f"the import stopped {self.attempts} times without finishing; it is not tried again")
            return False
        self.attempts += 1
        self.start()
        return True

    def finish(self, *, written: int, unchanged: int, errors: list[dict[str, Any]], total: int) -> None:
        """Bad rows in an all-or-nothing import reject it whole; otherwise it is done with its report."""
        self.rows_total = total
        self.rows_validated = total
        self.errors = errors
        self.rows_failed = len({e["row"] for e in errors})
        if errors and self.mode == ImportMode.ALL_OR_NOTHING:
            self.status = self.REJECTED
            self.rows_written = 0
            self.rows_unchanged = 0
        else:
            self.status = self.DONE
            self.rows_written = written
            self.rows_unchanged = unchanged
        self.finished_at = now()
        self.content = None  # the file is not kept once its rows are applied or refused

    def reject(self, errors: list[dict[str, Any]]) -> None:
        """The file itself cannot be read (no sheet, missing columns): no row is good, whatever the mode."""
        self.status = self.REJECTED
        self.errors = errors
        self.rows_written = self.rows_unchanged = 0
        self.finished_at = now()
        self.content = None

    def fail(self, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        self.status = self.FAILED
        self.detail = detail
        self.errors = errors or []
        self.finished_at = now()
        self.content = None
