"""The shapes of rules.yaml and templates.yaml are JSON Schemas (rules.schema.yaml, templates.schema.yaml): what
does not fit is refused at load, named by its place."""

from __future__ import annotations

import pytest
from notifications.adapters.templates import Templates
from notifications.domain.rules import RulesError, load_rulebook


def _rules(**selector: object) -> dict[str, object]:
    return {"kinds": {"k": {}}, "rules": [{"event": "a.b", "kind": "k", "recipients": [selector]}]}


def test_a_selector_with_an_unknown_key_is_refused_with_its_place() -> None:
    with pytest.raises(RulesError, match=r"rules\[0\]\.recipients\[0\]: Additional properties .*'rolle'"):
        load_rulebook(_rules(rolle="school_admin", org_path_from="org_path"))


def test_an_escalation_to_a_level_that_does_not_exist_is_refused() -> None:
    with pytest.raises(RulesError, match=r"rules\[0\]\.recipients\[0\]\.ancestor_level: 'town' is not one of"):
        load_rulebook(_rules(role="r", org_path_from="org_path", ancestor_level="town"))


def test_an_event_type_needs_its_dots_and_a_rule_its_recipients() -> None:
    raw = {"kinds": {"k": {}}, "rules": [{"event": "nodots", "kind": "k", "recipients": []}]}
    with pytest.raises(RulesError) as caught:
        load_rulebook(raw)
    assert any(p.startswith("rules[0].event: 'nodots' does not match") for p in caught.value.problems)
    assert any(p.startswith("rules[0].recipients: [] should be non-empty") for p in caught.value.problems)


def test_a_reminder_a_year_ahead_is_out_of_range() -> None:
    raw = _rules(person_from="x") | {"reminders": {"evaluation_due_days_before": 365}}
    with pytest.raises(RulesError, match=r"reminders\.evaluation_due_days_before: 365 is greater than the maximum"):
        load_rulebook(raw)


def test_a_template_has_only_a_subject_and_a_body_and_a_chinese_default() -> None:
    with pytest.raises(RulesError) as caught:
        Templates({"k": {"en": {"default": {"subject": "s", "body": "b", "footer": "f"}}}})
    assert any(p.startswith("templates.k: 'zh-CN' is a required property") for p in caught.value.problems)
    assert any(p.startswith("templates.k.en.default: Additional properties") for p in caught.value.problems)
