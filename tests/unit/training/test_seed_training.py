"""Issue 17 item 7, the documents' training rules: only Helan's 「一般每年不少于1次集中培训」 sets a yearly
requirement (Jiaozuo and Yichun set none: nobody is flagged or reminded); the reminder comes before the year
ends; 「自治区级及以上专项培训」: a certificate of the autonomous region counts as provincial."""

from __future__ import annotations

import datetime as dt

import pytest
from notifications.adapters.templates import Templates
from notifications.bootstrap import load_rules
from notifications.domain.model import plan_reminders
from training.bootstrap import TrainingRules
from training.domain.model import Requirement, TrainingLevel, parse_level

from tests.unit.approvals.nominations_events import policy_document


@pytest.mark.parametrize(("policy_id", "required"), [("helan-2024", 1), ("jiaozuo-2022", 0), ("yichun-university", 0)])
def test_一般每年不少于1次集中培训_only_helan_sets_a_yearly_requirement(policy_id: str, required: int) -> None:
    requirement = Requirement.from_policy(policy_document(policy_id)["training"]["requirement"], default=1)
    assert requirement.centralized_per_year == required
    assert requirement.applies == (required > 0)
    assert requirement.met_by(0) == (required == 0)  # no requirement: never short of it, never flagged


def test_an_event_without_the_policys_requirement_takes_the_configured_default_which_is_none() -> None:
    assert TrainingRules().default_centralized_per_year == 0
    assert Requirement.from_policy(None, TrainingRules().default_centralized_per_year) == Requirement(0)


@pytest.mark.parametrize("written", ["自治区级", "自治区", "省（自治区）级", "省级", "provincial"])
def test_自治区级及以上专项培训_autonomous_region_certificates_are_provincial(written: str) -> None:
    assert parse_level(written) == TrainingLevel.PROVINCIAL


def test_the_training_reminder_comes_before_the_year_ends() -> None:
    """training publishes `requirement.unmet` from its check date; notifications reminds on its due date: both
    fall inside the year, the reminder after the check (so it is still planned) and before 31 December."""
    check_month, check_day = TrainingRules().check_on
    reminders = load_rules(Templates.load()).reminders
    unmet = {"person_user_id": "p-1", "year": 2026, "org_path": "/6401/640122/6401220001"}
    checked_at = dt.datetime(2026, check_month, check_day, 9, 0, tzinfo=dt.UTC)
    (plan,) = plan_reminders("training.requirement.unmet", unmet, reminders, [], now=checked_at)
    assert checked_at < plan.due_at < dt.datetime(2026, 12, 31, tzinfo=dt.UTC)
