"""变更报备 notifies the bureau: the `approvals.appointment.filed` event approvals builds names the
appointing body, and notifications' own rule book (loaded as its worker loads it) sends it there.

Notifications' side is read with its own code (tests only; approvals never imports it), so a change of
either side's shape breaks this test.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import ClassVar

import pytest
from approvals.adapters.policy_snapshot import parse_policy
from approvals.domain import events
from approvals.domain.model import Appointment
from notifications.adapters.templates import Templates
from notifications.bootstrap import load_rules
from notifications.domain.rules import resolve

from tests.unit.approvals.nominations_events import policy_document

AT = dt.datetime(2024, 10, 1, tzinfo=dt.UTC)


class Directory:
    """Who holds which role where (notifications' projection of identity)."""

    GRANTS: ClassVar[dict[tuple[str, str], set[str]]] = {
        ("city_reviewer", "/4108"): {"jiaozuo-city"},
        ("county_reviewer", "/4108/410802"): {"jiaozuo-county"},
        ("school_admin", "/4108/410802/4108020001"): {"jiaozuo-school"},
        ("county_reviewer", "/6401/640122"): {"helan-county"},
        ("school_admin", "/6401/640122/6401220001"): {"helan-school"},
        ("party_committee", "/10417"): {"yichun-committee"},
        ("liaison", "/10417"): {"yichun-liaison"},
    }
    LEVELS: ClassVar[dict[str, str]] = {
        "/4108": "city",
        "/4108/410802": "county",
        "/6401": "city",
        "/6401/640122": "county",
    }

    def holders(self, role: str, org_path: str) -> set[str]:
        return set(self.GRANTS.get((role, org_path), set()))

    def org_level(self, org_path: str) -> str | None:
        return self.LEVELS.get(org_path, "school")


@pytest.mark.parametrize(
    ("policy_id", "org_code", "org_path", "appointing", "bureau"),
    [
        ("jiaozuo-2022", "4108020001", "/4108/410802/4108020001", ("city_reviewer", "/4108"), "jiaozuo-city"),
        ("helan-2024", "6401220001", "/6401/640122/6401220001", ("county_reviewer", "/6401/640122"), "helan-county"),
        ("yichun-university", "10417", "/10417", ("party_committee", "/10417"), "yichun-committee"),
    ],
)
def test_a_filed_change_reaches_the_body_that_appointed(
    policy_id: str, org_code: str, org_path: str, appointing: tuple[str, str], bureau: str
) -> None:
    snapshot = policy_document(policy_id)
    policy = parse_policy(snapshot)
    appointment = Appointment(
        person_user_id="cio-1", person_name="张三", org_code=org_code, org_path=org_path, term_number=1,
        starts_on=dt.date(2024, 9, 1), term=policy.term, training_requirement=policy.training_requirement,
        document_number="1号", round_id=uuid.uuid4(), nomination_id=uuid.uuid4(), case_id=uuid.uuid4(),
        policy=snapshot, policy_id=policy.id, appointing_role=appointing[0], appointing_org_path=appointing[1], at=AT,
    )  # fmt: skip
    appointment.file_change("职务变更：任副校长", {"position": "副校长"}, "school-admin", AT)
    filed = appointment.events[-1]
    assert isinstance(filed, events.AppointmentFiled)
    data = filed.payload()
    assert (data["bureau_role"], data["bureau_org_path"], data["person_name"]) == (*appointing, "张三")

    templates = Templates.load()
    book = load_rules(templates)
    assert filed.event_type in book.event_types  # notifications' queue is bound to it
    [rule] = book.for_event(filed.event_type)
    assert resolve(rule, data, Directory()) == [bureau]
    message = templates.render(rule.kind, "zh-CN", "in_app", {**data, "school_name": "某校"})
    assert "变更报备" in message.subject and "职务变更：任副校长" in message.body
