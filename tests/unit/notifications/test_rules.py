"""The rule book and templates as data: checked at load, recipients resolved from the grant projection."""

from __future__ import annotations

import datetime as dt

import pytest
from notifications.adapters.templates import Templates
from notifications.bootstrap import load_rules
from notifications.domain.model import (
    Channel,
    Kind,
    Preferences,
    ReminderSettings,
    RetryPolicy,
    plan_reminders,
    reminder_keys_cancelled_by,
    validate_preferences,
)
from notifications.domain.rules import Rule, RulesError, Selector, ancestors, load_rulebook, resolve


class FakeDirectory:
    def __init__(self, grants: list[tuple[str, str, str]], levels: dict[str, str]) -> None:
        self.grants = grants
        self.levels = levels

    def holders(self, role: str, org_path: str) -> set[str]:
        return {u for u, r, p in self.grants if r == role and p == org_path}

    def holders_within(self, role: str, org_path: str) -> set[str]:
        return {u for u, r, p in self.grants if r == role and (p == org_path or p.startswith(org_path + "/"))}

    def org_level(self, org_path: str) -> str | None:
        return self.levels.get(org_path)


LEVELS = {"/4108": "city", "/4108/410802": "county", "/4108/410802/4108020001": "school", "/4108/410821": "county"}
DIRECTORY = FakeDirectory(
    [
        ("county-1", "county_reviewer", "/4108/410802"),
        ("county-2", "county_reviewer", "/4108/410821"),
        ("city-1", "city_reviewer", "/4108"),
        ("school-1", "school_admin", "/4108/410802/4108020001"),
        ("school-2", "school_admin", "/4108/410821/4108210001"),
        ("school-city", "school_admin", "/4108/4108000001"),
        ("school-elsewhere", "school_admin", "/6401/640122/6401220001"),
        ("trainer", "training_admin", "/4108"),
    ],
    LEVELS,
)


@pytest.fixture(scope="module")
def templates() -> Templates:
    return Templates.load()


def test_shipped_rules_and_templates_load(templates: Templates) -> None:
    book = load_rules(templates)
    assert "approvals.task.assigned" in book.event_types
    assert book.kinds["task_overdue"].mandatory
    assert book.reminders.term_ending_days_before == (90, 30)


def test_bad_rules_name_every_problem() -> None:
    with pytest.raises(RulesError) as caught:
        load_rulebook(
            {
                "kinds": {"a": {"default_channels": ["in_app", "pigeon"]}},
                "rules": [
                    {"event": "x.y.z", "kind": "missing", "recipients": [{"role": "r"}]},
                    {
                        "event": "x.y.w",
                        "kind": "a",
                        "recipients": [{"role": "r", "role_from": "f", "org_path_from": "p"}],
                    },
                    {"event": "x.y.v", "kind": "a", "recipients": [{"person_from": "p", "role": "r"}]},
                ],
            },
            template_kinds=["b"],
        )
    problems = caught.value.problems
    assert any("unknown channel 'pigeon'" in p for p in problems)
    assert any("rules[0].kind" in p for p in problems)
    assert any("rules[0].recipients[0]: needs org_path_from" in p for p in problems)
    assert any("rules[1].recipients[0]: needs exactly one of role, role_from" in p for p in problems)
    assert any("rules[2].recipients[0]: person_from stands alone" in p for p in problems)
    assert any("kinds.a: no zh-CN template" in p for p in problems)


def test_task_reviewers_are_the_role_holders_at_the_tasks_org_only() -> None:
    rule = Rule("approvals.task.assigned", "task_assigned", (Selector(role_from="role", org_path_from="org_path"),))
    assert resolve(rule, {"role": "county_reviewer", "org_path": "/4108/410802"}, DIRECTORY) == ["county-1"]


def test_escalation_goes_to_the_nearest_bureau_of_the_level_above() -> None:
    rule = Rule(
        "approvals.task.overdue",
        "task_overdue",
        (
            Selector(role_from="role", org_path_from="org_path"),
            Selector(role="city_reviewer", org_path_from="org_path", ancestor_level="city"),
        ),
    )
    data = {"role": "county_reviewer", "org_path": "/4108/410802"}
    assert resolve(rule, data, DIRECTORY) == ["county-1", "city-1"]


def test_submission_reaches_the_county_above_the_school_and_the_named_person() -> None:
    rule = Rule(
        "x",
        "k",
        (
            Selector(role="county_reviewer", org_path_from="school_org_path", ancestor_level="county"),
            Selector(person_from="candidate_user_id"),
        ),
    )
    data = {"school_org_path": "/4108/410802/4108020001", "candidate_user_id": "cand"}
    assert resolve(rule, data, DIRECTORY) == ["county-1", "cand"]


