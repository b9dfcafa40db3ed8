"""Governance's record helpers: who reaches a record (404 outside the caller's subtree, 403 for a reader without the
permission), where its audit entry is filed, the org a command names, and items tracked to done."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from governance.domain.model import DomainError, StateConflict
from governance.domain.tracking import TrackedItems
from governance.service_layer.records import Permission, Records, named_org
from governance.service_layer.unit_of_work import GovernanceUnitOfWork

from shared.domain import OrgNode
from shared.errors import Forbidden, NotFound, Unprocessable
from shared.principal import Grant, Principal
from tests.unit.fakes import FakeRepository
from tests.unit.governance.fakes import FakeGovernanceUnitOfWork

DISTRICT = OrgNode("150302", "海勃湾区教育局", "county", "/1503/150302")
REVIEWER = Principal("reviewer", (Grant("county_reviewer", DISTRICT.path),))
AUDITOR = Principal("auditor", (Grant("auditor", DISTRICT.path),))
ELSEWHERE = Principal("other", (Grant("county_reviewer", "/1503/150303"),))


@dataclass
class Report:
    district_path: str
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    version: int = 1
    text: str = ""
    events: list[Any] = field(default_factory=list)


class LockingReports(FakeRepository):
    def __init__(self, *reports: Report) -> None:
        super().__init__(*reports)
        self.locked: list[Any] = []

    def get(self, key: Any, lock: bool = False) -> Any | None:
        if lock:
            self.locked.append(key)
        return super().get(key)


class Uow(FakeGovernanceUnitOfWork):
    def __init__(self, *reports: Report) -> None:
        super().__init__([DISTRICT])
        self.reports = LockingReports(*reports)


REPORTS: Records[Report] = Records(
    "report", ("county_reviewer", "auditor"), lambda uow: cast(Uow, uow).reports, path="district_path"
)
REVISE = Permission(("county_reviewer",), "A district's bureau revises its own report.")


def _uow(*reports: Report) -> GovernanceUnitOfWork:
    return cast(GovernanceUnitOfWork, Uow(*reports))


def test_a_record_outside_the_callers_subtree_is_not_found_like_a_missing_one() -> None:
    report = Report(DISTRICT.path)
    uow = _uow(report)
    assert REPORTS.visible(uow, AUDITOR, report.id) is report
    for principal, key in ((ELSEWHERE, report.id), (REVIEWER, uuid.uuid4())):
        with pytest.raises(NotFound, match=r"No such report\."):
            REPORTS.visible(uow, principal, key)


def test_named_roles_narrow_who_sees_a_record() -> None:
    report = Report(DISTRICT.path)
    with pytest.raises(NotFound):
        REPORTS.visible(_uow(report), AUDITOR, report.id, "county_reviewer")


def test_a_reader_without_the_permission_is_refused_with_its_reason_and_the_record_is_locked() -> None:
    report = Report(DISTRICT.path)
    uow = _uow(report)
    with pytest.raises(Forbidden, match="revises its own report"):
        REPORTS.changeable(uow, AUDITOR, report.id, REVISE)
    assert REPORTS.changeable(uow, REVIEWER, report.id, REVISE) is report
    assert cast(Uow, uow).reports.locked == [report.id, report.id]


def test_the_audit_entry_is_filed_under_the_records_org() -> None:
    report = Report(DISTRICT.path)
    uow = Uow(report)
    REPORTS.audit(cast(GovernanceUnitOfWork, uow), REVIEWER, "report.revised", report, {"month": "2026-03"})
    assert uow.audited == [
        (
            "report.revised",
            {"actor": "reviewer", "target": str(report.id), "org_path": DISTRICT.path, "details": {"month": "2026-03"}},
        )
    ]


@REPORTS.edit("report", REVISE)
def _rewrite(uow: GovernanceUnitOfWork, principal: Principal, report: Report, text: str) -> None:
    report.text = text


def test_an_edit_checks_the_version_of_the_record_it_found_then_commits_the_change() -> None:
    report = Report(DISTRICT.path, version=3)
    uow = Uow(report)
    checked: list[int] = []
    assert _rewrite(cast(GovernanceUnitOfWork, uow), REVIEWER, report.id, checked.append, "new") is report
    assert (checked, report.text, uow.committed, uow.reports.locked) == ([3], "new", True, [report.id])
    with pytest.raises(Forbidden):
        _rewrite(cast(GovernanceUnitOfWork, Uow(report)), AUDITOR, report.id, checked.append, "newer")
    assert report.text == "new"


def test_an_unknown_org_is_an_error_on_the_field_that_named_it() -> None:
    with pytest.raises(Unprocessable) as refused:
        named_org(_uow(), REVIEWER, "nope", "county_reviewer", field="unit_org_code")
    assert refused.value.errors == [
        {"field": "unit_org_code", "in": "json", "messages": ["no organisation with this code"]}
    ]
    assert named_org(_uow(), REVIEWER, DISTRICT.code, "county_reviewer") == DISTRICT


ITEMS = TrackedItems("item", "item_id", "done_on", "Already done.", "Done before it was set.")


def test_closing_an_item_copies_the_list_and_refuses_twice_or_too_early() -> None:
    items = [{"id": "a", "due_on": "2026-03-10", "done_on": None}, {"id": "b", "due_on": "2026-04-10", "done_on": None}]
    copied, item = ITEMS.close(items, "a", dt.date(2026, 3, 5), dt.date(2026, 3, 1))
    assert item == {"id": "a", "due_on": "2026-03-10", "done_on": "2026-03-05"} and items[0]["done_on"] is None
    assert ITEMS.open(copied) == [copied[1]] and ITEMS.overdue(items, dt.date(2026, 3, 20)) == [items[0]]
    with pytest.raises(StateConflict, match=r"Already done\."):
        ITEMS.close(copied, "a", dt.date(2026, 3, 6), dt.date(2026, 3, 1))
    with pytest.raises(DomainError, match=r"Done before it was set\.") as early:
        ITEMS.close(items, "b", dt.date(2026, 2, 1), dt.date(2026, 3, 1))
    assert early.value.field == "done_on"
    with pytest.raises(DomainError, match=r"No such item\."):
        ITEMS.close(items, "c", dt.date(2026, 3, 5), dt.date(2026, 3, 1))
