"""shared.aggregate: an aggregate records the event about it with its id as the subject and its own attributes read
into the event, so the payload is the one a full keyword list would build."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from shared.aggregate import EventSource
from shared.contracts.approvals import TaskOverdue
from shared.contracts.base import EventContract


class Task(EventSource):
    def __init__(self) -> None:
        self.id = uuid.uuid4()
        self.case_id = uuid.uuid4()
        self.nomination_id = uuid.uuid4()
        self.stage_name = "县级审核"
        self.role = "county_reviewer"
        self.org_code = "410821"
        self.org_path = "/4108/410821"
        self.due_at = dt.datetime(2024, 3, 1, 9, tzinfo=dt.UTC)
        self.events: list[Any] = []


def test_the_event_names_the_aggregate_as_its_subject_and_reads_the_rest_from_it() -> None:
    task = Task()

    task.tell(TaskOverdue, escalate_to_org_path="/4108", escalate_to_role="city_reviewer")

    [event] = task.events
    assert event == TaskOverdue(
        task_id=str(task.id),
        case_id=str(task.case_id),
        nomination_id=str(task.nomination_id),
        stage_name="县级审核",
        role="county_reviewer",
        org_code="410821",
        org_path="/4108/410821",
        due_at=task.due_at.isoformat(),
        escalate_to_org_path="/4108",
        escalate_to_role="city_reviewer",
    )
    assert event.subject == str(task.id)


def test_an_event_with_no_subject_field_is_refused() -> None:
    with pytest.raises(TypeError, match="no subject field"):
        Task().tell(EventContract)