def test_学校被告知批次开启_a_city_round_reaches_every_school_administrator_in_the_city(templates: Templates) -> None:
    """Issue 17 item 6: told when the round opens, every school of the issuer's subtree (市直 schools too),
    and the county bureaus under it; nobody outside the city."""
    (rule,) = load_rules(templates).for_event("nominations.round.opened")
    told = resolve(rule, {"issuing_org_path": "/4108"}, DIRECTORY)
    assert sorted(told) == ["county-1", "county-2", "school-1", "school-2", "school-city"]
    county_round = resolve(rule, {"issuing_org_path": "/4108/410802"}, DIRECTORY)
    assert sorted(county_round) == ["county-1", "school-1"]


def test_within_does_not_combine_with_looking_up_the_tree() -> None:
    with pytest.raises(RulesError, match="within reaches down the tree"):
        load_rulebook(
            {
                "kinds": {"a": {}},
                "rules": [
                    {
                        "event": "x.y",
                        "kind": "a",
                        "recipients": [{"role": "r", "org_path_from": "p", "within": True, "up_tree": True}],
                    }
                ],
            }
        )


def test_overdue_escalates_to_the_body_the_policy_names_not_a_hard_wired_city_reviewer(templates: Templates) -> None:
    """Issue 17 item 10: the shipped rule follows the event's escalate_to_*; without one, only the assignees."""
    (rule,) = load_rules(templates).for_event("approvals.task.overdue")
    helan_top = {"role": "county_reviewer", "org_path": "/4108/410802", "escalate_to_role": None}
    assert resolve(rule, helan_top, DIRECTORY) == ["county-1"]
    to_city = {**helan_top, "escalate_to_role": "city_reviewer", "escalate_to_org_path": "/4108"}
    assert resolve(rule, to_city, DIRECTORY) == ["county-1", "city-1"]


def test_up_tree_finds_the_nearest_holder() -> None:
    rule = Rule("x", "k", (Selector(role="training_admin", org_path_from="org_path", up_tree=True),))
    assert resolve(rule, {"org_path": "/4108/410802/4108020001"}, DIRECTORY) == ["trainer"]
    assert ancestors("/a/b/c") == ["/a/b", "/a"]


def test_missing_translation_falls_back_to_chinese(templates: Templates) -> None:
    rendered = templates.render("training_reminder", "en", "in_app", {"year": 2025, "required": 1, "completed": 0})
    assert rendered.subject == "提醒：2025 年度培训要求尚未完成"
    english = templates.render("task_due_reminder", "en", "in_app", {"stage_name": "county", "due_at": "x"})
    assert english.subject.startswith("Reminder")
    unknown = templates.render("task_due_reminder", "fr", "sms", {"stage_name": "县区", "due_at": "x"})
    assert unknown.subject.startswith("提醒")


def test_email_html_is_autoescaped_and_text_is_not(templates: Templates) -> None:
    context = {"school_name": "<script>x</script>", "stage_name": "县区审核", "due_at": "2025-10-10", "recipient": {}}
    email = templates.render("task_assigned", "zh-CN", "email", context)
    assert email.html and "&lt;script&gt;" in email.body and "<script>" not in email.body
    assert email.subject == "待审核：<script>x</script> 首席信息官推荐"
    fallback = templates.render("appointment_made", "zh-CN", "email", {"person_name": "<b>李</b>"})
    assert "&lt;b&gt;李&lt;/b&gt;" in fallback.body
    text = templates.render("task_assigned", "zh-CN", "in_app", context)
    assert "<script>x</script>" in text.body and not text.html


def test_bad_template_is_refused_at_load() -> None:
    with pytest.raises(RulesError) as caught:
        Templates({"k": {"zh-CN": {"default": {"subject": "{{ x", "body": "b"}}, "en": {"fax": {"body": "b"}}}})
    assert any("templates.k.zh-CN.default.subject" in p for p in caught.value.problems)
    assert any("templates.k.en.fax: unknown channel" in p for p in caught.value.problems)


KINDS = {
    "task_overdue": Kind("task_overdue", ("in_app", "email", "sms"), True, ("in_app", "email", "sms")),
    "review_decided": Kind("review_decided", ("in_app", "email")),
}


def test_mandatory_kind_cannot_be_switched_off() -> None:
    problems = validate_preferences(KINDS, {"task_overdue": ["in_app"], "review_decided": []}, {})
    assert problems == [("channels.task_overdue", "task_overdue is mandatory and cannot be switched off on email, sms")]
    assert validate_preferences(KINDS, {"nope": [], "review_decided": ["fax"]}, {"webhook_url": "ftp://x"}) == [
        ("channels.nope", "unknown kind; one of review_decided, task_overdue"),
        ("channels.review_decided", "unknown channels ['fax']; one of dingtalk, email, in_app, sms, webhook, wecom"),
        ("robots.webhook_url", "must be an http(s) URL"),
    ]


def test_in_app_is_always_on_and_defaults_apply() -> None:
    prefs = Preferences(channels={"review_decided": ("wecom",)})
    assert prefs.channels_for(KINDS["review_decided"]) == [Channel.IN_APP, "wecom"]
    assert Preferences().channels_for(KINDS["task_overdue"]) == ["in_app", "email", "sms"]


