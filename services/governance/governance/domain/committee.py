"""Yichun's 网络安全和信息化委员会 and its 信息化联络员.

宜春学院首席信息官（CIO）制度 第十四条/第十七条: 「网络安全和信息化委员会…CIO应担任副主任委员…每学期至少召开1次…由CIO
召集，形成会议纪要」; 第十六条: 「各部门和教学院指定1名负责人作为本部门信息化联络员」. The policy keys
`committee_meetings_per_semester` and `liaison_per_department` (evaluation section of the university's policy) say how
many; this module says what they mean. Pure Python: the adapters map these classes to tables.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from governance.domain.model import DomainError, HeldByOrg
from shared.domain import OrgNode


class Position(enum.StrEnum):
    DIRECTOR = "director"  # 主任委员
    DEPUTY_DIRECTOR = "deputy_director"  # 副主任委员
    MEMBER = "member"  # 委员
    SECRETARY = "secretary"  # 秘书


@dataclass(frozen=True)
class Member:
    name: str
    position: Position
    title: str | None = None  # e.g. 校长, 分管副校长
    user_id: str | None = None
    is_cio: bool = False


class Committee(HeldByOrg):
    """The university's committee: its members and their positions; the CIO sits as 副主任委员."""

    def __init__(self, *, org: OrgNode, name: str, members: Sequence[Member], by: str, at: dt.datetime) -> None:
        # the unit of work collects these on commit (its handlers publish through it, so none yet)
        self.events: list[Any] = []
        self._held_by(org)
        self.version = 1
        self.constitute(name=name, members=members, by=by, at=at)

    def constitute(self, *, name: str, members: Sequence[Member], by: str, at: dt.datetime) -> None:
        cios = [n for n, m in enumerate(members) if m.is_cio]
        if len(cios) != 1:
            raise DomainError("The committee has its CIO among the members, once (第十四条).", "members")
        if members[cios[0]].position is not Position.DEPUTY_DIRECTOR:
            raise DomainError("CIO应担任副主任委员: the CIO is a deputy director.", f"members.{cios[0]}.position")
        if not any(m.position is Position.DIRECTOR for m in members):
            raise DomainError("The committee has a director (主任委员).", "members")
        self.name = name
        self.members = [
            {
                "name": m.name,
                "position": m.position.value,
                "title": m.title,
                "user_id": m.user_id,
                "is_cio": m.is_cio,
            }
            for m in members
        ]
        self.updated_by = by
        self.updated_at = at


# -- semesters ---------------------------------------------------------------------------------------
class Term(enum.StrEnum):
    AUTUMN = "autumn"  # 秋季学期: September to January
    SPRING = "spring"  # 春季学期: February to August


@dataclass(frozen=True, order=True)
class Semester:
    """A semester named by the year it starts in: 2026-autumn runs 2026-09-01 to 2027-01-31."""

    year: int
    term: Term

    @classmethod
    def of(cls, day: dt.date) -> Semester:
        if day.month >= 9:
            return cls(day.year, Term.AUTUMN)
        if day.month == 1:
            return cls(day.year - 1, Term.AUTUMN)
        return cls(day.year, Term.SPRING)

    @classmethod
    def parse(cls, text: str) -> Semester:
        year, _, term = text.partition("-")
        try:
            return cls(int(year), Term(term))
        except ValueError as exc:
            raise DomainError("A semester is written YYYY-autumn or YYYY-spring.", "semester") from exc

    @property
    def key(self) -> str:
        return f"{self.year}-{self.term.value}"

    @property
    def starts_on(self) -> dt.date:
        return dt.date(self.year, 9, 1) if self.term is Term.AUTUMN else dt.date(self.year, 2, 1)

    @property
    def ends_on(self) -> dt.date:
        return dt.date(self.year + 1, 1, 31) if self.term is Term.AUTUMN else dt.date(self.year, 8, 31)

    def previous(self) -> Semester:
        return Semester(self.year, Term.SPRING) if self.term is Term.AUTUMN else Semester(self.year - 1, Term.AUTUMN)

    def holds(self, day: dt.date) -> bool:
        return self.starts_on <= day <= self.ends_on


class CommitteeMeeting(HeldByOrg):
    """A meeting convened by the CIO (由CIO召集) with its minutes (形成会议纪要)."""

    def __init__(
        self,
        *,
        org: OrgNode,
        held_on: dt.date,
        convened_by: str,
        attendees: Sequence[str],
        minutes: str,
        decisions: Sequence[str],
        by: str,
        at: dt.datetime,
    ) -> None:
        if not minutes.strip():
            raise DomainError("形成会议纪要: the minutes are required.", "minutes")
        if not attendees:
            raise DomainError("A meeting has attendees.", "attendees")
        if held_on > at.date():
            raise DomainError("A meeting is recorded once it has been held.", "held_on")
        self.id = uuid.uuid4()
        self._held_by(org)
        self.held_on = held_on
        self.semester = Semester.of(held_on).key
        self.convened_by = convened_by
        self.attendees = list(attendees)
        self.minutes = minutes
        self.decisions = list(decisions)
        self.recorded_by = by
        self.recorded_at = at


@dataclass(frozen=True)
class SemesterStanding:
    """How many meetings a semester needed and had; `flagged` once it ended short (or was flagged and not yet
    cleared by a recorded meeting)."""

    semester: str
    starts_on: dt.date
    ends_on: dt.date
    required: int
    held: int
    ended: bool

    @property
    def met(self) -> bool:
        return self.held >= self.required

    @property
    def flagged(self) -> bool:
        return self.ended and not self.met


def standings(
    meetings: Iterable[CommitteeMeeting], required: int, today: dt.date, semesters: int = 4
) -> list[SemesterStanding]:
    """The current semester and the `semesters - 1` before it, newest first."""
    held: dict[str, int] = {}
    for meeting in meetings:
        held[meeting.semester] = held.get(meeting.semester, 0) + 1
    semester = Semester.of(today)
    lines = []
    for _ in range(semesters):
        lines.append(
            SemesterStanding(
                semester=semester.key,
                starts_on=semester.starts_on,
                ends_on=semester.ends_on,
                required=required,
                held=held.get(semester.key, 0),
                ended=semester.ends_on < today,
            )
        )
        semester = semester.previous()
    return lines


# -- liaisons ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LiaisonCoverage:
    """One department's (or college's) line: its 信息化联络员 against the policy's number."""

    org_code: str
    org_path: str
    org_name: str
    required: int
    liaisons: list[str]

    @property
    def lacking(self) -> bool:
        return len(self.liaisons) < self.required


def liaison_coverage(
    departments: Iterable[OrgNode], grants: dict[str, list[str]], required: int
) -> list[LiaisonCoverage]:
    """Every department under the university with the users holding `liaison` at its org (第十六条)."""
    return [
        LiaisonCoverage(d.code, d.path, d.name, required, sorted(grants.get(d.path, [])))
        for d in sorted(departments, key=lambda d: d.path)
    ]
