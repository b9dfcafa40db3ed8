"""Network security work: inspections, drills and self-checks with their findings, each finding's rectification
tracked to done, and each unit's emergency plan on record with its last review date.

Wuhai: 「每年统一组织…网络安全检查、应急演练」, 「常态化开展网络安全自查」, 「网络安全事件应急处置预案」;
Yichun 第十二条 (网络安全工作). Pure Python: the adapters map these classes to tables.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from governance.domain.model import DomainError, HeldByUnit
from governance.domain.tracking import TrackedItems, new_item_id
from shared.domain import OrgNode


class CheckKind(enum.StrEnum):
    """网络安全检查 and 应急演练 are organised from above; 自查 is the unit's own."""

    INSPECTION = "inspection"
    DRILL = "drill"
    SELF_CHECK = "self_check"


class Severity(enum.StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@dataclass(frozen=True)
class FindingInput:
    description: str
    severity: Severity
    rectification: str
    due_on: dt.date


FINDINGS = TrackedItems(
    what="finding",
    field="finding_id",
    closed="rectified_on",
    already="The finding is already rectified.",
    too_early="A finding is rectified after the check that found it.",
)


class SecurityCheck(HeldByUnit):
    """One inspection, drill or self-check of a unit, with its findings; done once every finding is rectified."""

    def __init__(
        self,
        *,
        unit: OrgNode,
        kind: CheckKind,
        held_on: dt.date,
        title: str,
        summary: str | None,
        findings: Sequence[FindingInput],
        by: str,
        at: dt.datetime,
    ) -> None:
        # the unit of work collects these on commit (its handlers publish through it, so none yet)
        self.events: list[Any] = []
        for n, finding in enumerate(findings):
            if finding.due_on < held_on:
                raise DomainError("A rectification is due after the check that found it.", f"findings.{n}.due_on")
        self.id = uuid.uuid4()
        self._held_by(unit)
        self.kind = kind
        self.held_on = held_on
        self.title = title
        self.summary = summary
        self.findings: list[dict[str, Any]] = [
            {
                "id": new_item_id(),
                "description": f.description,
                "severity": f.severity.value,
                "rectification": f.rectification,
                "due_on": f.due_on.isoformat(),
                "rectified_on": None,
                "evidence": [],
            }
            for f in findings
        ]
        self.recorded_by = by
        self.recorded_at = at
        self.version = 1

    def rectify(self, finding_id: str, rectified_on: dt.date, evidence: Sequence[dict[str, str]]) -> dict[str, Any]:
        """整改完成: the finding closed with its evidence (the list replaced whole so the change is stored)."""
        findings, finding = FINDINGS.close(self.findings, finding_id, rectified_on, self.held_on)
        if not evidence:
            raise DomainError("A rectification is closed with its evidence.", "evidence")
        finding["evidence"] = [dict(e) for e in evidence]
        self.findings = findings
        return finding

    def open_findings(self) -> list[dict[str, Any]]:
        return FINDINGS.open(self.findings)

    def overdue_findings(self, today: dt.date) -> list[dict[str, Any]]:
        return FINDINGS.overdue(self.findings, today)

    @property
    def done(self) -> bool:
        return not self.open_findings()


class EmergencyPlan(HeldByUnit):
    """A unit's 网络安全事件应急处置预案 on record; stale once its last review is older than the review interval."""

    def __init__(
        self, *, unit: OrgNode, title: str, document_url: str, last_reviewed_on: dt.date, by: str, at: dt.datetime
    ) -> None:
        # the unit of work collects these on commit (its handlers publish through it, so none yet)
        self.events: list[Any] = []
        self._held_by(unit)
        self.version = 1
        self.record(title=title, document_url=document_url, last_reviewed_on=last_reviewed_on, by=by, at=at)

    def record(self, *, title: str, document_url: str, last_reviewed_on: dt.date, by: str, at: dt.datetime) -> None:
        if last_reviewed_on > at.date():
            raise DomainError("A review is recorded once it has happened.", "last_reviewed_on")
        self.title = title
        self.document_url = document_url
        self.last_reviewed_on = last_reviewed_on
        self.updated_by = by
        self.updated_at = at

    def stale(self, today: dt.date, review_days: int) -> bool:
        return (today - self.last_reviewed_on).days > review_days
