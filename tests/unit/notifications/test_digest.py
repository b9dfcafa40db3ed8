"""The daily digest's rules: who is held, when the digest goes, what a choice may be, how it reads."""

from __future__ import annotations

import datetime as dt

from notifications.adapters.templates import Templates
from notifications.domain.model import Kind, Preferences, validate_digest

CN = dt.timezone(dt.timedelta(hours=8))


def test_only_email_of_kinds_that_may_be_switched_off_is_held() -> None:
    daily = Preferences(digest="daily")
    plain, mandatory = Kind("task_assigned", ("in_app", "email")), Kind("task_overdue", ("email",), True, ("email",))
    assert daily.holds_for_digest(plain, "email")
    assert not daily.holds_for_digest(plain, "in_app")
    assert not daily.holds_for_digest(plain, "wecom")
    assert not daily.holds_for_digest(mandatory, "email")
    assert not Preferences().holds_for_digest(plain, "email")


def test_the_digest_goes_at_the_next_local_send_time() -> None:
    prefs = Preferences(digest="daily")  # 08:00 Asia/Shanghai by default
    before = dt.datetime(2030, 5, 1, 7, 59, tzinfo=CN)
    assert prefs.next_digest_at(before) == dt.datetime(2030, 5, 1, 8, 0, tzinfo=CN)
    at_eight = dt.datetime(2030, 5, 1, 8, 0, tzinfo=CN)
    assert prefs.next_digest_at(at_eight) == dt.datetime(2030, 5, 2, 8, 0, tzinfo=CN)
    assert prefs.digest_date(dt.datetime(2030, 5, 2, 0, 0, tzinfo=dt.UTC)) == dt.date(2030, 5, 2)
    berlin = Preferences(digest="daily", digest_time=dt.time(18, 30), digest_timezone="Europe/Berlin")
    summer = dt.datetime(2030, 7, 1, 12, 0, tzinfo=dt.UTC)
    assert berlin.next_digest_at(summer) == dt.datetime(2030, 7, 1, 16, 30, tzinfo=dt.UTC)  # CEST


def test_digest_choices_are_checked_field_by_field() -> None:
    assert validate_digest(None, None, None) == []
    assert validate_digest("daily", "07:30", "Asia/Shanghai") == []
    problems = validate_digest("weekly", "7:30", "../etc/passwd")
    assert [field for field, _ in problems] == ["digest", "digest_time", "digest_timezone"]


def test_the_digest_reads_in_chinese_and_english_and_escapes_html() -> None:
    templates = Templates.load()
    context = {
        "date": "2030-05-01",
        "count": 1,
        "recipient": {"display_name": "王五"},
        "items": [{"subject": "<b>标题</b>", "body": "正文", "kind": "task_assigned", "time": "04-30 10:00"}],
    }
    zh = templates.render("daily_digest", "zh-CN", "email", context)
    assert zh.subject == "每日消息摘要（2030-05-01，共 1 条）" and zh.html
    assert "&lt;b&gt;标题&lt;/b&gt;" in zh.body and "<b>标题" not in zh.body
    en = templates.render("daily_digest", "en", "email", context)
    assert en.subject == "Your daily digest (2030-05-01, 1 messages)"
    assert "Hello 王五" in en.body
