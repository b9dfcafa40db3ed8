"""The evaluation-due reminder: yearly before each anniversary of starts_on, within the term, as a chain."""

from __future__ import annotations

import datetime as dt

from notifications.adapters.templates import Templates
from notifications.bootstrap import load_rules
from notifications.domain.model import (
    ReminderSettings,
    anniversary,
    evaluation_plan,
    next_evaluation_plan,
    plan_reminders,
    reminder_keys_cancelled_by,
    reminder_prefixes_cancelled_by,
)
from notifications.domain.rules import load_rulebook, resolve

CN = dt.timezone(dt.timedelta(hours=8))
SETTINGS = ReminderSettings(evaluation_due_days_before=30, term_ending_days_before=(90, 30))
MADE = {
    "appointment_id": "a1",
    "person_user_id": "u-cio",
    "person_name": "李四",
    "org_path": "/4108/410802/4108020001",
    "starts_on": "2024-09-01",
    "ends_on": "2027-08-31",
}


def test_the_first_reminder_is_n_days_before_the_first_anniversary() -> None:
    plans = plan_reminders("approvals.appointment.made", MADE, SETTINGS)
    evaluation = [p for p in plans if p.kind == "evaluation_due"]
    assert len(evaluation) == 1
    plan = evaluation[0]
    assert plan.subject_key == "evaluation:a1:2025"
    assert plan.due_at == dt.datetime(2025, 8, 2, 9, 0, tzinfo=CN)  # 30 days before 2025-09-01
    assert plan.data["period"] == 2025
    assert plan.data["anniversary"] == "2025-09-01"
    assert plan.data["person_user_id"] == "u-cio"
    # the term-ending reminders are still planned beside it
    assert sorted(p.kind for p in plans) == ["evaluation_due", "term_ending", "term_ending"]


def test_the_chain_runs_yearly_and_stops_with_the_term() -> None:
    first = evaluation_plan(MADE, SETTINGS)
    assert first is not None
    second = next_evaluation_plan(first.data, SETTINGS)
    assert second is not None and second.subject_key == "evaluation:a1:2026"
    third = next_evaluation_plan(second.data, SETTINGS)
    # a term ending the day before the anniversary still completes that year
    assert third is not None and third.data["anniversary"] == "2027-09-01"
    assert next_evaluation_plan(third.data, SETTINGS) is None


def test_without_a_term_the_chain_goes_on_and_the_configured_lead_is_used() -> None:
    settings = ReminderSettings(evaluation_due_days_before=10)
    plan = evaluation_plan({**MADE, "ends_on": None}, settings, 2040)
    assert plan is not None
    assert plan.due_at == dt.datetime(2040, 8, 22, 9, 0, tzinfo=CN)
    assert plan.data["days_left"] == 10


def test_a_late_recorded_appointment_starts_with_the_next_anniversary_not_past_ones() -> None:
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    plans = plan_reminders("approvals.appointment.renewed", {**MADE, "ends_on": None}, SETTINGS, now=now)
    assert [p.subject_key for p in plans if p.kind == "evaluation_due"] == ["evaluation:a1:2026"]


def test_no_start_date_no_reminder_and_leap_days_fall_back() -> None:
    assert evaluation_plan({**MADE, "starts_on": None}, SETTINGS) is None
    assert evaluation_plan(MADE, SETTINGS, 2024) is None  # period 0 is the start itself
    assert anniversary(dt.date(2024, 2, 29), 1) == dt.date(2025, 2, 28)
    assert anniversary(dt.date(2024, 2, 29), 4) == dt.date(2028, 2, 29)


def test_cancelled_by_the_evaluation_of_that_period_and_by_the_end_of_the_appointment() -> None:
    recorded = {"appointment_id": "a1", "year": 2025, "kind": "cio_annual"}
    assert reminder_keys_cancelled_by("approvals.evaluation.recorded", recorded) == ["evaluation:a1:2025"]
    biennial = {**recorded, "kind": "school_biennial"}
    assert reminder_keys_cancelled_by("approvals.evaluation.recorded", biennial) == []
    for ended in ("approvals.appointment.ended", "approvals.appointment.revoked"):
        assert reminder_prefixes_cancelled_by(ended, {"appointment_id": "a1"}) == ["evaluation:a1:"]
    renewed = {"appointment_id": "a2", "previous_appointment_id": "a1"}
    assert reminder_prefixes_cancelled_by("approvals.appointment.renewed", renewed) == ["evaluation:a1:"]


