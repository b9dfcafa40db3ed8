"""避免重复采集: the directory's profile of a teacher (学历, 民族, 教龄, 职务, 职称, 政治面貌) as a rule."""

from __future__ import annotations

import datetime as dt

import pytest
from identity.domain.model import DomainError, User, clean_profile
from identity.domain.profile import profile_as_of

TODAY = dt.date(2026, 5, 1)


def test_避免重复采集_only_the_known_keys_are_kept_and_教龄_is_a_number_of_years() -> None:
    given = {"education": " 本科 ", "teaching_years": "18", "shoe_size": "42", "ethnicity": ""}
    assert clean_profile(given, TODAY) == {"education": "本科", "teaching_since": 2008}
    with pytest.raises(DomainError) as words:
        clean_profile({"teaching_years": "十八"})
    assert words.value.field == "teaching_years"
    with pytest.raises(DomainError):
        clean_profile({"teaching_years": 61})


def test_教龄_ages_a_year_each_year_from_the_year_teaching_began() -> None:
    """教龄 imported as 18 in 2026 is 19 on a form prefilled in 2027: the year teaching began is what is kept."""
    kept = clean_profile({"teaching_years": 18}, TODAY)
    assert kept == {"teaching_since": 2008}
    assert profile_as_of(kept, TODAY)["teaching_years"] == 18
    assert profile_as_of(kept, dt.date(2027, 9, 1)) == {"teaching_since": 2008, "teaching_years": 19}
    assert clean_profile({"teaching_since": 1990}, TODAY) == {"teaching_since": 1990}  # the year itself
    with pytest.raises(DomainError) as future:
        clean_profile({"teaching_since": 2030}, TODAY)
    assert future.value.field == "teaching_since"
    assert profile_as_of({"education": "本科"}, TODAY) == {"education": "本科"}  # nothing to count


def test_避免重复采集_a_profile_update_merges_and_is_published_once() -> None:
    user = User("t.sun", "孙老师", profile={"education": "本科", "ethnicity": "汉族"})
    assert user.events[0].payload()["user"]["profile"] == {"education": "本科", "ethnicity": "汉族"}
    user.events.clear()
    user.update_profile(profile={"professional_title": "高级教师"})
    assert user.profile == {"education": "本科", "ethnicity": "汉族", "professional_title": "高级教师"}
    (updated,) = user.events
    assert updated.payload()["changed"] == ["profile"]
    user.update_profile(profile={"education": "本科"})  # nothing new: nothing published
    assert len(user.events) == 1
