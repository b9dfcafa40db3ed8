"""Review decisions and overdue tasks, handled against a fake unit of work (nothing starts)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from approvals.adapters.policy_snapshot import parse_policy
from approvals.domain.model import Nominee, OrgNode, ReviewCase, resolve_stages
from approvals.service_layer.reviews import Decide, decide, mark_overdue_tasks

from shared.errors import Forbidden, NotFound
from shared.principal import Grant, Principal
from tests.unit.approvals.fakes import FakeReviewsUnitOfWork
from tests.unit.approvals.nominations_events import policy_document

JIAOZUO = policy_document("jiaozuo-2022")
AT = dt.datetime(2022, 10, 1, tzinfo=dt.UTC)
CITY = OrgNode("4108", "焦作市教育局", "city", "/4108")
CITY_RUN_SCHOOL = OrgNode("4108000001", "焦作市第一中学", "school", "/4108/4108000001")

HEADTEACHER_OFFICE = Principal("school-admin", (Grant("school_admin", CITY_RUN_SCHOOL.path),))
CITY_REVIEWER = Principal("city-reviewer", (Grant("city_reviewer", CITY.path),))
AUDITOR = Principal("auditor", (Grant("auditor", CITY.path),))


def opened_case() -> ReviewCase:
    """焦教文〔2022〕60号, 市直各学校: the school's own stage, then the city."""
    policy = parse_policy(JIAOZUO)
    stages = resolve_stages(policy, CITY_RUN_SCHOOL.path, {"4108": CITY, "4108000001": CITY_RUN_SCHOOL})
    nominee = Nominee(uuid.uuid4(), uuid.uuid4(), "4108000001", CITY_RUN_SCHOOL.path, "焦作市第一中学", "u1", "张三")
    case = ReviewCase(nominee, policy, stages, AT)
    case.events.clear()
    for task in case.tasks:
        task.events.clear()
    return case


def test_the_schools_approval_passes_the_case_to_the_city_in_one_commit() -> None:
    case = opened_case()
    uow = FakeReviewsUnitOfWork(case)
    [unit_task] = case.tasks

    result = decide(uow, HEADTEACHER_OFFICE, Decide(unit_task.id, "approve", opinion="同意推荐"))

    assert uow.committed
    assert result.appointment is None
    assert [t.role for t in case.tasks if t.status == "open"] == ["city_reviewer"]
    assert "approvals.review.decided" in uow.event_types()
    assert uow.event_types()[-1] == "approvals.task.assigned"
    assert uow.audited_actions() == ["task.decided"]


def test_an_auditor_who_reads_the_task_may_not_decide_it() -> None:
    case = opened_case()
    uow = FakeReviewsUnitOfWork(case)

    with pytest.raises(Forbidden):
        decide(uow, AUDITOR, Decide(case.tasks[0].id, "approve"))
    assert not uow.committed


def test_a_task_of_another_role_does_not_exist_for_the_caller() -> None:
    case = opened_case()
    uow = FakeReviewsUnitOfWork(case)

    with pytest.raises(NotFound):
        decide(uow, CITY_REVIEWER, Decide(case.tasks[0].id, "approve"))
    assert not uow.committed
    assert case.tasks[0].status == "open"


def test_a_task_past_its_due_date_is_flagged_overdue_once() -> None:
    case = opened_case()
    uow = FakeReviewsUnitOfWork(case)
    case.tasks[0].due_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)

    assert mark_overdue_tasks(lambda: uow) == 1
    assert uow.event_types() == ["approvals.task.overdue"]
    assert uow.audited_actions() == ["task.overdue"]

    assert mark_overdue_tasks(lambda: uow) == 0
    assert uow.event_types() == ["approvals.task.overdue"]