def test_backoff_doubles_then_gives_up() -> None:
    policy = RetryPolicy(max_attempts=3, base_seconds=10, max_seconds=15)
    now = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    assert policy.after_failure(1, now) == ("pending", now + dt.timedelta(seconds=10))
    assert policy.after_failure(2, now) == ("pending", now + dt.timedelta(seconds=15))
    assert policy.after_failure(3, now) == ("dead", None)


def test_reminders_are_planned_and_cancelled_by_their_reason() -> None:
    settings = ReminderSettings(round_deadline_days_before=3, term_ending_days_before=(90, 30))
    plans = plan_reminders(
        "nominations.round.opened",
        {"round_id": "r1", "deadline": "2025-10-10T17:00:00+08:00", "title": "t"},
        settings,
        [{"code": "s1", "path": "/a/s1"}, {"code": "s2", "path": "/a/s2"}],
    )
    assert [p.subject_key for p in plans] == ["round:r1:s1", "round:r1:s2"]
    assert plans[0].due_at == dt.datetime(2025, 10, 7, 17, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    terms = plan_reminders("approvals.appointment.made", {"appointment_id": "a1", "ends_on": "2028-09-01"}, settings)
    assert [(p.due_at.date().isoformat(), p.data["days_left"]) for p in terms] == [
        ("2028-06-03", 90),
        ("2028-08-02", 30),
    ]
    submitted = {"round_id": "r1", "school_org_code": "s1"}
    assert reminder_keys_cancelled_by("nominations.nomination.submitted", submitted) == ["round:r1:s1"]
    assert reminder_keys_cancelled_by("approvals.review.decided", {"task_id": "t1"}) == ["task:t1"]
    assert reminder_keys_cancelled_by("approvals.appointment.renewed", {"previous_appointment_id": "a1"}) == [
        "appointment:a1"
    ]


def test_报送至市教育局_a_countys_batch_reaches_the_city_reviewers(templates: Templates) -> None:
    """Issue 17 item 11: the body above the county that sent its batch (the event names it) is told, nobody else."""
    (rule,) = load_rules(templates).for_event("nominations.batch.submitted")
    told = resolve(rule, {"to_role": "city_reviewer", "to_org_path": "/4108", "org_path": "/4108/410802"}, DIRECTORY)
    assert told == ["city-1"]
    rendered = templates.render(
        "batch_submitted",
        "zh-CN",
        "in_app",
        {"org_name": "解放区教育局", "round_title": "2022年推荐", "count": 2, "opinion": "同意推荐"},
    )
    assert "解放区教育局" in rendered.subject and "推荐表 2 份" in rendered.body


def test_名单公示_an_objection_reaches_the_body_that_published_the_list(templates: Templates) -> None:
    (rule,) = load_rules(templates).for_event("approvals.objection.received")
    told = resolve(rule, {"publisher_role": "city_reviewer", "publisher_org_path": "/4108"}, DIRECTORY)
    assert told == ["city-1"]


def test_月调度_a_districts_reminder_reaches_its_bureau_before_and_after_the_deadline(templates: Templates) -> None:
    (rule,) = load_rules(templates).for_event("governance.report.reminder_due")
    data = {
        "district_code": "410821",
        "district_path": "/4108/410821",
        "district_name": "修武县教育局",
        "month": "2027-01",
        "deadline": "2027-01-25",
        "reminder": "before",
    }
    assert resolve(rule, data, DIRECTORY) == ["county-2"]
    before = templates.render(rule.kind, "zh-CN", "in_app", data)
    after = templates.render(rule.kind, "zh-CN", "in_app", {**data, "reminder": "after"})
    assert before.subject.startswith("提醒") and "2027-01-25" in before.subject
    assert after.subject.startswith("催报") and "已逾期" in after.subject


def test_每学期至少召开1次_a_semester_without_a_committee_meeting_tells_the_cio(templates: Templates) -> None:
    (rule,) = load_rules(templates).for_event("governance.committee.meeting_missed")
    yichun = FakeDirectory([("cio-y", "cio", "/10417"), ("president-y", "university_president", "/10417")], {})
    data = {"org_code": "10417", "org_path": "/10417", "semester": "2026-spring", "required": 1, "held": 0}
    assert resolve(rule, data, yichun) == ["cio-y", "president-y"]
    # The semester in words, as the portal's committee page names it, not by governance's key.
    zh = templates.render(rule.kind, "zh-CN", "in_app", data)
    assert zh.subject == "网络安全和信息化委员会2026年春季学期未召开会议"
    english = templates.render(rule.kind, "en", "in_app", data)
    assert english.subject.endswith("did not meet in spring 2026")
    assert "2026-spring" not in english.body
    autumn = templates.render(rule.kind, "zh-CN", "email", {**data, "semester": "2026-autumn"})
    assert "2026年秋季学期" in autumn.subject and "2026年秋季学期" in autumn.body