def test_the_rule_reminds_the_school_admins_and_the_cio_and_the_lead_is_configurable() -> None:
    templates = Templates.load()
    rulebook = load_rules(templates)
    assert rulebook.reminders.evaluation_due_days_before == 30
    (rule,) = rulebook.for_event("reminder.evaluation_due")

    class Directory:
        def holders(self, role: str, org_path: str) -> set[str]:
            return {"u-admin"} if (role, org_path) == ("school_admin", MADE["org_path"]) else set()

        def org_level(self, org_path: str) -> str | None:
            return None

    assert resolve(rule, MADE, Directory()) == ["u-admin", "u-cio"]
    plan = evaluation_plan(MADE, SETTINGS)
    assert plan is not None
    rendered = templates.render(rule.kind, "zh-CN", "in_app", plan.data)
    assert rendered.subject == "提醒：李四 的 2025 年度首席信息官测评将于 2025-09-01 到期"
    english = templates.render(rule.kind, "en", "in_app", plan.data)
    assert "in 30 days" in english.body

    raw = {
        "kinds": {"k": {}},
        "rules": [{"event": "a.b", "kind": "k", "recipients": [{"person_from": "x"}]}],
        "reminders": {"evaluation_due_days_before": 7},
    }
    assert load_rulebook(raw).reminders.evaluation_due_days_before == 7


def test_no_evaluation_reminders_where_the_policy_orders_none() -> None:
    """Issue 17 item 12: 宜春学院's policy orders no evaluation (evaluation.cadences: []), so its CIO is never
    reminded of one; Jiaozuo's 「首席信息官每年组织一次测评」 is reminded yearly."""
    yichun = {**MADE, "evaluation_cadences": []}
    assert evaluation_plan(yichun, SETTINGS) is None
    assert [p.kind for p in plan_reminders("approvals.appointment.made", yichun, SETTINGS)].count("evaluation_due") == 0
    jiaozuo = {
        **MADE,
        "evaluation_cadences": [
            {"kind": "cio_annual", "every_years": 1},
            {"kind": "school_biennial", "every_years": 2},
        ],
    }
    plan = evaluation_plan(jiaozuo, SETTINGS)
    assert plan is not None and plan.data["period"] == 2025
    # the next period's reminder keeps following the policy's cadences
    follow = next_evaluation_plan(plan.data, SETTINGS)
    assert follow is not None and follow.data["period"] == 2026
    only_biennial = {**MADE, "evaluation_cadences": [{"kind": "school_biennial", "every_years": 2}]}
    assert evaluation_plan(only_biennial, SETTINGS) is None


def test_每2年对学校信息化工作考核一次_is_the_schools_so_the_cio_is_not_reminded_of_it() -> None:
    """A school assessment (cadence subject school) is opened by the bureau for the school, with or without a CIO:
    even a yearly one reminds no CIO; the CIO's own yearly 测评 still does."""
    school_yearly = {
        **MADE,
        "evaluation_cadences": [{"kind": "school_biennial", "every_years": 1, "subject": "school"}],
    }
    assert evaluation_plan(school_yearly, SETTINGS) is None
    both = {
        **MADE,
        "evaluation_cadences": [
            {"kind": "cio_annual", "every_years": 1, "subject": "cio"},
            {"kind": "school_biennial", "every_years": 2, "subject": "school"},
        ],
    }
    plan = evaluation_plan(both, SETTINGS)
    assert plan is not None and plan.data["period"] == 2025


def test_每2年对学校信息化工作考核一次_an_overdue_rectification_tells_the_school_and_the_bureau() -> None:
    """「不合格者限期整改」: past the deadline, the school (its administrators and CIO) and the body that
    appointed are told."""
    rulebook = load_rules(Templates.load())
    (rule,) = rulebook.for_event("approvals.rectification.overdue")

    class Directory:
        def holders(self, role: str, org_path: str) -> set[str]:
            return {f"{role}@{org_path}"}

        def holders_within(self, role: str, org_path: str) -> set[str]:
            return set()

        def org_level(self, org_path: str) -> str | None:
            return None

    data = {
        "org_path": "/4108/410802/4108020001",
        "bureau_role": "city_reviewer",
        "bureau_org_path": "/4108",
        "due_on": "2023-03-01",
        "reason": "不合格",
    }
    assert sorted(resolve(rule, data, Directory())) == [
        "cio@/4108/410802/4108020001",
        "city_reviewer@/4108",
        "school_admin@/4108/410802/4108020001",
    ]
