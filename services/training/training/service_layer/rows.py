"""Reading row values the way bureaus write them, and the per-row error report (row, column, zh + en)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.errors import row_error
from shared.principal import Principal
from shared.scope import path_within
from training.service_layer.unit_of_work import Person, TrainingUnitOfWork

CHINESE_DATE = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$")
SLASH_DATE = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})$")


@dataclass
class RowErrors:
    """Every problem found, in file order; `row` is the spreadsheet's line number (header = 1)."""

    items: list[dict[str, Any]] = field(default_factory=list)

    def add(self, row: int, column: str, zh: str, en: str) -> None:
        self.items.append(row_error(row, column, en, zh))

    @property
    def count(self) -> int:
        return len(self.items)

    def rows(self) -> set[int]:
        return {e["row"] for e in self.items}


@dataclass(frozen=True)
class RowBatch:
    """One application of rows (completions, certificates): who applies them, within which org subtrees, where
    their errors are reported, and whether the good rows are written when some are bad (an import in
    good_rows_only mode) or nothing is (the API and all_or_nothing imports)."""

    actor: str
    actor_paths: Sequence[str]
    errors: RowErrors = field(default_factory=RowErrors)
    write_good_rows: bool = False

    @classmethod
    def all_or_nothing(cls, principal: Principal, role: str) -> RowBatch:
        """Rows sent through the API by `principal`, applied within the subtrees where they hold `role`."""
        return cls(principal.subject, principal.paths(role))

    @property
    def written(self) -> bool:
        """Whether the planned rows are written: every row is good, or the batch keeps the good ones."""
        return self.write_good_rows or not self.errors.count


# The columns' sizes: a longer cell is a row error, not a database error that fails the whole import.
CERTIFICATE_NUMBER_LENGTH = 64
ISSUER_LENGTH = 200


def too_long(row: int, column: str, value: str, limit: int, errors: RowErrors) -> None:
    """Record a row error when a free-text cell is longer than its column allows."""
    if len(value) > limit:
        errors.add(row, column, f"不超过{limit}个字符", f"at most {limit} characters")


def parse_date(value: Any, row: int, column: str, errors: RowErrors, *, required: bool) -> dt.date | None:
    """2024-05-01, 2024/5/1, 2024年5月1日, or a spreadsheet date cell."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip() if value is not None else ""
    if not text:
        if required:
            errors.add(row, column, "日期不能为空", "a date is required")
        return None
    match = CHINESE_DATE.match(text) or SLASH_DATE.match(text)
    try:
        if match:
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        errors.add(row, column, "日期格式应为YYYY-MM-DD", "a date must be YYYY-MM-DD")
        return None


def parse_hours(value: Any, row: int, column: str, errors: RowErrors, *, at_most: float) -> float | None:
    text = str(value).strip() if value is not None else ""
    if not text:
        errors.add(row, column, "学时不能为空", "hours are required")
        return None
    try:
        hours = float(text)
    except ValueError:
        errors.add(row, column, "学时应为数字", "hours must be a number")
        return None
    if not 0 < hours <= at_most:
        errors.add(row, column, f"学时应大于0且不超过{at_most:g}", f"hours must be more than 0 and at most {at_most:g}")
        return None
    return round(hours, 1)


def _as_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def resolve_people(
    uow: TrainingUnitOfWork,
    refs: Sequence[tuple[int, str, str | None]],
    actor_paths: Sequence[str],
    errors: RowErrors,
) -> dict[int, Person]:
    """Row → person by user id or username; someone outside the caller's subtree is "no such person"."""
    texts = [(row, str(ref or "").strip(), name) for row, ref, name in refs]
    ids = [u for _, t, _ in texts if (u := _as_uuid(t)) is not None]
    names = [t for _, t, _ in texts if t and _as_uuid(t) is None]
    by_id, by_name = uow.people.find(ids, names)
    found: dict[int, Person] = {}
    for row, text, name in texts:
        if not text:
            errors.add(row, "person", "人员（用户名或用户ID）不能为空", "person (username or user id) is required")
            continue
        ident = _as_uuid(text)
        person = by_id.get(ident) if ident is not None else by_name.get(text)
        if person is None or person.org_path is None or not any(path_within(person.org_path, p) for p in actor_paths):
            errors.add(row, "person", "人员不存在或不在管辖范围内", "no such person in your scope")
            continue
        if name and name.strip() and name.strip() != person.display_name:
            errors.add(row, "name", "姓名与用户不符", "the name does not match this person")
            continue
        found[row] = person
    return found
