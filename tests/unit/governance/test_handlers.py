"""Handlers with fakes (no database): approvals' decisions reach only project plans, once."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

from governance.domain.model import PlanContent, PlanStatus, ProjectPlan
from governance.service_layer import plans

from shared.bus.envelope import CloudEvent

AT = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)


class FakePlans:
    def __init__(self, *found: ProjectPlan) -> None:
        self.found = {p.id: p for p in found}

    def get(self, plan_id: uuid.UUID, *, lock: bool = False) -> ProjectPlan | None:
        return self.found.get(plan_id)


class FakeUnitOfWork:
    def __init__(self, *found: ProjectPlan) -> None:
        self.plans = FakePlans(*found)
        self.audited: list[str] = []

    def audit(self, action: str, **_: Any) -> None:
        self.audited.append(action)


def submitted_plan() -> ProjectPlan:
    p = ProjectPlan(
        unit_org_code="150302",
        unit_org_path="/1503/150302",
        unit_name="海勃湾区教育局",
        content=PlanContent(
            title="智慧校园",
            budget=decimal.Decimal("100"),
            funding_source="区级财政",
            functions=["智慧课堂"],
            data_collected=[],
            connects_to=[],
            builds_data_center=False,
            starts_on=dt.date(2024, 3, 1),
            ends_on=dt.date(2024, 12, 31),
            milestones=[],
            attachments=[],
        ),
        flags=[],
        by="district",
        at=AT,
    )
    p.submit(None, "district", AT)
    return p


def decided(plan_id: uuid.UUID, kind: str, outcome: str = "approved") -> CloudEvent:
    return CloudEvent(
        "approvals.review.decided",
        "/cio/approvals",
        {
            "case_id": "c1",
            "task_id": "t1",
            "nomination_id": str(plan_id),
            "stage_name": "审核决定",
            "stage_key": "decision",
            "decision": "approve",
            "opinion": "建议复用市级平台",
            "outcome": outcome,
            "decided_by": "city",
            "decided_at": AT.isoformat(),
            "kind": kind,
        },
    )


def test_a_decision_on_a_cio_nomination_is_not_the_plans_business() -> None:
    p = submitted_plan()
    uow = FakeUnitOfWork(p)
    plans.on_review_decided(decided(p.id, "cio_nomination"), uow)  # type: ignore[arg-type]
    assert p.status == PlanStatus.IN_REVIEW and uow.audited == []


def test_the_final_approval_of_a_plan_case_approves_the_plan_once() -> None:
    p = submitted_plan()
    uow = FakeUnitOfWork(p)
    for _ in range(2):
        plans.on_review_decided(decided(p.id, "project_plan"), uow)  # type: ignore[arg-type]
    assert p.status == PlanStatus.APPROVED and p.suggestions == "建议复用市级平台"
    assert uow.audited == ["plan.review_applied"]


def test_a_decision_for_a_plan_this_database_never_had_is_dropped() -> None:
    plans.on_review_decided(decided(uuid.uuid4(), "project_plan"), FakeUnitOfWork())  # type: ignore[arg-type]
